"""Persisted SLA clocks on SQLite and PostgreSQL: scheduling, pauses, re-routes, closing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update

from desk import repositories as repo
from desk.lifecycle import change_status
from desk.models import Agent, Commune, Organisation, School, SlaClock, Territory, Ticket
from desk.sla_store import recompute_clocks, schedule_clocks, ticket_clocks
from domain.uai import make_uai
from domain.vocabulary import TicketStatus as S
from routing.calendar import Calendar
from routing.clocks import Policy
from routing.territory import load_territory

PARIS = ZoneInfo("Europe/Paris")
SEM = load_territory("sem")
CALENDAR = Calendar.from_dict(SEM.timezone, SEM.calendar)
REPLACEMENT = Policy.from_dict("replacement", SEM.sla["replacement"])
DECLARATION = Policy.from_dict("declaration", SEM.sla["declaration"])


def paris(*args: int) -> datetime:
    """A Paris wall-clock instant, in UTC."""
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


@dataclass
class World:
    territory: Territory
    sem: Organisation
    commune: Organisation
    school: School
    agents: dict[str, Agent]


async def seed_world(session) -> World:
    """The SEM territory with its operator, one commune, one school and agents in both organisations."""
    territory = await repo.ensure_territory(session, "sem", "Saint-Étienne Métropole")
    sem = await repo.ensure_organisation(session, territory.id, kind="sem", slug="sem", name="SEM")
    commune = await repo.ensure_organisation(
        session, territory.id, kind="commune", slug="commune-firminy", name="Commune de Firminy",
        email="mairie@firminy.test",
    )
    row = Commune(territory_id=territory.id, insee_code="42095", name="Firminy", organisation_id=commune.id)
    session.add(row)
    await session.flush()
    school = School(territory_id=territory.id, uai=make_uai("0421001"), name="École Jules Ferry",
                    status="public", commune_id=row.id)
    session.add(school)
    agents = {
        "commune_agent": Agent(organisation_id=commune.id, email="agent@firminy.test", name="Agnès", password_hash="x"),
        "commune_chief": Agent(organisation_id=commune.id, email="chef@firminy.test", name="Claire",
                               password_hash="x", role="supervisor"),
        "commune_gone": Agent(organisation_id=commune.id, email="parti@firminy.test", name="Paul",
                              password_hash="x", active=False),
        "sem_agent": Agent(organisation_id=sem.id, email="agent@sem.test", name="Sami", password_hash="x"),
        "sem_chief": Agent(organisation_id=sem.id, email="mission@sem.test", name="Maud",
                           password_hash="x", role="supervisor"),
    }
    session.add_all(agents.values())
    await session.flush()
    return World(territory, sem, commune, school, agents)


async def open_ticket(session, world: World, opened: datetime, *, policy: Policy = REPLACEMENT,
                      subject: str = "Vidéoprojecteur en panne", org: Organisation | None = None) -> Ticket:
    """A ticket of the commune with its clocks scheduled."""
    ticket = await repo.create_ticket(
        session, territory=world.territory, organisation=org or world.commune, intent="hardware_failure",
        role="school_authority", subject=subject, school=world.school, sla_policy=str(policy.name),
        opened_at=opened,
    )
    await schedule_clocks(session, ticket, policy, CALENDAR)
    return ticket


def by_threshold(rows: list[SlaClock]) -> dict[str, SlaClock]:
    return {row.threshold: row for row in rows}


async def test_replacement_gets_warning_target_and_breach(db) -> None:
    """Opened Friday 10:00: warning at 75 % of 48 h ouvrées (Monday 22:00), target Tuesday 10:00, breach Wednesday 10:00."""
    async with db.sessions.begin() as session:
        world = await seed_world(session)
        ticket = await open_ticket(session, world, paris(2026, 1, 9, 10))
        rows = by_threshold(await ticket_clocks(session, ticket.id))
    assert set(rows) == {"warning", "target", "breach"}
    assert rows["warning"].deadline == paris(2026, 1, 12, 22)
    assert rows["target"].deadline == paris(2026, 1, 13, 10)
    assert rows["breach"].deadline == paris(2026, 1, 14, 10)
    assert all(r.due_at == r.deadline and not r.fired and r.policy == "replacement" for r in rows.values())


async def test_declaration_has_no_target(db) -> None:
    """Declaration (48 h ouvrées, no target): a warning at 75 % of the breach, and the breach."""
    async with db.sessions.begin() as session:
        world = await seed_world(session)
        ticket = await open_ticket(session, world, paris(2026, 1, 9, 10), policy=DECLARATION)
        rows = by_threshold(await ticket_clocks(session, ticket.id))
    assert set(rows) == {"warning", "breach"}
    assert rows["warning"].deadline == paris(2026, 1, 12, 22)
    assert rows["breach"].deadline == paris(2026, 1, 13, 10)


async def test_waiting_pauses_then_shifts_unfired_rows_only(db) -> None:
    """Five hours waiting on the teacher move every unfired threshold by five hours; a fired one stays."""
    opened = paris(2026, 1, 12, 9)
    async with db.sessions.begin() as session:
        world = await seed_world(session)
        ticket = await open_ticket(session, world, opened)
        await session.execute(
            update(SlaClock).where(SlaClock.ticket_id == ticket.id, SlaClock.threshold == "warning")
            .values(fired=True, fired_at=paris(2026, 1, 13, 21))
        )
        change_status(ticket, S.WAITING, at=paris(2026, 1, 12, 10))
        paused = by_threshold(await recompute_clocks(session, ticket, REPLACEMENT, CALENDAR, paris(2026, 1, 12, 10)))
        assert paused["target"].due_at is None and paused["breach"].due_at is None
        change_status(ticket, S.IN_PROGRESS, at=paris(2026, 1, 12, 15))
        rows = by_threshold(await recompute_clocks(session, ticket, REPLACEMENT, CALENDAR, paris(2026, 1, 12, 15)))
    assert rows["target"].deadline == rows["target"].due_at == paris(2026, 1, 14, 14)
    assert rows["breach"].deadline == paris(2026, 1, 15, 14)
    assert rows["warning"].fired and rows["warning"].deadline == paris(2026, 1, 13, 21)


async def test_pauses_come_from_history_not_a_counter(db) -> None:
    """Recomputing twice, or after two waits, always gives the deadline the whole history implies."""
    async with db.sessions.begin() as session:
        world = await seed_world(session)
        ticket = await open_ticket(session, world, paris(2026, 1, 12, 9))
        for start, end in ((10, 12), (14, 15)):
            change_status(ticket, S.WAITING, at=paris(2026, 1, 12, start))
            await recompute_clocks(session, ticket, REPLACEMENT, CALENDAR, paris(2026, 1, 12, start))
            change_status(ticket, S.IN_PROGRESS, at=paris(2026, 1, 12, end))
            await recompute_clocks(session, ticket, REPLACEMENT, CALENDAR, paris(2026, 1, 12, end))
        again = by_threshold(await recompute_clocks(session, ticket, REPLACEMENT, CALENDAR, paris(2026, 1, 13, 9)))
    assert again["target"].deadline == paris(2026, 1, 14, 12)


async def test_reroute_to_another_policy_replaces_unfired_rows(db) -> None:
    """A policy change drops the old policy's unfired rows, keeps its fired ones and schedules the new policy."""
    async with db.sessions.begin() as session:
        world = await seed_world(session)
        ticket = await open_ticket(session, world, paris(2026, 1, 9, 10))
        await session.execute(
            update(SlaClock).where(SlaClock.ticket_id == ticket.id, SlaClock.threshold == "warning")
            .values(fired=True, fired_at=paris(2026, 1, 12, 22))
        )
        ticket.sla_policy = "declaration"
        rows = await recompute_clocks(session, ticket, DECLARATION, CALENDAR, paris(2026, 1, 13, 8))
    kept = {(r.policy, r.threshold, r.fired) for r in rows}
    assert kept == {("replacement", "warning", True), ("declaration", "warning", False),
                    ("declaration", "breach", False)}


async def test_resolved_drops_unfired_rows_and_reopened_restores_them(db) -> None:
    """Resolving stops the clock; reopening brings the rows back without counting the resolved days."""
    async with db.sessions.begin() as session:
        world = await seed_world(session)
        ticket = await open_ticket(session, world, paris(2026, 1, 12, 9))
        change_status(ticket, S.RESOLVED, at=paris(2026, 1, 12, 10))
        assert await recompute_clocks(session, ticket, REPLACEMENT, CALENDAR, paris(2026, 1, 12, 10)) == []
        change_status(ticket, S.REOPENED, at=paris(2026, 1, 13, 10))
        rows = by_threshold(await recompute_clocks(session, ticket, REPLACEMENT, CALENDAR, paris(2026, 1, 13, 10)))
    assert rows["target"].deadline == paris(2026, 1, 15, 9)


async def test_wrong_policy_is_refused(db) -> None:
    """recompute_clocks refuses a policy other than the one named by the ticket's sla_policy column."""
    async with db.sessions.begin() as session:
        world = await seed_world(session)
        ticket = await open_ticket(session, world, paris(2026, 1, 9, 10))
        try:
            await recompute_clocks(session, ticket, DECLARATION, CALENDAR, paris(2026, 1, 9, 11))
        except ValueError as exc:
            assert "replacement" in str(exc)
        else:
            raise AssertionError("a mismatched policy was accepted")


async def stored_deadline(db, ticket_id: int) -> tuple[datetime | None, datetime | None]:
    """(tickets.sla_deadline, the same computed from the clock rows now), read in a fresh session."""
    from sqlalchemy import select

    from desk.sla_store import queue_deadline_of

    async with db.sessions() as session:
        row = (await session.execute(
            select(Ticket.sla_deadline, queue_deadline_of(Ticket.id)).where(Ticket.id == ticket_id)
        )).one()
    return row[0], row[1]


async def test_queue_deadline_follows_the_lifecycle(db) -> None:
    """tickets.sla_deadline is the target while it runs, NULL while waiting, shifted after the wait,
    NULL once resolved, back (without the resolved days) when reopened; always what the rows say."""
    opened = paris(2026, 1, 12, 9)  # Monday: target Wednesday 09:00, breach Thursday 09:00
    steps: list[tuple[S | None, datetime, datetime | None]] = [
        (None, opened, paris(2026, 1, 14, 9)),
        (S.WAITING, paris(2026, 1, 12, 10), None),
        (S.IN_PROGRESS, paris(2026, 1, 12, 15), paris(2026, 1, 14, 14)),
        (S.RESOLVED, paris(2026, 1, 13, 9), None),
        (S.REOPENED, paris(2026, 1, 14, 9), paris(2026, 1, 15, 14)),
    ]
    async with db.sessions.begin() as session:
        ticket = await open_ticket(session, await seed_world(session), opened)
        ticket_id = ticket.id
    for status, at, expected in steps:
        async with db.sessions.begin() as session:
            ticket = await session.get(Ticket, ticket_id)
            if status is not None:
                await session.refresh(ticket, ["events"])
                change_status(ticket, status, at=at)
                await recompute_clocks(session, ticket, REPLACEMENT, CALENDAR, at)
            assert ticket.sla_deadline == expected, status  # the loaded ticket is kept in line too
        stored, computed = await stored_deadline(db, ticket_id)
        assert stored == computed == expected, status


async def test_queue_deadline_keeps_the_ticket_untouched(db) -> None:
    """Refreshing the deadline is not an update of the ticket: updated_at stays."""
    from desk.sla_store import refresh_queue_deadlines

    async with db.sessions.begin() as session:
        ticket = await open_ticket(session, await seed_world(session), paris(2026, 1, 12, 9))
        ticket_id, updated = ticket.id, ticket.updated_at
    async with db.sessions.begin() as session:
        assert await refresh_queue_deadlines(session, [ticket_id]) == {ticket_id: paris(2026, 1, 14, 9)}
    async with db.sessions() as session:
        assert (await session.get(Ticket, ticket_id)).updated_at == updated


async def test_migration_0014_back_fills_the_queue_deadline(db) -> None:
    """Revision 0014 on a database with tickets: the column is filled from the clock rows
    (a fired target gives way to the breach; no clock, NULL) and both queue indexes exist."""
    from sqlalchemy import inspect, select

    from desk.migrate import downgrade, upgrade

    async with db.sessions.begin() as session:
        world = await seed_world(session)
        running = await open_ticket(session, world, paris(2026, 1, 12, 9))
        past_target = await open_ticket(session, world, paris(2026, 1, 12, 9), subject="Tablette")
        await session.execute(update(SlaClock).where(SlaClock.ticket_id == past_target.id,
                                                     SlaClock.threshold == "target").values(fired=True))
        no_clock = await repo.create_ticket(
            session, territory=world.territory, organisation=world.commune, intent="consumables",
            role="school_authority", subject="Cartouches", school=world.school)
        ids = (running.id, past_target.id, no_clock.id)
    await downgrade(db.engine, "0009")
    async with db.engine.connect() as conn:
        columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("tickets")})
    assert "sla_deadline" not in columns
    await upgrade(db.engine)
    async with db.sessions() as session:
        found = dict((await session.execute(
            select(Ticket.id, Ticket.sla_deadline).where(Ticket.id.in_(ids)))).all())
    assert found == {ids[0]: paris(2026, 1, 14, 9), ids[1]: paris(2026, 1, 15, 9), ids[2]: None}
    async with db.engine.connect() as conn:
        indexes = await conn.run_sync(lambda c: {i["name"]: i["column_names"] for i in inspect(c).get_indexes("tickets")})
    assert indexes["ix_tickets_queue_org"] == ["organisation_id", "territory_id", "status", "priority",
                                              "sla_deadline", "opened_at", "id"]
    assert indexes["ix_tickets_queue_territory"][:4] == ["territory_id", "status", "priority", "sla_deadline"]

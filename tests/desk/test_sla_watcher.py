"""The SLA watcher on SQLite and PostgreSQL: who hears what, when, and exactly once."""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime

import pytest
from aiohttp import web
from sqlalchemy import func, select

from guichet.background import dispatcher_key, setup_background, watcher_key
from desk.lifecycle import change_status
from desk.models import OutboxMessage, SlaClock, TicketEvent
from desk.sla_store import ticket_clocks
from desk.sla_watcher import SlaWatcher
from guichet.settings import load_settings
from domain.vocabulary import TicketStatus as S
from tests.desk.test_sla_store import CALENDAR, World, by_threshold, open_ticket, paris, seed_world
from web.app import init_app

FRIDAY_MIDNIGHT = paris(2026, 1, 9, 0)  # warning Mon 12:00, target Tue 00:00, breach Wed 00:00


class Clock:
    """A settable clock injected into the watcher."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def watcher(db, clock: Clock, **kwargs) -> SlaWatcher:
    return SlaWatcher(db.sessions, calendar_for=lambda _slug: CALENDAR, operator_for=lambda _slug: "sem",
                      now=clock, **kwargs)


async def outbox(db) -> list[OutboxMessage]:
    async with db.sessions() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def clock_events(db, ticket_id: int | None = None) -> list[TicketEvent]:
    async with db.sessions() as session:
        stmt = select(TicketEvent).where(TicketEvent.kind == "clock").order_by(TicketEvent.id)
        if ticket_id is not None:
            stmt = stmt.where(TicketEvent.ticket_id == ticket_id)
        return list((await session.scalars(stmt)).all())


async def clocks(db, ticket_id: int) -> dict[str, SlaClock]:
    async with db.sessions() as session:
        return by_threshold(await ticket_clocks(session, ticket_id))


async def one_ticket(db, opened: datetime = FRIDAY_MIDNIGHT) -> tuple[World, int]:
    async with db.sessions.begin() as session:
        world = await seed_world(session)
        ticket = await open_ticket(session, world, opened)
        return world, ticket.id


async def test_warning_reaches_the_owning_queue_once(db) -> None:
    """At 75 % of the target, in opening hours, every active agent of the owning organisation is mailed, once."""
    _, ticket_id = await one_ticket(db)
    clock = Clock(paris(2026, 1, 12, 12, 5))
    report = await watcher(db, clock).run_once()
    assert (report.fired, report.queued) == (1, 2)
    again = await watcher(db, clock).run_once()
    assert again.claimed == 0
    mails = await outbox(db)
    assert sorted(m.recipient for m in mails) == ["agent@firminy.test", "chef@firminy.test"]
    warning = (await clocks(db, ticket_id))["warning"]
    assert warning.fired and warning.fired_at == clock.at
    assert {m.dedupe_key for m in mails} == {f"sla:{warning.id}:1", f"sla:{warning.id}:2"}
    assert mails[0].channel == "email" and mails[0].status == "pending" and mails[0].ticket_id == ticket_id
    assert "échéance proche" in mails[0].subject
    assert "avant le mardi 13 janvier à 0 h" in mails[0].body and "Vous pouvez" in mails[0].body
    [event] = await clock_events(db, ticket_id)
    assert event.data["threshold"] == "warning" and event.internal


async def test_target_at_night_is_held_until_the_next_opening(db) -> None:
    """A target reached at midnight waits for 08:00; a restarted watcher then tells the supervisors."""
    _, ticket_id = await one_ticket(db)
    await watcher(db, Clock(paris(2026, 1, 12, 12))).run_once()
    night = await watcher(db, Clock(paris(2026, 1, 13, 0, 10))).run_once()
    assert (night.held, night.fired, night.queued) == (1, 0, 0)
    target = (await clocks(db, ticket_id))["target"]
    assert target.due_at == paris(2026, 1, 13, 8) and target.deadline == paris(2026, 1, 13, 0)
    assert (await watcher(db, Clock(paris(2026, 1, 13, 7, 59))).run_once()).claimed == 0
    morning = await watcher(db, Clock(paris(2026, 1, 13, 8))).run_once()
    assert morning.fired == 1
    target_mails = [m for m in await outbox(db) if "objectif" in m.subject]
    assert [m.recipient for m in target_mails] == ["chef@firminy.test"]
    assert "le mardi 13 janvier à 0 h" in target_mails[0].body


async def test_breach_is_never_held(db) -> None:
    """At 00:30 the breach fires at once to both supervisors; the older thresholds fire silently at 08:00."""
    _, ticket_id = await one_ticket(db)
    night = await watcher(db, Clock(paris(2026, 1, 14, 0, 30))).run_once()
    assert (night.claimed, night.fired, night.held) == (3, 1, 2)
    breach_mails = await outbox(db)
    assert sorted(m.recipient for m in breach_mails) == ["chef@firminy.test", "mission@sem.test"]
    assert all("délai dépassé" in m.subject for m in breach_mails)
    [breach] = await clock_events(db, ticket_id)
    assert breach.data["threshold"] == "breach" and not breach.internal
    assert "Délai dépassé (remplacement du matériel)" in breach.body
    morning = await watcher(db, Clock(paris(2026, 1, 14, 8))).run_once()
    assert (morning.fired, morning.queued) == (2, 0)
    assert len(await outbox(db)) == 2
    assert [e.data["threshold"] for e in await clock_events(db, ticket_id)] == ["breach", "warning", "target"]


async def test_closed_and_waiting_tickets_fire_nothing(db) -> None:
    """A resolved ticket's rows are dropped; a waiting ticket's rows are paused; nobody is told."""
    async with db.sessions.begin() as session:
        world = await seed_world(session)
        resolved = await open_ticket(session, world, FRIDAY_MIDNIGHT)
        waiting = await open_ticket(session, world, FRIDAY_MIDNIGHT, subject="Tablette")
        change_status(resolved, S.RESOLVED, at=paris(2026, 1, 12, 9))
        change_status(waiting, S.WAITING, at=paris(2026, 1, 12, 9))
        resolved_id, waiting_id = resolved.id, waiting.id
    report = await watcher(db, Clock(paris(2026, 1, 12, 12, 5))).run_once()
    assert (report.skipped, report.paused, report.fired, report.queued) == (1, 1, 0, 0)
    assert "warning" not in await clocks(db, resolved_id)
    paused = await clocks(db, waiting_id)
    assert paused["warning"].due_at is None and not paused["warning"].fired
    assert await outbox(db) == [] and await clock_events(db) == []


async def test_many_notices_for_one_agent_become_a_digest(db) -> None:
    """Seven warnings due at once for the same two agents: one digest each, listing the seven tickets."""
    async with db.sessions.begin() as session:
        world = await seed_world(session)
        for i in range(7):
            await open_ticket(session, world, FRIDAY_MIDNIGHT, subject=f"Imprimante {i}")
    report = await watcher(db, Clock(paris(2026, 1, 12, 12, 5)), digest_threshold=5).run_once()
    assert (report.fired, report.queued, report.digests) == (7, 2, 2)
    mails = await outbox(db)
    assert sorted(m.recipient for m in mails) == ["agent@firminy.test", "chef@firminy.test"]
    assert all(len(m.payload["clock_ids"]) == 7 and m.subject.startswith("[Guichet] 7 alertes") for m in mails)
    assert "Imprimante 6" in mails[0].body
    assert len(await clock_events(db)) == 7


async def test_catching_up_after_an_outage_goes_in_order(db) -> None:
    """After a week down, small batches fire the oldest clocks first and each ticket's breach alone is sent."""
    async with db.sessions.begin() as session:
        world = await seed_world(session)
        early = await open_ticket(session, world, FRIDAY_MIDNIGHT, subject="Ancien")
        late = await open_ticket(session, world, paris(2026, 1, 12, 0), subject="Récent")
        early_id, late_id = early.id, late.id
    total = await watcher(db, Clock(paris(2026, 1, 19, 9)), batch_size=2).run_until_idle()
    assert (total.claimed, total.fired) == (6, 6)
    events = await clock_events(db)
    assert [(e.ticket_id, e.data["threshold"]) for e in events] == [
        (early_id, "warning"), (early_id, "target"), (late_id, "warning"),
        (early_id, "breach"), (late_id, "target"), (late_id, "breach"),
    ]
    assert len(await outbox(db)) == 4  # two breaches x (commune supervisor + coordinator)


async def test_two_watchers_fire_each_clock_once(db) -> None:
    """Two watchers racing on PostgreSQL claim disjoint rows: every clock fires once, every notice is queued once."""
    if db.dialect != "postgresql":
        pytest.skip("SKIP LOCKED claims are a PostgreSQL matter; SQLite has a single writer")
    async with db.sessions.begin() as session:
        world = await seed_world(session)
        for i in range(120):
            await open_ticket(session, world, FRIDAY_MIDNIGHT, subject=f"Poste {i}")
    clock = Clock(paris(2026, 1, 14, 9))
    first, second = watcher(db, clock, batch_size=20, digest_threshold=10_000), watcher(
        db, clock, batch_size=20, digest_threshold=10_000)
    reports = await asyncio.gather(first.run_until_idle(), second.run_until_idle())
    assert sum(r.fired for r in reports) == 360
    assert all(r.fired > 0 for r in reports)
    async with db.sessions() as session:
        unfired = await session.scalar(select(func.count()).select_from(SlaClock).where(SlaClock.fired.is_(False)))
        events = await session.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.kind == "clock"))
    mails = await outbox(db)
    assert unfired == 0 and events == 360
    assert len(mails) == 240 == len({m.dedupe_key for m in mails})


async def test_background_loops_start_and_stop_with_the_app(db) -> None:
    """setup_background runs the watcher while the app runs and stops it cleanly at cleanup."""
    _, ticket_id = await one_ticket(db)
    settings = load_settings(database_url=db.url, background=True, smtp_url="smtp://127.0.0.1:9")
    clock = Clock(paris(2026, 1, 12, 12, 5))
    extension = functools.partial(setup_background, calendar_for=lambda _s: CALENDAR,
                                  operator_for=lambda _s: "sem", now=clock)
    app = init_app(settings, db.engine, db.sessions, extensions=[extension])
    assert app[dispatcher_key].channels == frozenset()  # each channel registers its own sender
    app[dispatcher_key].register("telegram", object())  # a channel registering its sender
    app[dispatcher_key].interval = 3600  # the SMTP relay above does not exist: no sending in this test
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        assert app[dispatcher_key].channels == {"telegram"}
        for _ in range(100):
            if (await clocks(db, ticket_id))["warning"].fired:
                break
            await asyncio.sleep(0.05)
        assert (await clocks(db, ticket_id))["warning"].fired
        assert isinstance(app[watcher_key], SlaWatcher)
    finally:
        await runner.cleanup()


async def test_background_can_be_disabled(db) -> None:
    """With GUICHET_BACKGROUND off nothing runs, but senders can still be registered."""
    settings = load_settings(database_url=db.url, background=False)
    app = init_app(settings, db.engine, db.sessions,
                   extensions=[functools.partial(setup_background, calendar_for=lambda _s: CALENDAR)])
    assert len(app.cleanup_ctx) == 0 and app[dispatcher_key].channels == frozenset()


async def test_unknown_calendar_does_not_block_the_queue(db) -> None:
    """If a territory's calendar cannot be loaded, notices go out unheld rather than stick the watcher."""
    await one_ticket(db)

    def broken(_slug: str) -> object:
        raise LookupError("territoire inconnu")

    sweeper = SlaWatcher(db.sessions, calendar_for=broken, now=Clock(paris(2026, 1, 12, 23)))
    report = await sweeper.run_once()
    assert (report.fired, report.held, report.queued) == (1, 0, 2)


async def test_agents_telegram_group_hears_the_breach_once(db) -> None:
    """An organisation with an agents' Telegram group gets one group message per fired threshold."""
    from desk.models import Organisation, Ticket

    _, ticket_id = await one_ticket(db)
    async with db.sessions.begin() as session:
        ticket = await session.get(Ticket, ticket_id)
        org = await session.get(Organisation, ticket.organisation_id)
        org.telegram_chat_id = -100123
    clock = Clock(paris(2026, 1, 14, 0, 30))
    await watcher(db, clock).run_once()
    await watcher(db, clock).run_once()
    group = [m for m in await outbox(db) if m.channel == "telegram"]
    assert [m.recipient for m in group] == ["-100123"]
    assert group[0].ticket_id == ticket_id and "Délai dépassé" in group[0].body


async def test_the_group_of_another_territory_is_reached_through_its_bot(db) -> None:
    """With one bot per territory, the group's row names its territory's bot (`slug/chat id`)."""
    from desk.models import Organisation, Ticket

    _, ticket_id = await one_ticket(db)
    async with db.sessions.begin() as session:
        ticket = await session.get(Ticket, ticket_id)
        org = await session.get(Organisation, ticket.organisation_id)
        org.telegram_chat_id = -100123
    seen: list[tuple[str, str]] = []

    def address_for(slug: str, chat: str) -> str:
        seen.append((slug, chat))
        return f"autre/{chat}"

    await watcher(db, Clock(paris(2026, 1, 14, 0, 30)), telegram_address_for=address_for).run_once()
    group = [m for m in await outbox(db) if m.channel == "telegram"]
    assert [m.recipient for m in group] == ["autre/-100123"]
    assert seen and seen[0][1] == "-100123"


async def test_watcher_moves_the_queue_deadline(db) -> None:
    """A fired target hands the queue's deadline to the breach; a fired breach keeps it; a paused row clears it."""
    from tests.desk.test_sla_store import stored_deadline

    _, ticket_id = await one_ticket(db)  # target Tue 00:00, breach Wed 00:00
    assert await stored_deadline(db, ticket_id) == (paris(2026, 1, 13, 0),) * 2
    await watcher(db, Clock(paris(2026, 1, 13, 8))).run_once()  # warning and target fire
    assert await stored_deadline(db, ticket_id) == (paris(2026, 1, 14, 0),) * 2
    await watcher(db, Clock(paris(2026, 1, 14, 0, 30))).run_once()  # breach fires: still the queue's deadline
    assert await stored_deadline(db, ticket_id) == (paris(2026, 1, 14, 0),) * 2

    async with db.sessions.begin() as session:
        world = await seed_world_again(session)
        waiting = await open_ticket(session, world, FRIDAY_MIDNIGHT, subject="Tablette")
        change_status(waiting, S.WAITING, at=paris(2026, 1, 12, 9))  # no recompute: the watcher pauses it
        waiting_id = waiting.id
    await watcher(db, Clock(paris(2026, 1, 12, 12, 5))).run_once()  # only the warning is due: paused
    assert await stored_deadline(db, waiting_id) == (paris(2026, 1, 13, 0),) * 2
    await watcher(db, Clock(paris(2026, 1, 14, 0, 30))).run_once()  # target and breach due: paused too
    assert await stored_deadline(db, waiting_id) == (None, None)


async def seed_world_again(session) -> World:
    """The world seeded by `one_ticket`, read back."""
    from desk.models import Agent, Organisation, School, Territory

    territory = await session.scalar(select(Territory))
    sem = await session.scalar(select(Organisation).where(Organisation.slug == "sem"))
    commune = await session.scalar(select(Organisation).where(Organisation.slug == "commune-firminy"))
    school = await session.scalar(select(School))
    agents = {a.email: a for a in await session.scalars(select(Agent))}
    return World(territory, sem, commune, school, agents)

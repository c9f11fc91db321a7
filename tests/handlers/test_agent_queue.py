"""The queue's order and keyset pages, on SQLite and PostgreSQL (handlers.agent_queue)."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from desk import repositories as repo
from desk.clock import utcnow
from desk.models import Agent, SlaClock, Ticket
from desk.sla_store import refresh_queue_deadlines
from domain.vocabulary import TicketStatus as S
from handlers.agent_queue import COUNT_CAP, QueueCursor, QueueFilters, band_of, list_queue
from handlers.agent_scope import load_actor
from tests.desk.test_sla_store import seed_world

STATUSES = [S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.WAITING, S.ON_HOLD, S.REOPENED, S.RESOLVED, S.CLOSED]


async def seed_queue(db, count: int = 83) -> tuple[int, list[int]]:
    """`count` tickets of one commune in every band, priority and status, with ties on deadlines
    and opening times; (an agent's id, the ticket ids)."""
    rng = random.Random(18)
    now = utcnow()
    ids = []
    async with db.sessions.begin() as session:
        world = await seed_world(session)
        for n in range(count):
            opened = now - timedelta(hours=rng.choice([1, 5, 5, 30, 200]))
            ticket = await repo.create_ticket(
                session, territory=world.territory, organisation=world.commune, intent="hardware_failure",
                role="school_authority", subject=f"Panne {n}", school=world.school, opened_at=opened,
                priority=rng.choice([1, 2, 3, 3, 4]), sla_policy="replacement",
            )
            ticket.status = rng.choice(STATUSES).value
            # breached, at risk, on time, or no clock; some deadlines shared by several tickets
            hours = rng.choice([-30, -2, -2, 3, 3, 20, 50, 50, 90, None])
            if hours is not None:
                due = now.replace(microsecond=0) + timedelta(hours=hours)
                session.add(SlaClock(ticket_id=ticket.id, policy="replacement", threshold="breach",
                                     due_at=due, deadline=due))
            await session.flush()
            ids.append(ticket.id)
        await refresh_queue_deadlines(session, ids)
        agent_id = world.agents["commune_agent"].id
    return agent_id, ids


async def walk(db, actor, filters: QueueFilters, now) -> list[list[int]]:
    """Every page of the queue through its « Suivantes » cursors."""
    pages, after = [], None
    while True:
        async with db.sessions() as session:
            page = await list_queue(session, actor, QueueFilters(**{**_fields(filters), "after": after}), now)
        pages.append([row.ticket.id for row in page.rows])
        if page.next_after is None:
            return pages
        after = page.next_after


def _fields(filters: QueueFilters) -> dict:
    return {name: getattr(filters, name) for name in filters.__dataclass_fields__}


async def expected_order(db, ids: list[int], statuses: set[str], now) -> list[int]:
    async with db.sessions() as session:
        tickets = (await session.scalars(select(Ticket).where(Ticket.id.in_(ids)))).all()
    chosen = [t for t in tickets if t.status in statuses]
    return [t.id for t in sorted(chosen, key=lambda t: (
        band_of(t.sla_deadline, now), t.priority, t.sla_deadline or now, t.opened_at, t.id))]


async def test_keyset_pages_cover_every_ticket_once_in_order(db) -> None:
    """Seven by seven, the « Suivantes » cursors list every open ticket once, in the queue's order
    (breached, at risk, on time, no clock; by priority, deadline, age within each); the numbered
    pages give the same order."""
    agent_id, ids = await seed_queue(db)
    now = utcnow()
    async with db.sessions() as session:
        actor = await load_actor(session, agent_id)
    open_values = {s.value for s in STATUSES if s not in (S.RESOLVED, S.CLOSED)}
    expected = await expected_order(db, ids, open_values, now)
    pages = await walk(db, actor, QueueFilters(per_page=7), now)
    assert [i for page in pages for i in page] == expected
    assert all(len(page) == 7 for page in pages[:-1]) and 0 < len(pages[-1]) <= 7
    numbered = []
    for number in range(1, len(pages) + 1):
        async with db.sessions() as session:
            numbered.append([r.ticket.id for r in (await list_queue(
                session, actor, QueueFilters(per_page=7, page=number), now)).rows])
    assert numbered == pages


async def test_keyset_pages_keep_the_filters(db) -> None:
    """A status filter, « all », and a search walk their own tickets, page after page."""
    agent_id, ids = await seed_queue(db)
    now = utcnow()
    async with db.sessions() as session:
        actor = await load_actor(session, agent_id)
    waiting = await walk(db, actor, QueueFilters(per_page=4, status="waiting"), now)
    assert [i for p in waiting for i in p] == await expected_order(db, ids, {"waiting"}, now)
    every = await walk(db, actor, QueueFilters(per_page=9, status="all"), now)
    assert [i for p in every for i in p] == await expected_order(db, ids, {s.value for s in S}, now)
    searched = await walk(db, actor, QueueFilters(per_page=3, q="Panne 1"), now)
    async with db.sessions() as session:
        matching = set(await session.scalars(select(Ticket.id).where(Ticket.subject.like("Panne 1%"))))
    open_values = {s.value for s in STATUSES if s not in (S.RESOLVED, S.CLOSED)}
    assert [i for p in searched for i in p] == [
        i for i in await expected_order(db, ids, open_values, now) if i in matching]


async def test_a_malformed_cursor_gives_the_first_page(db) -> None:
    agent_id, _ = await seed_queue(db, count=12)
    async with db.sessions() as session:
        actor = await load_actor(session, agent_id)
        first = await list_queue(session, actor, QueueFilters(per_page=5))
        for raw in ("x", "1.2.3", "9.-.1.1", "1.-.99999999999999999999999.1", "3.-.0.-4"):
            page = await list_queue(session, actor, QueueFilters(per_page=5, after=raw))
            assert [r.ticket.id for r in page.rows] == [r.ticket.id for r in first.rows], raw
    assert QueueCursor.decode(first.next_after) is not None


async def test_counts_stop_past_the_cap(db) -> None:
    """Past COUNT_CAP a status reads « 500+ »; below it the exact number."""
    async with db.sessions.begin() as session:
        world = await seed_world(session)
        rows = [dict(territory_id=world.territory.id, reference=f"2026-{n:05d}", intent="consumables",
                     organisation_id=world.commune.id, role="school_authority", status="new", priority=3,
                     channel="web", subject="Cartouches", description="", opened_at=utcnow(),
                     updated_at=utcnow()) for n in range(1, COUNT_CAP + 3)]
        rows[0]["status"] = "waiting"
        await session.execute(Ticket.__table__.insert(), rows)
        agent = await session.scalar(select(Agent).where(Agent.email == "agent@firminy.test"))
        agent_id = agent.id
    async with db.sessions() as session:
        actor = await load_actor(session, agent_id)
        page = await list_queue(session, actor, QueueFilters())
    assert page.counts == {"new": COUNT_CAP + 1, "waiting": 1}
    assert page.count_label("new") == "500+" and page.count_label("waiting") == "1"
    assert page.count_label("assigned") == "0"

"""Quiet resolved tickets close themselves on the territory's calendar; a teacher's message reopens (DOMAIN.md §8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from desk import repositories as repo
from desk.lifecycle import change_status
from desk.models import Organisation, OutboxMessage, Requester, RequesterIdentity, School, Territory, Ticket, TicketEvent
from guichet.demo import load_demo
from handlers.auto_close import CLOSE_NOTICE, AutoCloser
from handlers.context import context_for
from handlers.teacher_tickets import add_message, can_reopen, resume_on_message
from tests.typo import plain
from web.labels import EVENT
from bot.flows.status import EVENT_FR

#: Thursday 30 April 2026, 16:00 in Paris. 1 May and 8 May are public holidays.
RESOLVED = datetime(2026, 4, 30, 14, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def _resolved_ticket(db, *, resolved: datetime = RESOLVED) -> int:
    async with db.sessions.begin() as s:
        await load_demo(s, "sem", assets=0)
        territory = await s.scalar(select(Territory))
        sem = await s.scalar(select(Organisation).where(Organisation.slug == "sem"))
        school = await s.scalar(select(School).order_by(School.id).limit(1))
        teacher = Requester(territory_id=territory.id, name="Claire", school_id=school.id)
        teacher.identities = [RequesterIdentity(channel="telegram", external_id="4242")]
        s.add(teacher)
        await s.flush()
        ticket = await repo.create_ticket(s, territory=territory, organisation=sem, intent="hardware_failure",
                                          role="operator", subject="Vidéoprojecteur", school=school,
                                          requester=teacher, channel="telegram", opened_at=resolved - timedelta(days=2))
        change_status(ticket, "resolved", at=resolved)
        return ticket.id


async def test_notice_the_working_day_before_then_closure(db) -> None:
    """5 working days after Thursday 30 April (1 and 8 May off): told Monday 11 May at 08:00, closed Tuesday 12."""
    ticket_id = await _resolved_ticket(db)
    clock = Clock(datetime(2026, 5, 11, 5, 59, tzinfo=UTC))
    closer = AutoCloser(db.sessions, default_territory="sem", now=clock)
    assert await closer.run_once() == (0, 0)
    clock.now = datetime(2026, 5, 11, 6, 0, tzinfo=UTC)  # 08:00 in Paris
    assert await closer.run_once() == (1, 0)
    assert await closer.run_once() == (0, 0)  # once
    assert await AutoCloser(db.sessions, default_territory="sem", now=clock).run_once() == (0, 0)  # another process
    async with db.sessions() as s:
        rows = (await s.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id))).all()
        assert len(rows) == 1 and rows[0].channel == "telegram" and rows[0].recipient == "4242"
        text = plain(rows[0].body)
        assert "sera close automatiquement le mardi 12 mai" in text and "Si le problème persiste" in text
        notice = await s.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id,
                                                           TicketEvent.kind == CLOSE_NOTICE))
        assert notice is not None and notice.at == clock.now
    clock.now = datetime(2026, 5, 12, 5, 59, tzinfo=UTC)
    assert await closer.run_once() == (0, 0)
    clock.now = datetime(2026, 5, 12, 6, 0, tzinfo=UTC)
    assert await closer.run_once() == (0, 1)
    async with db.sessions() as s:
        ticket = await s.get(Ticket, ticket_id)
        assert ticket.status == "closed" and ticket.closed_at == clock.now
        last = await s.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "status")
                              .order_by(TicketEvent.id.desc()).limit(1))
        assert (last.actor_kind, last.to_status) == ("system", "closed") and "5 jours ouvrés" in last.body
    assert await closer.run_once() == (0, 0)


async def test_a_late_notice_leaves_a_working_day(db) -> None:
    """A desk down on the notice day tells the teacher when it is back and closes a working day later."""
    ticket_id = await _resolved_ticket(db)
    clock = Clock(datetime(2026, 5, 13, 9, tzinfo=UTC))  # Wednesday, after the planned closure
    closer = AutoCloser(db.sessions, default_territory="sem", now=clock)
    assert await closer.run_once() == (1, 0)
    assert await closer.run_once() == (0, 0)
    clock.now = datetime(2026, 5, 14, 6, tzinfo=UTC)  # Thursday 14 May is Ascension Day: not a working day
    assert await closer.run_once() == (0, 0)
    clock.now = datetime(2026, 5, 15, 6, tzinfo=UTC)  # Friday 15 May, 08:00 in Paris
    assert await closer.run_once() == (0, 1)
    async with db.sessions() as s:
        assert (await s.get(Ticket, ticket_id)).status == "closed"


async def test_the_teachers_message_reopens_within_the_window(db) -> None:
    """A message on a resolved ticket, or on a ticket closed 14 days ago at most, reopens it; later it does not."""
    ticket_id = await _resolved_ticket(db)
    clock = Clock(RESOLVED + timedelta(days=1))
    ctx = context_for("sem", now=clock)
    async with db.sessions.begin() as s:
        ticket = await s.get(Ticket, ticket_id, options=[])
        await s.refresh(ticket, ["events"])
        await add_message(s, ctx, ticket, requester_id=ticket.requester_id, channel="telegram",
                          text="Toujours en panne", now=clock.now)
        assert ticket.status == "reopened" and ticket.resolved_at is None
        change_status(ticket, "resolved", at=clock.now)
        change_status(ticket, "closed", at=clock.now)
    clock.now += timedelta(days=14)
    async with db.sessions.begin() as s:
        ticket = await s.get(Ticket, ticket_id)
        await s.refresh(ticket, ["events"])
        assert can_reopen(ctx, ticket, clock.now)
        # A participant (in Cc) does not reopen; the teacher does.
        assert await resume_on_message(s, ctx, ticket, from_requester=False, actor_id=None, channel="email",
                                       now=clock.now) is None
        await add_message(s, ctx, ticket, requester_id=ticket.requester_id, channel="telegram",
                          text="Le problème est revenu", now=clock.now)
        assert ticket.status == "reopened" and ticket.closed_at is None
        change_status(ticket, "resolved", at=clock.now)
        change_status(ticket, "closed", at=clock.now)
    clock.now += timedelta(days=14, seconds=1)
    async with db.sessions.begin() as s:
        ticket = await s.get(Ticket, ticket_id)
        await s.refresh(ticket, ["events"])
        assert not can_reopen(ctx, ticket, clock.now)
        await add_message(s, ctx, ticket, requester_id=ticket.requester_id, channel="telegram",
                          text="Encore", now=clock.now)
        assert ticket.status == "closed"  # kept in its history, the ticket stays closed


async def test_a_reopened_ticket_is_not_closed_by_an_old_notice(db) -> None:
    """The notice belongs to one resolution: resolved again, the ticket gets a new notice before closing."""
    ticket_id = await _resolved_ticket(db)
    clock = Clock(datetime(2026, 5, 11, 6, tzinfo=UTC))
    closer = AutoCloser(db.sessions, default_territory="sem", now=clock)
    assert await closer.run_once() == (1, 0)
    ctx = context_for("sem", now=clock)
    async with db.sessions.begin() as s:
        ticket = await s.get(Ticket, ticket_id)
        await s.refresh(ticket, ["events"])
        await add_message(s, ctx, ticket, requester_id=ticket.requester_id, channel="telegram",
                          text="Non, ça ne marche pas", now=clock.now)
        change_status(ticket, "resolved", at=clock.now + timedelta(hours=1))
    clock.now = datetime(2026, 5, 12, 6, tzinfo=UTC)
    assert await closer.run_once() == (0, 0)  # neither closed nor told again so soon
    async with db.sessions() as s:
        assert (await s.get(Ticket, ticket_id)).status == "resolved"


def test_the_notice_event_has_french_labels() -> None:
    """Agents and teachers read the new event kind in French."""
    assert EVENT[CLOSE_NOTICE] == "Avis de clôture automatique"
    assert EVENT_FR[CLOSE_NOTICE] == "Avis de clôture automatique"


async def test_every_page_of_resolved_tickets_is_reached(db, monkeypatch) -> None:
    """With pages of one ticket, a pass still tells every teacher whose notice is due."""
    import handlers.auto_close as auto_close

    first = await _resolved_ticket(db)
    async with db.sessions.begin() as s:
        ticket = await s.get(Ticket, first)
        second = await repo.create_ticket(s, territory=await s.get(Territory, ticket.territory_id),
                                          organisation=await s.get(Organisation, ticket.organisation_id),
                                          intent="hardware_failure", role="operator", subject="Tablette",
                                          requester=await s.get(Requester, ticket.requester_id), channel="telegram",
                                          opened_at=RESOLVED - timedelta(days=1))
        change_status(second, "resolved", at=RESOLVED)
    monkeypatch.setattr(auto_close, "_BATCH", 1)
    closer = AutoCloser(db.sessions, default_territory="sem", now=lambda: datetime(2026, 5, 11, 6, tzinfo=UTC))
    assert await closer.run_once() == (2, 0)


async def test_two_processes_notify_and_close_each_ticket_once(db) -> None:
    """Two closers running together (two `serve` processes on one database): each of 30 quiet
    tickets gets one notice, one outbox message and one closure, whoever reaches it first."""
    import asyncio

    first = await _resolved_ticket(db)
    async with db.sessions.begin() as s:
        model = await s.get(Ticket, first)
        territory = await s.get(Territory, model.territory_id)
        sem = await s.get(Organisation, model.organisation_id)
        school = await s.get(School, model.school_id)
        teacher = await s.get(Requester, model.requester_id)
        for _ in range(29):
            ticket = await repo.create_ticket(s, territory=territory, organisation=sem, intent="hardware_failure",
                                              role="operator", subject="Vidéoprojecteur", school=school,
                                              requester=teacher, channel="telegram",
                                              opened_at=RESOLVED - timedelta(days=2))
            change_status(ticket, "resolved", at=RESOLVED)
    clock = Clock(datetime(2026, 5, 11, 6, 0, tzinfo=UTC))
    closers = [AutoCloser(db.sessions, default_territory="sem", now=clock) for _ in range(2)]
    told = await asyncio.gather(*(c.run_once() for c in closers))
    assert sum(n for n, _ in told) == 30 and sum(c for _, c in told) == 0
    clock.now = datetime(2026, 5, 12, 6, 0, tzinfo=UTC)
    closed = await asyncio.gather(*(c.run_once() for c in closers))
    assert sum(n for n, _ in closed) == 0 and sum(c for _, c in closed) == 30
    async with db.sessions() as s:
        tickets = (await s.scalars(select(Ticket))).all()
        assert len(tickets) == 30 and {t.status for t in tickets} == {"closed"}
        outbox = (await s.scalars(select(OutboxMessage))).all()
        assert len(outbox) == 30 and len({o.ticket_id for o in outbox}) == 30
        events = (await s.scalars(select(TicketEvent).where(TicketEvent.kind.in_([CLOSE_NOTICE, "status"]),
                                                             TicketEvent.to_status.is_(None) | (TicketEvent.to_status == "closed")))).all()
        per_ticket = {}
        for e in events:
            per_ticket.setdefault(e.ticket_id, []).append(e.kind)
        assert all(sorted(kinds) == [CLOSE_NOTICE, "status"] for kinds in per_ticket.values()) and len(per_ticket) == 30

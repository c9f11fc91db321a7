"""Resolved tickets with no answer from the teacher close themselves (DOMAIN.md §8, the quiet period).

After `lifecycle.close_resolved_after_working_days` working days of the territory's calendar
(`routing.privacy.auto_close_times`), on the last of them the teacher is told once, through the
outbox, that her ticket will close the next working day unless she answers; then it closes. A
notice that went out late (the desk was down) moves the closure to the working day after it. The
notice is a `close_notice` event of the ticket's history; the closure is a status event by the
system. Safe in every process: rows claimed with SKIP LOCKED, one notice per resolution by its
outbox dedupe key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from desk import repositories as repo
from desk.clock import utcnow
from desk.loops import run_passes
from desk.models import Requester, Territory, Ticket, TicketEvent
from domain.french import DAYS_FR, MONTHS_FR
from domain.vocabulary import TicketStatus
from handlers.context import DeskContext, context_for
from handlers.ticket_status import move_status
from routing import TerritoryError
from routing.privacy import auto_close_times

__all__ = ["CLOSE_NOTICE", "AutoCloser", "close_quiet_tickets", "notice_text"]

log = logging.getLogger(__name__)

#: The event kind of the notice (labelled in `web.labels.EVENT` and `bot.flows.status.EVENT_FR`).
CLOSE_NOTICE = "close_notice"
_BATCH = 200


def _day_fr(day: Any) -> str:
    return f"le {DAYS_FR[day.weekday()]} {'1er' if day.day == 1 else day.day} {MONTHS_FR[day.month - 1]}"


def notice_text(reference: str, close_day: Any) -> str:
    """What the teacher reads the working day before the closure."""
    return (f"Votre demande {reference} a été résolue et nous n'avons pas eu de nouvelles de votre part. "
            f"Sans réponse, elle sera close automatiquement {_day_fr(close_day)}. Si le problème persiste, "
            "dites-le-nous avant : l'équipe reprendra son traitement.")


async def _notify(session: AsyncSession, ticket: Ticket, text: str, now: datetime) -> bool:
    """Queue the notice on the ticket's channel (else another reachable identity); False: no way to reach her."""
    requester = None
    if ticket.requester_id is not None:
        requester = await session.scalar(select(Requester).options(selectinload(Requester.identities))
                                         .where(Requester.id == ticket.requester_id))
    reachable = [i for i in (requester.identities if requester else []) if not i.unreachable]
    identity = next((i for i in reachable if i.channel == ticket.channel), None) or (reachable[0] if reachable else None)
    assert ticket.resolved_at is not None
    event = await repo.add_event(session, ticket, CLOSE_NOTICE, body=text, channel=identity.channel if identity else None,
                                 data={"delivered": identity is not None}, at=now)
    if identity is None:
        return False
    await repo.enqueue(
        session, channel=identity.channel, recipient=identity.external_id, subject=f"Votre demande {ticket.reference}",
        body=text, payload={"reference": ticket.reference, "event_id": event.id, "kind": "close_notice"},
        ticket_id=ticket.id, dedupe_key=f"close-notice:{ticket.id}:{int(ticket.resolved_at.timestamp())}")
    return True


async def close_quiet_tickets(session: AsyncSession, ctx: DeskContext, territory_id: int, now: datetime,
                              *, after_id: int = 0) -> tuple[int, int, int | None]:
    """One page of a territory's resolved tickets (ids above `after_id`): notices due, closures due.

    Returns (notices, closures, the page's last id or None when it was the last page). Only tickets
    resolved at least N calendar days ago can be due (N working days are never fewer).
    """
    rules = ctx.territory.lifecycle
    tickets = (await session.scalars(
        select(Ticket).options(selectinload(Ticket.events))
        .where(Ticket.territory_id == territory_id, Ticket.status == TicketStatus.RESOLVED.value,
               Ticket.id > after_id, Ticket.resolved_at.is_not(None),
               Ticket.resolved_at <= now - timedelta(days=rules.close_resolved_after_working_days))
        .order_by(Ticket.id).limit(_BATCH).with_for_update(skip_locked=True, of=Ticket))).all()
    notices = closures = 0
    for ticket in tickets:
        assert ticket.resolved_at is not None
        told = next((e.at for e in ticket.events if e.kind == CLOSE_NOTICE and e.at >= ticket.resolved_at), None)
        times = auto_close_times(ctx.calendar, ticket.resolved_at, rules.close_resolved_after_working_days, told)
        if told is None and now >= times.notice_at:
            await _notify(session, ticket, notice_text(ticket.reference, times.close_day), now)
            notices += 1
        elif told is not None and now >= times.close_at:
            await move_status(session, ctx, ticket, TicketStatus.CLOSED, actor_kind="system", at=now,
                              reason=f"Close automatiquement : sans réponse du demandeur "
                                     f"{rules.close_resolved_after_working_days} jours ouvrés après la résolution")
            closures += 1
    return notices, closures, (tickets[-1].id if len(tickets) == _BATCH else None)


class AutoCloser:
    """The background loop: a pass every `interval` seconds over every territory of the database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, default_territory: str,
                 context_of: Callable[..., DeskContext] = context_for, now: Callable[[], datetime] = utcnow,
                 interval: float = 300.0) -> None:
        self._sessions, self._context_of, self._now = sessions, context_of, now
        self._default, self.interval = default_territory, interval

    def _ctx(self, slug: str) -> DeskContext:
        try:
            return self._context_of(slug, now=self._now)
        except TerritoryError:
            return self._context_of(self._default, now=self._now)

    async def run_once(self) -> tuple[int, int]:
        now = self._now()
        notices = closures = 0
        async with self._sessions() as session:
            territories = [(t.id, t.slug) for t in (await session.scalars(select(Territory).order_by(Territory.id)))]
        for territory_id, slug in territories:
            ctx, after = self._ctx(slug), 0
            while after is not None:  # one transaction per page: locks held briefly, every ticket reached
                async with self._sessions.begin() as session:
                    n, c, after = await close_quiet_tickets(session, ctx, territory_id, now, after_id=after)
                notices, closures = notices + n, closures + c
        if notices or closures:
            log.info("auto-close: %d notice(s), %d closure(s)", notices, closures)
        return notices, closures

    async def run(self, stop: Any) -> None:
        async def one_pass() -> int:
            notices, closures = await self.run_once()
            return notices + closures

        # A pass reads every page itself: the next one waits for the interval.
        await run_passes(one_pass, stop, interval=self.interval, batch_size=1 << 30, name="auto-close")

"""Moving a ticket's status, for every door: the lifecycle, the SLA clocks, a theft's replacement.

`move_status` is the one use case that changes a status: it records the transition
(`desk.lifecycle.change_status` refuses what DOMAIN.md §8 forbids), then, in the same
transaction, recomputes the ticket's clock rows (waiting on the teacher pauses them,
DOMAIN.md §5) and, when a theft's declaration is resolved, starts the operator's linked
replacement (convention 2023-2027, art. 6). The dialogue, e-mail, agents' pages and the
API all call it, so no door can change a status and forget the clocks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from desk.lifecycle import change_status
from desk.models import Territory, Ticket, TicketEvent
from desk.sla_store import recompute_clocks
from domain.vocabulary import SlaPolicy, TicketStatus
from handlers.context import DeskContext, context_for

__all__ = ["StatusHook", "after_status_change", "move_status", "start_replacement", "status_hook"]

StatusHook = Callable[[AsyncSession, Ticket], Awaitable[None]]


async def move_status(
    session: AsyncSession,
    ctx: DeskContext,
    ticket: Ticket,
    target: TicketStatus,
    *,
    actor_kind: str,
    actor_id: int | None = None,
    reason: str | None = None,
    channel: str | None = None,
    at: datetime | None = None,
) -> TicketEvent:
    """Change the status, keep the clocks in line and start what the change starts; the event."""
    now = at or ctx.now()
    event = change_status(ticket, target, actor_kind=actor_kind, actor_id=actor_id, reason=reason, at=now)
    if channel is not None:
        event.channel = channel
    await after_status_change(session, ctx, ticket, now)
    return event


async def after_status_change(
    session: AsyncSession, ctx: DeskContext, ticket: Ticket, now: datetime | None = None
) -> None:
    """What follows any status change of `ticket`, in the caller's transaction."""
    now = now or ctx.now()
    await session.flush()
    await recompute_clocks(session, ticket, ctx.policy(ticket.sla_policy), ctx.calendar, now)
    if (
        ticket.status == TicketStatus.RESOLVED
        and ticket.sla_policy == SlaPolicy.DECLARATION
        and ticket.linked_ticket_id is not None
    ):
        await start_replacement(session, ctx, ticket, now)


async def start_replacement(
    session: AsyncSession, ctx: DeskContext, declaration: Ticket, now: datetime | None = None
) -> None:
    """The declaration is in (convention art. 6): the operator's replacement clock starts now."""
    follow = await session.scalar(
        select(Ticket).options(selectinload(Ticket.events)).where(Ticket.id == declaration.linked_ticket_id)
    )
    # `waiting` for replacements opened before the `on_hold` status existed.
    if follow is None or follow.status not in (TicketStatus.ON_HOLD, TicketStatus.WAITING):
        return
    now = now or ctx.now()
    change_status(
        follow, TicketStatus.NEW, at=now,
        reason=f"Déclaration de sinistre reçue (demande {declaration.reference}) : remplacement à organiser.",
    )
    await session.flush()
    await recompute_clocks(session, follow, ctx.policy(follow.sla_policy), ctx.calendar, now)


def status_hook(context_of: Callable[[str], DeskContext] = context_for) -> StatusHook:
    """`after_status_change` for callers that hold a ticket but not its territory's context."""

    async def on_status_change(session: AsyncSession, ticket: Ticket) -> None:
        territory = await session.get(Territory, ticket.territory_id)
        assert territory is not None
        await after_status_change(session, context_of(territory.slug), ticket)

    return on_status_change

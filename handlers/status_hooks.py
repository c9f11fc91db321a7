"""What follows a status change, in the same transaction: SLA clocks, and a theft's replacement."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy import select

from desk.lifecycle import change_status
from desk.models import Territory, Ticket
from desk.sla_store import recompute_clocks
from guichet.vocabulary import SlaPolicy, TicketStatus
from handlers.context import DeskContext

StatusHook = Callable[[AsyncSession, Ticket], Awaitable[None]]


def status_hook(context_for: Callable[[str], DeskContext]) -> StatusHook:
    """The hook agents' actions call after each status change."""

    async def on_status_change(session: AsyncSession, ticket: Ticket) -> None:
        territory = await session.get(Territory, ticket.territory_id)
        assert territory is not None
        ctx = context_for(territory.slug)
        now = ctx.now()
        await recompute_clocks(session, ticket, ctx.policy(ticket.sla_policy), ctx.calendar, now)
        if (
            ticket.status == TicketStatus.RESOLVED
            and ticket.sla_policy == SlaPolicy.DECLARATION
            and ticket.linked_ticket_id is not None
        ):
            await start_replacement(session, ctx, ticket)

    return on_status_change


async def start_replacement(session: AsyncSession, ctx: DeskContext, declaration: Ticket) -> None:
    """The declaration is in (convention art. 6): the operator's replacement clock starts now."""
    follow = await session.scalar(
        select(Ticket).options(selectinload(Ticket.events)).where(Ticket.id == declaration.linked_ticket_id)
    )
    if follow is None or follow.status != TicketStatus.WAITING:
        return
    now = ctx.now()
    change_status(
        follow, TicketStatus.NEW, at=now,
        reason=f"Déclaration de sinistre reçue (demande {declaration.reference}) : remplacement à organiser.",
    )
    await recompute_clocks(session, follow, ctx.policy(follow.sla_policy), ctx.calendar, now)

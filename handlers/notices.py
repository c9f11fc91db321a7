"""What a notice to a teacher needs from the system of record, for every channel's sender."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from desk.models import InboundMessage, Ticket
from domain.vocabulary import Channel, TicketStatus

__all__ = ["mail_thread", "ticket_status", "ticket_statuses"]


async def ticket_statuses(session: AsyncSession, ticket_ids: list[int]) -> dict[int, TicketStatus]:
    """The current status of each ticket (absent ids are left out)."""
    if not ticket_ids:
        return {}
    rows = await session.execute(select(Ticket.id, Ticket.status).where(Ticket.id.in_(ticket_ids)))
    return {ticket_id: TicketStatus(status) for ticket_id, status in rows.all()}


async def ticket_status(
    sessions: async_sessionmaker[AsyncSession], ticket_id: int | None
) -> TicketStatus | None:
    """The status a notice about `ticket_id` is rendered for (None: no ticket, or gone)."""
    if ticket_id is None:
        return None
    async with sessions() as session:
        return (await ticket_statuses(session, [ticket_id])).get(ticket_id)


async def mail_thread(
    sessions: async_sessionmaker[AsyncSession], ticket_id: int
) -> tuple[str | None, list[str]]:
    """The ticket's reference and the Message-IDs of the mails it received, oldest first."""
    async with sessions() as session:
        reference = await session.scalar(select(Ticket.reference).where(Ticket.id == ticket_id))
        ids = (await session.scalars(
            select(InboundMessage.external_id)
            .where(InboundMessage.ticket_id == ticket_id, InboundMessage.channel == Channel.EMAIL.value)
            .order_by(InboundMessage.id)
        )).all()
    return reference, list(ids)

"""What a notice to a teacher needs from the system of record, for every channel's sender."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from desk import repositories as repo
from desk.models import InboundMessage, OutboxMessage, Ticket
from desk.outbox import Outgoing, OutboxStatus
from domain.vocabulary import Channel, TicketStatus

__all__ = ["queue_for_retry", "mail_thread", "mark_sent", "pending_notices", "ticket_status", "ticket_statuses"]


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


async def pending_notices(
    session: AsyncSession, channel: Channel, recipient: str, *, limit: int = 50
) -> list[tuple[Outgoing, TicketStatus | None]]:
    """Notices that waited for this recipient (a page that was closed), oldest first, each with
    the status of its ticket now; locked for the caller's transaction."""
    rows = (await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.channel == channel.value, OutboxMessage.recipient == recipient,
               OutboxMessage.status == OutboxStatus.PENDING)
        .order_by(OutboxMessage.id).limit(limit)
    )).all()
    statuses = await ticket_statuses(session, [row.ticket_id for row in rows if row.ticket_id])
    return [
        (Outgoing(row.id, row.channel, row.recipient, row.subject, row.body, row.payload, row.ticket_id,
                  row.attempts + 1), statuses.get(row.ticket_id) if row.ticket_id else None)
        for row in rows
    ]


async def mark_sent(session: AsyncSession, outbox_ids: list[int], at: datetime) -> None:
    """Notices delivered by their channel directly (still pending: the dispatcher did not take them)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(outbox_ids), OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SENT, sent_at=at, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )


async def queue_for_retry(
    sessions: async_sessionmaker[AsyncSession], channel: Channel, recipient: str,
    messages: list[tuple[str, dict[str, object], str]],
) -> None:
    """Messages a channel could not deliver now (body, payload, dedupe key): the outbox retries them."""
    async with sessions.begin() as session:
        for body, payload, dedupe_key in messages:
            await repo.enqueue(session, channel=channel.value, recipient=recipient, body=body,
                               payload=payload, dedupe_key=dedupe_key)

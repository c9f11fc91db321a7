"""A teacher's own tickets, for every door: find them, add a message or files, read the commitments.

Plain arguments in, rows or plain values out; each function runs in the caller's transaction.
A ticket is only ever found through its requester: nobody reads another person's ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from desk import repositories as repo
from desk.lifecycle import OPEN_STATUSES
from desk.models import Asset, Attachment, School, SlaClock, Ticket, TicketEvent
from domain.formats import normalise_reference
from domain.vocabulary import TicketStatus
from handlers.context import DeskContext
from handlers.satisfaction import tell_supervisors_of_low_rating
from handlers.ticket_status import move_status

__all__ = [
    "RATING_SCORES", "Done", "add_message", "asset_by_tag", "can_reopen", "resume_on_message", "attach_files", "answer_resolution", "cancel", "rate", "attachment_names", "due_dates", "has_satisfaction", "link_attachments",
    "open_tickets", "own_ticket", "own_ticket_by_reference", "school",
]


async def own_ticket(session: AsyncSession, requester_id: int, ticket_id: int) -> Ticket | None:
    """The requester's ticket with this id (events loaded), or None: never another person's."""
    return await session.scalar(
        select(Ticket)
        .options(selectinload(Ticket.events), selectinload(Ticket.organisation))
        .where(Ticket.id == ticket_id, Ticket.requester_id == requester_id)
    )


async def own_ticket_by_reference(
    session: AsyncSession, territory_id: int, requester_id: int, reference: str
) -> Ticket | None:
    return await session.scalar(
        select(Ticket)
        .options(selectinload(Ticket.events), selectinload(Ticket.organisation))
        .where(
            Ticket.territory_id == territory_id,
            Ticket.reference == (normalise_reference(reference) or reference.strip()),
            Ticket.requester_id == requester_id,
        )
    )


async def open_tickets(session: AsyncSession, requester_id: int) -> Sequence[Ticket]:
    return await repo.open_tickets_of_requester(session, requester_id)


async def add_message(
    session: AsyncSession, ctx: DeskContext, ticket: Ticket, *, requester_id: int | None, channel: str,
    text: str | None, attachment_ids: Sequence[int] = (), now: datetime,
) -> TicketEvent:
    """The teacher's words (and files) join the ticket's history; a ticket waiting on her goes
    back to work with its clocks resumed (DOMAIN.md §5)."""
    names = await attachment_names(session, attachment_ids)
    body = text or ""
    if names:
        body = (body + "\n\n" if body else "") + "Pièce(s) jointe(s) : " + ", ".join(names)
    event = await repo.add_event(
        session, ticket, "message", body=body, actor_kind="requester", actor_id=requester_id,
        channel=channel, data={"attachments": list(attachment_ids)} if attachment_ids else None, at=now,
    )
    await link_attachments(session, attachment_ids, ticket.id, event.id)
    await resume_on_message(session, ctx, ticket, from_requester=True, actor_id=requester_id, channel=channel,
                            now=now)
    return event


def can_reopen(ctx: DeskContext, ticket: Ticket, now: datetime) -> bool:
    """A closed ticket its teacher may reopen by writing: within the territory's window, not a merged duplicate."""
    if ticket.status != TicketStatus.CLOSED or ticket.closed_at is None or ticket.merged_into_id is not None:
        return False
    if ticket.anonymised_at is not None:
        return False
    return now - ticket.closed_at <= timedelta(days=ctx.territory.lifecycle.reopen_within_days)


async def resume_on_message(session: AsyncSession, ctx: DeskContext, ticket: Ticket, *, from_requester: bool,
                            actor_id: int | None, channel: str, now: datetime,
                            reason: str = "Réponse du demandeur reçue") -> TicketStatus | None:
    """What a message on a ticket sets going, for every door; the new status, or None.

    Waiting on the teacher: back to work, clocks resumed (DOMAIN.md §5). From the teacher herself,
    on a resolved ticket or a ticket closed within `lifecycle.reopen_within_days`: reopened for its
    queue (DOMAIN.md §8), which also stops the automatic closure.
    """
    actor_kind = "requester" if from_requester else "participant"
    if ticket.status == TicketStatus.WAITING:
        await move_status(session, ctx, ticket, TicketStatus.IN_PROGRESS, actor_kind=actor_kind, actor_id=actor_id,
                          reason=reason, channel=channel, at=now)
        return TicketStatus.IN_PROGRESS
    if not from_requester:
        return None
    if ticket.status == TicketStatus.RESOLVED:
        reason = "Rouverte : le demandeur a écrit après la résolution"
    elif can_reopen(ctx, ticket, now):
        reason = "Rouverte : le demandeur a écrit après la clôture"
    else:
        return None
    await move_status(session, ctx, ticket, TicketStatus.REOPENED, actor_kind=actor_kind, actor_id=actor_id,
                      reason=reason, channel=channel, at=now)
    return TicketStatus.REOPENED


async def attachment_names(session: AsyncSession, ids: Sequence[int]) -> list[str]:
    if not ids:
        return []
    rows = await session.execute(
        select(Attachment.filename).where(Attachment.id.in_(list(ids))).order_by(Attachment.id)
    )
    return [name for (name,) in rows.all()]


async def link_attachments(session: AsyncSession, ids: Sequence[int], ticket_id: int, event_id: int | None) -> None:
    """Attach files received earlier (stored with no ticket) to a ticket."""
    if not ids:
        return
    await session.execute(
        update(Attachment)
        .where(Attachment.id.in_(list(ids)), Attachment.ticket_id.is_(None))
        .values(ticket_id=ticket_id, event_id=event_id)
        .execution_options(synchronize_session=False)
    )


async def due_dates(session: AsyncSession, tickets: Sequence[Ticket]) -> dict[int, datetime]:
    """The commitment shown to the teacher per ticket: the target, else the breach deadline."""
    by_ticket: dict[int, dict[str, datetime | None]] = {}
    ids = [t.id for t in tickets if t.sla_policy]
    if ids:
        rows = await session.scalars(select(SlaClock).where(SlaClock.ticket_id.in_(ids)))
        policy_of = {t.id: t.sla_policy for t in tickets}
        for row in rows:
            if row.policy == policy_of.get(row.ticket_id):
                by_ticket.setdefault(row.ticket_id, {})[row.threshold] = row.deadline
    out: dict[int, datetime] = {}
    for ticket_id, thresholds in by_ticket.items():
        when = thresholds.get("target") or thresholds.get("breach")
        if when is not None:
            out[ticket_id] = when
    return out


async def school(session: AsyncSession, school_id: int) -> School | None:
    return await session.scalar(
        select(School).options(selectinload(School.commune)).where(School.id == school_id)
    )


async def has_satisfaction(session: AsyncSession, ticket_id: int) -> bool:
    found = await session.scalar(
        select(TicketEvent.id).where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "satisfaction")
    )
    return found is not None


class Done(StrEnum):
    """What a teacher's action on her ticket came to (the door says it in its own words)."""

    DONE = "done"
    NOT_OPEN = "not_open"  # cancelled, closed or resolved already: nothing to cancel
    NOT_RESOLVED = "not_resolved"  # a confirmation for a ticket that is not (or no longer) resolved
    ALREADY_RATED = "already_rated"
    NOT_CLOSED = "not_closed"  # a rating before the end
    INVALID = "invalid"


async def cancel(session: AsyncSession, ctx: DeskContext, ticket: Ticket, *, requester_id: int | None,
                 channel: str, now: datetime) -> Done:
    """The teacher withdraws her request (DOMAIN.md §8: only an open ticket can be cancelled)."""
    if TicketStatus(ticket.status) not in OPEN_STATUSES:
        return Done.NOT_OPEN
    await move_status(session, ctx, ticket, TicketStatus.CANCELLED, actor_kind="requester", actor_id=requester_id,
                      reason="Annulée par le demandeur", channel=channel, at=now)
    return Done.DONE


async def answer_resolution(session: AsyncSession, ctx: DeskContext, ticket: Ticket, *, solved: bool,
                            requester_id: int | None, channel: str, now: datetime) -> Done:
    """« Le problème est-il résolu ? » — yes closes the ticket, no reopens it for its queue."""
    if ticket.status != TicketStatus.RESOLVED:
        return Done.NOT_RESOLVED
    if solved:
        await move_status(session, ctx, ticket, TicketStatus.CLOSED, actor_kind="requester", actor_id=requester_id,
                          reason="Résolution confirmée par le demandeur", channel=channel, at=now)
    else:
        await move_status(session, ctx, ticket, TicketStatus.REOPENED, actor_kind="requester", actor_id=requester_id,
                          reason="Le demandeur indique que le problème persiste", channel=channel, at=now)
    return Done.DONE


async def rate(session: AsyncSession, ticket: Ticket, *, score: int, requester_id: int | None, channel: str,
               now: datetime, comment: str | None = None) -> Done:
    """The teacher's satisfaction, once per ticket, from 1 to 5, after the resolution, by its
    requester only; a low one tells the organisation's supervisors (`handlers.satisfaction`)."""
    if score not in RATING_SCORES:
        return Done.INVALID
    if requester_id is not None and ticket.requester_id is not None and requester_id != ticket.requester_id:
        return Done.INVALID
    if ticket.status not in (TicketStatus.CLOSED, TicketStatus.RESOLVED):
        return Done.NOT_CLOSED
    if await has_satisfaction(session, ticket.id):
        return Done.ALREADY_RATED
    comment = (comment or "").strip()[:1000] or None
    await repo.add_event(
        session, ticket, "satisfaction", body=f"Satisfaction : {score}/5" + (f"\n{comment}" if comment else ""),
        actor_kind="requester", actor_id=requester_id, channel=channel, data={"score": score}, at=now,
    )
    await tell_supervisors_of_low_rating(session, ticket, score, comment=comment)
    return Done.DONE


#: The satisfaction scale (DOMAIN.md: « de 1 à 5 »).
RATING_SCORES = range(1, 6)


async def asset_by_tag(session: AsyncSession, territory_id: int, tag: str) -> Asset | None:
    """The territory's device with this label (a typed tag, or a QR label's deep link)."""
    return await repo.asset_by_tag(session, territory_id, tag)


async def attach_files(session: AsyncSession, ticket: Ticket, *, requester_id: int | None, channel: str,
                       attachment_ids: Sequence[int], now: datetime) -> None:
    """Files sent with a report join its ticket, named in one message of the history."""
    if not attachment_ids:
        return
    names = await attachment_names(session, attachment_ids)
    event = await repo.add_event(
        session, ticket, "message", body="Pièce(s) jointe(s) : " + ", ".join(names), actor_kind="requester",
        actor_id=requester_id, channel=channel, data={"attachments": list(attachment_ids)}, at=now,
    )
    await link_attachments(session, attachment_ids, ticket.id, event.id)


async def example_tag(session: AsyncSession, territory_id: int, *, school_id: int | None,
                      equipment: str | None) -> str | None:
    """A real label of the territory to show as an example: her school's, same kind first."""
    order = (Asset.school_id != school_id, Asset.type != (equipment or ""), Asset.id)
    return await session.scalar(
        select(Asset.tag).where(Asset.territory_id == territory_id).order_by(*order).limit(1))

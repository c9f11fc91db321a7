"""Queries and small helpers shared by the flows (all scoped to the turn's requester)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from bot.turn import Turn
from desk import repositories as repo
from desk.lifecycle import OPEN_STATUSES
from desk.models import Attachment, School, SlaClock, Ticket, TicketEvent
from domain.formats import normalise_reference
from domain.vocabulary import TicketStatus
from handlers.ticket_status import move_status

#: Characters of a message given to the NLU; a longer message is kept whole but triaged on its start.
MAX_TRIAGE_CHARS = 4096
_WORDLIKE = re.compile(r"\w", re.UNICODE)
_SKIP_WORDS = {"passer", "non", "rien", "aucun", "aucune", "pas d'etiquette", "je ne sais pas", "sais pas", "skip"}


def plain(text: str) -> str:
    """Lower case, no accents, single spaces: for keyword tests."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.replace("’", "'").split())


def has_words(text: str | None) -> bool:
    """True when the text has at least one letter or digit (not only emojis or punctuation)."""
    return bool(text and _WORDLIKE.search(text))


def is_skip(text: str) -> bool:
    return plain(text).strip(" .!") in _SKIP_WORDS


def excerpt(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def sender_channel(turn: Turn) -> str:
    return turn.inbound.channel.value


async def own_ticket(turn: Turn, ticket_id: int | None) -> Ticket | None:
    """The requester's ticket with this id (events loaded), or None: never another person's."""
    if ticket_id is None or turn.requester is None:
        return None
    return await turn.session.scalar(
        select(Ticket)
        .options(selectinload(Ticket.events), selectinload(Ticket.organisation))
        .where(Ticket.id == ticket_id, Ticket.requester_id == turn.requester.id)
    )


async def own_ticket_by_reference(turn: Turn, reference: str) -> Ticket | None:
    if turn.requester is None:
        return None
    return await turn.session.scalar(
        select(Ticket)
        .options(selectinload(Ticket.events), selectinload(Ticket.organisation))
        .where(
            Ticket.territory_id == turn.territory.id,
            Ticket.reference == (normalise_reference(reference) or reference.strip()),
            Ticket.requester_id == turn.requester.id,
        )
    )


async def open_tickets(turn: Turn) -> Sequence[Ticket]:
    if turn.requester is None:
        return []
    return await repo.open_tickets_of_requester(turn.session, turn.requester.id)


def is_open(ticket: Ticket) -> bool:
    return TicketStatus(ticket.status) in OPEN_STATUSES


async def move(turn: Turn, ticket: Ticket, target: TicketStatus, reason: str) -> None:
    """Change a status as the requester and keep the SLA clocks in line, in this transaction."""
    await move_status(turn.session, turn.ctx, ticket, target, actor_kind="requester",
                      actor_id=turn.requester.id if turn.requester else None, reason=reason,
                      channel=sender_channel(turn), at=turn.now)


async def add_message(turn: Turn, ticket: Ticket, text: str | None, attachment_ids: Sequence[int] = ()) -> None:
    """The teacher's words (and files) join the ticket's history; a waiting ticket goes back to work."""
    names = await attachment_names(turn, attachment_ids)
    body = text or ""
    if names:
        body = (body + "\n\n" if body else "") + "Pièce(s) jointe(s) : " + ", ".join(names)
    event = await repo.add_event(
        turn.session, ticket, "message", body=body, actor_kind="requester",
        actor_id=turn.requester.id if turn.requester else None, channel=sender_channel(turn),
        data={"attachments": list(attachment_ids)} if attachment_ids else None, at=turn.now,
    )
    await link_attachments(turn, attachment_ids, ticket.id, event.id)
    if ticket.status == TicketStatus.WAITING:
        await move(turn, ticket, TicketStatus.IN_PROGRESS, "Réponse du demandeur reçue")
    turn.ticket_id = ticket.id


async def attachment_names(turn: Turn, ids: Sequence[int]) -> list[str]:
    if not ids:
        return []
    rows = await turn.session.execute(
        select(Attachment.filename).where(Attachment.id.in_(list(ids))).order_by(Attachment.id)
    )
    return [name for (name,) in rows.all()]


async def link_attachments(turn: Turn, ids: Sequence[int], ticket_id: int, event_id: int | None) -> None:
    """Attach files received earlier (stored with no ticket) to a ticket."""
    if not ids:
        return
    await turn.session.execute(
        update(Attachment)
        .where(Attachment.id.in_(list(ids)), Attachment.ticket_id.is_(None))
        .values(ticket_id=ticket_id, event_id=event_id)
        .execution_options(synchronize_session=False)
    )


async def due_dates(turn: Turn, tickets: Sequence[Ticket]) -> dict[int, datetime]:
    """The commitment shown to the teacher per ticket: the target, else the breach deadline."""
    by_ticket: dict[int, dict[str, datetime | None]] = {}
    ids = [t.id for t in tickets if t.sla_policy]
    if ids:
        rows = await turn.session.scalars(select(SlaClock).where(SlaClock.ticket_id.in_(ids)))
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


async def school(turn: Turn, school_id: int | None) -> School | None:
    if school_id is None:
        return None
    return await turn.session.scalar(
        select(School).options(selectinload(School.commune)).where(School.id == school_id)
    )


async def has_satisfaction(turn: Turn, ticket_id: int) -> bool:
    found = await turn.session.scalar(
        select(TicketEvent.id).where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "satisfaction")
    )
    return found is not None

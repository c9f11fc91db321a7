"""Small helpers shared by the flows; the queries are `handlers.teacher_tickets`' (scoped to the turn's requester)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime

from bot.turn import Turn
from desk.models import School, Ticket
from domain.vocabulary import OPEN_TICKET_STATUSES, TicketStatus
from handlers import teacher_tickets as tickets
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
    return await tickets.own_ticket(turn.session, turn.requester.id, ticket_id)


async def own_ticket_by_reference(turn: Turn, reference: str) -> Ticket | None:
    if turn.requester is None:
        return None
    return await tickets.own_ticket_by_reference(turn.session, turn.territory.id, turn.requester.id, reference)


async def open_tickets(turn: Turn) -> Sequence[Ticket]:
    if turn.requester is None:
        return []
    return await tickets.open_tickets(turn.session, turn.requester.id)


def is_open(ticket: Ticket) -> bool:
    return TicketStatus(ticket.status) in OPEN_TICKET_STATUSES


async def move(turn: Turn, ticket: Ticket, target: TicketStatus, reason: str) -> None:
    """Change a status as the requester and keep the SLA clocks in line, in this transaction."""
    await move_status(turn.session, turn.ctx, ticket, target, actor_kind="requester",
                      actor_id=turn.requester.id if turn.requester else None, reason=reason,
                      channel=sender_channel(turn), at=turn.now)


async def add_message(turn: Turn, ticket: Ticket, text: str | None, attachment_ids: Sequence[int] = ()) -> None:
    """The teacher's words (and files) join the ticket's history; a waiting ticket goes back to work."""
    await tickets.add_message(turn.session, turn.ctx, ticket,
                              requester_id=turn.requester.id if turn.requester else None,
                              channel=sender_channel(turn), text=text, attachment_ids=attachment_ids, now=turn.now)
    turn.ticket_id = ticket.id


async def attachment_names(turn: Turn, ids: Sequence[int]) -> list[str]:
    return await tickets.attachment_names(turn.session, ids)


async def link_attachments(turn: Turn, ids: Sequence[int], ticket_id: int, event_id: int | None) -> None:
    """Attach files received earlier (stored with no ticket) to a ticket."""
    await tickets.link_attachments(turn.session, ids, ticket_id, event_id)


async def due_dates(turn: Turn, ticket_rows: Sequence[Ticket]) -> dict[int, datetime]:
    """The commitment shown to the teacher per ticket: the target, else the breach deadline."""
    return await tickets.due_dates(turn.session, ticket_rows)


async def school(turn: Turn, school_id: int | None) -> School | None:
    if school_id is None:
        return None
    return await tickets.school(turn.session, school_id)


async def has_satisfaction(turn: Turn, ticket_id: int) -> bool:
    return await tickets.has_satisfaction(turn.session, ticket_id)


#: Said once per conversation to a teacher who writes in English (issue 12, item 15).
FRENCH_ONLY = ("Le guichet vous répond en français. J'ai compris votre message écrit en anglais et je "
               "le prends en compte ; si un point n'est pas clair, je vous poserai la question.")


def note_language(turn: Turn, language: str | None) -> None:
    """A message in English is understood (nlu.language glosses it); say once that the desk answers in French."""
    if language == "en" and not turn.state.french_noted:
        turn.state.french_noted = True
        turn.say(FRENCH_ONLY)

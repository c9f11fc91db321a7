"""The other problems of a message, offered after its ticket (`handlers.problems` finds them).

The chat doors keep the offer in the conversation and answer it with buttons; the mail door
keeps it on the ticket (an internal note agents see too) and reads « oui » / « non » in the
teacher's reply. Either way nothing is opened without her « oui », and each ticket is routed on
its own.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk import repositories as repo
from desk.models import Ticket, TicketEvent
from domain.french import of_organisation
from domain.labels import INTENT_FR
from domain.vocabulary import Channel, Equipment, Intent, Role
from handlers.context import DeskContext
from handlers.report import ReportDraft, ReportOutcome, open_report, organisation_name

#: Key of a ticket event's data holding the problems still offered (a list of `Problem.to_pending`).
PENDING = "other_problems"


def _excerpt(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def offer_sentence(session: AsyncSession, ctx: DeskContext, pending: dict[str, Any],
                         school_id: int | None) -> str:
    """« Votre message signale aussi un autre problème : « … ». Il relève de la commune de … »."""
    sentence = f"Votre message signale aussi un autre problème : « {_excerpt(pending['text'])} »."
    if pending.get("role"):
        name = await organisation_name(session, ctx, Role(pending["role"]), school_id)
        sentence += f" Il relève {of_organisation(name)}."
    return sentence


def beside_question_sentence(pending: dict[str, Any]) -> str:
    """« Votre message signale aussi un problème : « … ». », said of a problem reported beside a
    question on another demand's progress (`handlers.problems.problems_beside_question`)."""
    return f"Votre message signale aussi un problème : « {_excerpt(pending['text'])} »."


async def keep_offer(session: AsyncSession, ticket: Ticket, pending: list[dict[str, Any]], *,
                     channel: str) -> None:
    """Keep the offer on the ticket until the teacher answers it (the mail door)."""
    lines = "; ".join(f"« {_excerpt(p['text'], 120)} » ({INTENT_FR.get(p['intent'], p['intent'])})" for p in pending)
    await repo.add_event(
        session, ticket, "note", internal=True, channel=channel,
        body=f"Le message signale aussi : {lines}. Une demande séparée a été proposée au demandeur.",
        data={PENDING: pending},
    )


async def _offer_event(session: AsyncSession, ticket: Ticket) -> TicketEvent | None:
    events = (await session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "note")
        .order_by(TicketEvent.id.desc()))).all()
    return next((e for e in events if (e.data or {}).get(PENDING)), None)


async def pending_offer(session: AsyncSession, ticket: Ticket) -> list[dict[str, Any]]:
    """The problems still offered on this ticket, first one first."""
    event = await _offer_event(session, ticket)
    return list((event.data or {})[PENDING]) if event is not None else []


async def decline_offer(session: AsyncSession, ticket: Ticket) -> None:
    event = await _offer_event(session, ticket)
    if event is not None:
        event.data = {**(event.data or {}), PENDING: [], "declined": True}


async def accept_offer(session: AsyncSession, ctx: DeskContext, ticket: Ticket, *,
                       channel: Channel) -> tuple[dict[str, Any], ReportOutcome] | None:
    """Open the first problem still offered on `ticket`, routed on its own; the rest of the offer
    moves to the new ticket. None when nothing is offered (or the rules open no ticket for it)."""
    event = await _offer_event(session, ticket)
    if event is None:
        return None
    pending = list((event.data or {})[PENDING])
    first, rest = pending[0], pending[1:]
    event.data = {**(event.data or {}), PENDING: [], "accepted": first["text"]}
    outcome = await open_report(session, ctx, ReportDraft(
        text=first["text"], intent=Intent(first["intent"]), channel=channel,
        requester_id=ticket.requester_id, school_id=ticket.school_id,
        equipment=Equipment(first["equipment"]) if first.get("equipment") else None,
        room=first.get("room"), subject=None,
    ))
    if rest:
        opened = await session.get(Ticket, outcome.tickets[0].ticket_id)
        assert opened is not None
        await keep_offer(session, opened, rest, channel=channel.value)
    return first, outcome

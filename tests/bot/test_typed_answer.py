"""A typed answer to an agent's question is the answer (issue: it was triaged as a new message
and the ticket stayed « En attente du demandeur »), unless it is clearly a new problem."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from desk.models import SlaClock, Ticket, TicketEvent
from domain.vocabulary import TicketStatus
from handlers.context import context_for
from handlers.ticket_status import move_status
from tests.bot.conftest import Chat


async def _waiting_projector_ticket(chat: Chat, db, clock) -> int:
    await chat.onboard()
    await chat.say("le vidéoprojecteur de la classe de CM2 ne s'allume plus")
    for _ in range(5):
        if "Envoyer" in chat.labels:
            break
        await chat.press("Toujours en panne" if "Toujours en panne" in chat.labels else "Passer")
    await chat.press("Envoyer")
    async with db.sessions.begin() as session:
        ticket = await session.scalar(select(Ticket).options(selectinload(Ticket.events)))
        await move_status(session, context_for("sem", now=clock), ticket, TicketStatus.WAITING,
                          actor_kind="agent", reason="Quel est le numéro de l'étiquette ?", at=clock.now)
        return ticket.id


async def test_typed_answer_goes_to_the_waiting_ticket(chat: Chat, desk_db, clock) -> None:
    ticket_id = await _waiting_projector_ticket(chat, desk_db, clock)
    await chat.say("C'est le SEM-004512, il est collé sous l'appareil")
    assert "c'est ajouté à votre demande" in chat.text and "Je veux être sûr" not in chat.text
    async with desk_db.sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        messages = (await session.scalars(select(TicketEvent.body).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "message"))).all()
        dues = (await session.scalars(select(SlaClock.due_at).where(SlaClock.ticket_id == ticket_id))).all()
    assert ticket.status == TicketStatus.IN_PROGRESS
    assert any("SEM-004512" in (body or "") for body in messages)
    assert dues and all(due is not None for due in dues)


async def test_a_clearly_new_problem_is_not_taken_for_the_answer(chat: Chat, desk_db, clock) -> None:
    ticket_id = await _waiting_projector_ticket(chat, desk_db, clock)
    await chat.say("par ailleurs l'imprimante du bureau de la direction fait des bourrages papier à chaque impression")
    assert "c'est ajouté à votre demande" not in chat.text
    async with desk_db.sessions() as session:
        assert (await session.get(Ticket, ticket_id)).status == TicketStatus.WAITING

"""E-mail goes through the same use cases as the other doors (regressions of the e-mail copy).

- an answer by e-mail to a ticket waiting on the teacher resumes its SLA clocks (they kept
  `due_at = NULL` and the watcher never fired them);
- a theft reported by e-mail gets the convention's checklist, as in the chat.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.email.parse import external_id
from desk.models import OutboxMessage, SlaClock, Ticket
from domain.vocabulary import TicketStatus
from handlers.context import context_for
from handlers.ticket_status import move_status
from tests.email.conftest import TEACHER, make_mail


async def _receive(desk, raw: bytes):
    return await desk.intake.receive(raw, external_id=external_id(raw), source="test")


async def _clocks(desk, ticket_id: int) -> list[SlaClock]:
    async with desk.db.sessions() as session:
        return list((await session.scalars(
            select(SlaClock).where(SlaClock.ticket_id == ticket_id, SlaClock.fired_at.is_(None))
        )).all())


async def test_answer_by_mail_to_a_waiting_ticket_resumes_its_clocks(desk) -> None:
    await _receive(desk, make_mail(message_id="<report@ac-lyon.fr>"))
    async with desk.db.sessions() as session:
        ack = await session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == TEACHER))
    ticket_id = ack.ticket_id
    assert (await _clocks(desk, ticket_id)) and all(c.due_at is not None for c in await _clocks(desk, ticket_id))

    async with desk.db.sessions.begin() as session:  # the agent asks a question: the clocks pause
        ticket = await session.scalar(select(Ticket).options(selectinload(Ticket.events)).where(Ticket.id == ticket_id))
        await move_status(session, context_for("sem"), ticket, TicketStatus.WAITING, actor_kind="agent",
                          reason="Quelle salle ?")
    assert all(c.due_at is None for c in await _clocks(desk, ticket_id))

    answer = make_mail("C'est la salle 12.", subject="Re: Vidéoprojecteur en panne", message_id="<answer@ac-lyon.fr>",
                       headers={"In-Reply-To": ack.payload["message_id"]})
    assert (await _receive(desk, answer)).status == "processed"
    async with desk.db.sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket.status == TicketStatus.IN_PROGRESS
    clocks = await _clocks(desk, ticket_id)
    assert clocks and all(c.due_at is not None for c in clocks)


async def test_theft_reported_by_mail_gets_the_declaration_checklist(desk) -> None:
    raw = make_mail("Bonjour, on nous a volé deux tablettes cette nuit dans la classe de CE1, la porte a été fracturée.",
                    subject="Vol de tablettes", message_id="<theft@ac-lyon.fr>")
    assert (await _receive(desk, raw)).status == "processed"
    async with desk.db.sessions() as session:
        ack = await session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == TEACHER))
    assert "Important — ce qu'il faut faire maintenant :" in ack.body
    assert "déclarer le sinistre à son assureur dans les 48 h" in ack.body
    assert "police ou de la gendarmerie" in ack.body and "fiche d'engagement de versement" in ack.body
    assert "N-4 20 %" in ack.body and "plus de 6 ans n'est pas remplacé" in ack.body


async def test_a_device_note_by_mail_goes_to_the_logbook_without_a_ticket(desk) -> None:
    """« note SEM-… : … » by e-mail, as on the chat doors: a logbook line, an answer, no ticket."""
    from desk.models import Asset, AssetEvent, InboundMessage

    async with desk.db.sessions.begin() as session:
        asset = Asset(territory_id=desk.territory_id, tag="SEM-654321", type="projector", school_id=desk.school.id)
        session.add(asset)
    raw = make_mail("note SEM-654321 : lampe changée par le directeur, ça remarche", subject="Carnet de bord",
                    message_id="<note@ac-lyon.fr>")
    assert (await _receive(desk, raw)).status == "processed"
    async with desk.db.sessions() as session:
        assert (await session.scalars(select(Ticket))).all() == []
        notes = (await session.scalars(select(AssetEvent).where(AssetEvent.kind == "note"))).all()
        reply = await session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == TEACHER))
        inbound = await session.scalar(select(InboundMessage))
    assert [(n.body, n.actor_id) for n in notes] == [("lampe changée par le directeur, ça remarche", desk.teacher_id)]
    assert "c'est noté dans le carnet de bord du matériel SEM-654321" in reply.body and inbound.ticket_id is None

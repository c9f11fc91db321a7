"""By e-mail the rating is a written note or a link to `/avis/<token>` (tests/web/test_rating_page.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.email.notices import NoticeMailSender
from bot.email.parse import external_id
from desk.models import OutboxMessage, Ticket
from desk.outbox import Outgoing
from domain.vocabulary import TicketStatus
from handlers.context import context_for
from handlers.ticket_status import move_status
from tests.email.conftest import TEACHER, make_mail
from tests.typo import plain


async def _receive(desk, raw: bytes):
    return await desk.intake.receive(raw, external_id=external_id(raw), source="test")


async def test_confirming_by_mail_offers_the_rating_link(desk) -> None:
    await _receive(desk, make_mail(message_id="<report@ac-lyon.fr>"))
    async with desk.db.sessions.begin() as session:
        ack = await session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == TEACHER))
        ticket = await session.scalar(select(Ticket).options(selectinload(Ticket.events))
                                      .where(Ticket.id == ack.ticket_id))
        await move_status(session, context_for("sem"), ticket, TicketStatus.RESOLVED, actor_kind="agent",
                          reason="Lampe remplacée")
    answer = make_mail("oui", subject="Re: Vidéoprojecteur en panne", message_id="<yes@ac-lyon.fr>",
                       headers={"In-Reply-To": ack.payload["message_id"]})
    assert (await _receive(desk, answer)).status == "processed"
    async with desk.db.sessions() as session:
        ticket = await session.get(Ticket, ack.ticket_id)
        reply = (await session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == TEACHER)
                                       .order_by(OutboxMessage.id.desc()))).first()
    assert ticket.status == TicketStatus.CLOSED and ticket.rating_token
    assert "en répondant par une note de 1 à 5, ou en un clic : " in plain(reply.body)
    assert f"http://127.0.0.1:8080/avis/{ticket.rating_token}" in reply.body


class _Keep:
    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    async def send(self, message: Outgoing) -> None:
        self.sent.append(message)


async def test_a_notice_asking_for_a_rating_carries_the_link(desk) -> None:
    await _receive(desk, make_mail(message_id="<report2@ac-lyon.fr>"))
    async with desk.db.sessions() as session:
        ticket_id = await session.scalar(select(OutboxMessage.ticket_id).where(OutboxMessage.recipient == TEACHER))
    inner = _Keep()
    sender = NoticeMailSender(inner, desk.db.sessions, "https://guichet.example.fr")
    buttons = [{"label": str(n), "payload": f"rate:{n}:{ticket_id}"} for n in range(1, 6)]
    await sender.send(Outgoing(1, "email", TEACHER, "Demande close", "La demande est close.",
                               {"buttons": buttons}, ticket_id, 1))
    async with desk.db.sessions() as session:
        token = (await session.get(Ticket, ticket_id)).rating_token
    body = inner.sent[0].body
    assert "Vous pouvez nous donner votre avis en répondant par une note de 1 à 5." in body
    assert f"Ou donnez votre avis en un clic : https://guichet.example.fr/avis/{token}" in plain(body)

"""Over real sockets: the app's SMTP intake answers after commit; the dispatcher threads the answer."""

from __future__ import annotations

import asyncio
import email
import email.policy
import smtplib
from collections.abc import AsyncIterator

import aiosmtplib
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.email import TicketThreading
from guichet.channels.email import intake_key
from bot.email.smtp_intake import start_smtp_intake
from desk.db import create_engine, session_factory
from desk.models import InboundMessage, OutboxMessage, Ticket
from desk.outbox import EmailSender, OutboxDispatcher
from guichet.settings import load_settings
from guichet.wiring import build_app
from tests.email.conftest import _NLU, OURS, TEACHER, free_port, make_mail


@pytest.fixture
async def served(desk) -> AsyncIterator[tuple[web.Application, int]]:
    """The whole application with its SMTP intake on a free loopback port."""
    port = free_port()
    settings = load_settings(database_url=desk.db.url, mail_from=OURS, territory="sem",
                             smtp_intake_port=port, http_host="127.0.0.1", background=False)
    app = build_app(settings, desk.db.engine, desk.db.sessions, nlu=_NLU)
    runner = web.AppRunner(app)
    await runner.setup()
    yield app, port
    await runner.cleanup()


async def _dispatch(desk, sink) -> None:
    dispatcher = OutboxDispatcher(desk.db.sessions)
    dispatcher.register("email", EmailSender(
        f"smtp://127.0.0.1:{sink.port}", OURS, threading=TicketThreading(desk.db.sessions, OURS)))
    report = await dispatcher.run_once()
    assert report.sent == report.claimed > 0


async def test_smtp_mail_becomes_a_ticket_and_a_threaded_acknowledgement(desk, served, sink) -> None:
    """Sent to the intake: 250 after commit, ticket opened, the answer delivered with threading headers."""
    app, port = served
    errors, answer = await aiosmtplib.send(
        make_mail(message_id="<s1@ac-lyon.fr>"), hostname="127.0.0.1", port=port,
        sender=TEACHER, recipients=[OURS])
    assert errors == {} and "OK queued as" in answer
    async with desk.db.sessions() as session:
        ticket = await session.scalar(select(Ticket))
        row = await session.scalar(select(InboundMessage))
    assert ticket is not None and row.ticket_id == ticket.id and row.status == "processed"
    await _dispatch(desk, sink)
    (envelope,) = sink.received
    sent = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert sent["Subject"] == f"[Guichet {ticket.reference}] Vidéoprojecteur en panne"
    assert sent["Message-ID"].startswith(f"<guichet.{ticket.reference}.") and sent["Message-ID"].endswith("@sem.test>")
    assert sent["In-Reply-To"] == "<s1@ac-lyon.fr>"
    assert "<s1@ac-lyon.fr>" in sent["References"]
    assert sent["Auto-Submitted"] == "auto-replied" and sent["X-Loop"] == OURS
    assert ticket.reference in sent.get_content()
    assert app[intake_key] is not None


async def test_agent_reply_gets_threading_headers_from_the_ticket(desk, served, sink) -> None:
    """An agent's reply queued without headers goes out In-Reply-To the teacher's last mail."""
    _, port = served
    await aiosmtplib.send(make_mail(message_id="<s1@ac-lyon.fr>"), hostname="127.0.0.1", port=port,
                          sender=TEACHER, recipients=[OURS])
    async with desk.db.sessions.begin() as session:
        ticket = await session.scalar(select(Ticket))
        session.add(OutboxMessage(channel="email", recipient=TEACHER, subject=f"Votre demande {ticket.reference}",
                                  body="Le technicien passe demain matin.", ticket_id=ticket.id,
                                  payload={"kind": "reply", "reference": ticket.reference}))
    await _dispatch(desk, sink)
    by_subject = {email.message_from_bytes(e.content, policy=email.policy.default)["Auto-Submitted"]:
                  email.message_from_bytes(e.content, policy=email.policy.default) for e in sink.received}
    reply = by_subject["no"]
    assert reply["In-Reply-To"] == "<s1@ac-lyon.fr>"
    assert reply["Message-ID"].startswith(f"<guichet.{ticket.reference}.outbox-")
    assert f"[Guichet {ticket.reference}]" in reply["Subject"]


async def test_reply_through_smtp_threads_into_the_ticket(desk, served, sink) -> None:
    """The teacher answering our acknowledgement over SMTP adds a message, not a ticket."""
    _, port = served
    await aiosmtplib.send(make_mail(message_id="<s1@ac-lyon.fr>"), hostname="127.0.0.1", port=port,
                          sender=TEACHER, recipients=[OURS])
    await _dispatch(desk, sink)
    ack = email.message_from_bytes(sink.received[0].content, policy=email.policy.default)
    reply = make_mail("Merci, c'est la salle 12.", subject="Re: " + ack["Subject"], message_id="<s2@ac-lyon.fr>",
                      headers={"In-Reply-To": ack["Message-ID"], "References": ack["References"] + " " + ack["Message-ID"]})
    await aiosmtplib.send(reply, hostname="127.0.0.1", port=port, sender=TEACHER, recipients=[OURS])
    async with desk.db.sessions() as session:
        assert len((await session.scalars(select(Ticket))).all()) == 1
        rows = (await session.scalars(select(InboundMessage).order_by(InboundMessage.id))).all()
    assert rows[1].ticket_id == rows[0].ticket_id


async def test_bounce_with_empty_return_path_is_not_answered(desk, served) -> None:
    """MAIL FROM:<> is a bounce: stored, ignored, never answered."""
    _, port = served
    def send_bounce() -> None:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail("", [OURS], make_mail(message_id="<b1@x>"))

    await asyncio.to_thread(send_bounce)
    async with desk.db.sessions() as session:
        row = await session.scalar(select(InboundMessage))
        assert row.status == "ignored" and (await session.scalar(select(OutboxMessage))) is None


async def test_database_failure_answers_451_and_the_sender_retries(desk, tmp_path) -> None:
    """When the mail cannot be committed the intake answers 451, so the sending server keeps it."""
    broken = create_engine(f"sqlite+aiosqlite:///{tmp_path}/missing.db")  # no tables: every write fails
    from guichet.channels.email import build_intake
    settings = load_settings(database_url=desk.db.url, mail_from=OURS)
    intake = build_intake(settings, session_factory(broken), nlu=_NLU)
    port = free_port()
    server = await start_smtp_intake(intake, "127.0.0.1", port)
    try:
        with pytest.raises(aiosmtplib.SMTPDataError) as caught:
            await aiosmtplib.send(make_mail(message_id="<f1@x>"), hostname="127.0.0.1", port=port,
                                  sender=TEACHER, recipients=[OURS])
        assert caught.value.code == 451
    finally:
        server.close()
        await server.wait_closed()
        await broken.dispose()

"""The e-mail use case: tickets, threading, senders, loop protection, retries and quarantine."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.email.parse import external_id
from desk.lifecycle import change_status
from desk.models import Attachment, InboundMessage, OutboxMessage, Ticket, TicketEvent
from handlers.email_intake import SCHOOL_QUESTION, held, quarantined, replay
from tests.email.conftest import OURS, TEACHER, make_mail

CORPUS = Path(__file__).parent / "corpus"


async def _receive(desk, raw: bytes):
    return await desk.intake.receive(raw, external_id=external_id(raw), source="test")


async def _rows(desk, model, *where):
    async with desk.db.sessions() as session:
        return (await session.scalars(select(model).where(*where).order_by(model.id))).all()


async def _ticket(desk, ticket_id: int) -> Ticket:
    async with desk.db.sessions() as session:
        return await session.get(Ticket, ticket_id)


async def test_new_mail_opens_a_ticket_and_queues_an_acknowledgement(desk) -> None:
    """A known teacher's report opens an e-mail ticket at her school and gets a threaded answer."""
    receipt = await _receive(desk, make_mail(message_id="<m1@ac-lyon.fr>"))
    assert receipt.status == "processed"
    (row,) = await _rows(desk, InboundMessage)
    ticket = await _ticket(desk, row.ticket_id)
    assert ticket.channel == "email" and ticket.school_id == desk.school.id
    assert ticket.requester_id == desk.teacher_id and ticket.organisation_id
    (ack,) = await _rows(desk, OutboxMessage, OutboxMessage.recipient == TEACHER)
    assert ack.subject == f"[Guichet {ticket.reference}] Vidéoprojecteur en panne"
    assert ticket.reference in ack.body and "Bonjour" in ack.body
    assert ack.payload["message_id"].startswith(f"<guichet.{ticket.reference}.")
    assert ack.payload["message_id"].endswith("@sem.test>")
    assert ack.payload["in_reply_to"] == "<m1@ac-lyon.fr>"
    assert ack.payload["auto_submitted"] == "auto-replied" and ack.payload["x_loop"] == OURS
    assert SCHOOL_QUESTION not in ack.body


async def test_same_message_id_twice_is_processed_once(desk) -> None:
    """A redelivered mail (same Message-ID) opens no second ticket and sends no second answer."""
    raw = make_mail(message_id="<dup@ac-lyon.fr>")
    first = await _receive(desk, raw)
    second = await _receive(desk, raw)
    assert first.created and not second.created and second.status == "processed"
    assert len(await _rows(desk, Ticket)) == 1
    assert len(await _rows(desk, OutboxMessage, OutboxMessage.recipient == TEACHER)) == 1


async def test_reply_joins_by_in_reply_to_and_resumes_a_waiting_ticket(desk) -> None:
    """A reply naming our Message-ID becomes a message on the ticket, which leaves `waiting`."""
    await _receive(desk, make_mail(message_id="<m1@ac-lyon.fr>"))
    (ack,) = await _rows(desk, OutboxMessage, OutboxMessage.recipient == TEACHER)
    async with desk.db.sessions.begin() as session:
        ticket = await session.get(Ticket, ack.ticket_id, options=[])
        await session.refresh(ticket, ["events"])
        change_status(ticket, "waiting", reason="Question posée à l'enseignante.")
    reply = make_mail("C'est la salle 12.\n\nLe 20/11/2026 à 10:02, Guichet a écrit :\n> Quelle salle ?",
                      subject="Re: whatever", message_id="<m2@ac-lyon.fr>",
                      headers={"In-Reply-To": ack.payload["message_id"]})
    assert (await _receive(desk, reply)).status == "processed"
    assert len(await _rows(desk, Ticket)) == 1
    ticket = await _ticket(desk, ack.ticket_id)
    assert ticket.status == "in_progress"
    messages = await _rows(desk, TicketEvent, TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "message")
    assert "Quelle salle" in messages[-1].body  # the full mail is kept, quotes included
    assert len(await _rows(desk, OutboxMessage, OutboxMessage.recipient == TEACHER)) == 1


@pytest.mark.parametrize(("days_closed", "status"), [(2, "reopened"), (20, "closed")])
async def test_reply_to_a_closed_ticket_reopens_it_within_the_window(desk, days_closed, status) -> None:
    """The teacher's mail on a ticket closed 2 days ago reopens it; 20 days (window: 14) it only joins its history."""
    from datetime import timedelta

    from desk.clock import utcnow

    await _receive(desk, make_mail(message_id="<m1@ac-lyon.fr>"))
    (ack,) = await _rows(desk, OutboxMessage, OutboxMessage.recipient == TEACHER)
    async with desk.db.sessions.begin() as session:
        ticket = await session.get(Ticket, ack.ticket_id, options=[])
        await session.refresh(ticket, ["events"])
        closed = utcnow() - timedelta(days=days_closed)
        change_status(ticket, "resolved", at=closed - timedelta(hours=1))
        change_status(ticket, "closed", at=closed)
    reply = make_mail("Le vidéoprojecteur s'éteint de nouveau au bout de dix minutes.", subject="Re: panne",
                      message_id="<m3@ac-lyon.fr>", headers={"In-Reply-To": ack.payload["message_id"]})
    assert (await _receive(desk, reply)).status == "processed"
    assert (await _ticket(desk, ack.ticket_id)).status == status
    messages = await _rows(desk, TicketEvent, TicketEvent.ticket_id == ack.ticket_id, TicketEvent.kind == "message")
    assert "de nouveau" in messages[-1].body


async def test_cc_participant_reply_to_the_original_mail_joins_the_thread(desk) -> None:
    """A colleague in Cc answering the teacher's first mail lands on the same ticket (GLPI #16903)."""
    await _receive(desk, make_mail(message_id="<m1@ac-lyon.fr>", cc="paul.martin@ac-lyon.fr"))
    reply = make_mail("Je confirme, même souci en CM1.", sender="paul.martin@ac-lyon.fr",
                      subject="RE: Vidéoprojecteur en panne", message_id="<p1@ac-lyon.fr>",
                      headers={"In-Reply-To": "<m1@ac-lyon.fr>", "References": "<m1@ac-lyon.fr>"})
    assert (await _receive(desk, reply)).status == "processed"
    assert len(await _rows(desk, Ticket)) == 1


async def test_subject_tag_joins_only_for_participants(desk) -> None:
    """The subject tag threads a participant's mail; a stranger using it gets a ticket of their own."""
    await _receive(desk, make_mail(message_id="<m1@ac-lyon.fr>", cc="paul.martin@ac-lyon.fr"))
    (ticket,) = await _rows(desk, Ticket)
    tag = f"[Guichet {ticket.reference}] Vidéoprojecteur en panne"
    await _receive(desk, make_mail("Il marche de nouveau par moments.", sender="paul.martin@ac-lyon.fr",
                                   subject=tag, message_id="<p2@ac-lyon.fr>"))
    assert len(await _rows(desk, Ticket)) == 1
    await _receive(desk, make_mail("Le vidéoprojecteur de ma classe ne s'allume plus non plus.",
                                   sender="luc.petit@ac-grenoble.fr", subject=tag, message_id="<s1@x>"))
    tickets = await _rows(desk, Ticket)
    assert len(tickets) == 2 and tickets[1].requester_id != tickets[0].requester_id


async def test_unknown_academic_sender_is_asked_for_the_school(desk) -> None:
    """An unknown @ac-reunion.fr address gets a ticket and the question about the school."""
    await _receive(desk, make_mail("Plus d'internet depuis ce matin.", sender="nina@ac-reunion.fr",
                                   subject="Internet", message_id="<n1@x>"))
    (ticket,) = await _rows(desk, Ticket)
    assert ticket.school_id is None
    (ack,) = await _rows(desk, OutboxMessage, OutboxMessage.recipient == "nina@ac-reunion.fr")
    assert SCHOOL_QUESTION in ack.body


async def test_uai_code_in_the_mail_names_the_school(desk) -> None:
    """An academic sender giving the school's UAI code is routed with that school."""
    body = f"Bonjour, l'imprimante est en panne. École {desk.school.uai}."
    await _receive(desk, make_mail(body, sender="leo@ac-lyon.fr", subject="Imprimante", message_id="<u1@x>"))
    (ticket,) = await _rows(desk, Ticket)
    assert ticket.school_id == desk.school.id


async def test_unknown_outside_sender_is_held_with_one_polite_reply(desk) -> None:
    """A gmail address opens no ticket: the mail is held for an agent and answered once."""
    receipt = await _receive(desk, make_mail(sender="parent@gmail.com", message_id="<g1@x>"))
    assert receipt.status == "held"
    assert await _rows(desk, Ticket) == []
    (reply,) = await _rows(desk, OutboxMessage)
    assert reply.recipient == "parent@gmail.com" and "agent" in reply.body
    async with desk.db.sessions() as session:
        assert [m.id for m in await held(session)] == [receipt.inbound_id]


async def test_howto_mail_gets_a_tutorial_and_no_ticket(desk) -> None:
    """A how-to question is answered with the best tutorial; no ticket is opened."""
    receipt = await _receive(desk, make_mail(
        "Bonjour, comment brancher mon ordinateur portable au vidéoprojecteur ?",
        subject="Question", message_id="<h1@x>"))
    assert receipt.status == "processed"
    assert await _rows(desk, Ticket) == []
    (reply,) = await _rows(desk, OutboxMessage)
    assert "tutoriel" in reply.body


async def test_small_talk_is_held_with_one_reply(desk) -> None:
    """« Merci beaucoup » alone opens nothing: one polite reply, held for an agent."""
    receipt = await _receive(desk, make_mail("Merci beaucoup !", subject="Merci", message_id="<t1@x>"))
    assert receipt.status == "held"
    assert len(await _rows(desk, OutboxMessage)) == 1


@pytest.mark.parametrize("headers,sender,subject", [
    ({"Auto-Submitted": "auto-replied"}, TEACHER, "Vidéoprojecteur"),
    ({"Precedence": "bulk"}, TEACHER, "Vidéoprojecteur"),
    ({"X-Loop": OURS}, TEACHER, "Vidéoprojecteur"),
    ({"Return-Path": "<>"}, TEACHER, "Vidéoprojecteur"),
    ({}, "MAILER-DAEMON@mx.ac-lyon.fr", "Vidéoprojecteur"),
    ({}, "postmaster@ac-lyon.fr", "Vidéoprojecteur"),
    ({}, "noreply@ac-lyon.fr", "Vidéoprojecteur"),
    ({}, TEACHER, "Réponse automatique : Absence du bureau"),
    ({}, TEACHER, "Out of office: back Monday"),
])
async def test_machine_mail_is_never_answered(desk, headers, sender, subject) -> None:
    """Auto-replies, bulk, our own loops, bounces and noreply senders get no answer and no ticket."""
    receipt = await _receive(desk, make_mail(sender=sender, subject=subject, headers=headers,
                                             message_id="<auto@x>"))
    assert receipt.status == "ignored"
    assert await _rows(desk, OutboxMessage) == [] and await _rows(desk, Ticket) == []


async def test_threaded_auto_reply_is_recorded_but_not_acknowledged(desk) -> None:
    """An out-of-office answer to our acknowledgement is kept on the ticket, internal, unanswered."""
    await _receive(desk, make_mail(message_id="<m1@ac-lyon.fr>"))
    (ack,) = await _rows(desk, OutboxMessage)
    await _receive(desk, make_mail("Je suis absente.", subject="Absence du bureau", message_id="<oo@x>",
                                   headers={"In-Reply-To": ack.payload["message_id"],
                                            "Auto-Submitted": "auto-replied"}))
    events = await _rows(desk, TicketEvent, TicketEvent.ticket_id == ack.ticket_id, TicketEvent.kind == "message")
    assert events[-1].internal and events[-1].data["automated"]
    assert len(await _rows(desk, OutboxMessage)) == 1


async def test_at_most_five_answers_per_sender_per_hour(desk) -> None:
    """Seven reports in a row: seven tickets, five acknowledgements."""
    for n in range(7):
        await _receive(desk, make_mail(f"Le PC numéro {n} ne démarre plus.", subject=f"PC {n}",
                                       message_id=f"<r{n}@x>"))
    assert len(await _rows(desk, Ticket)) == 7
    assert len(await _rows(desk, OutboxMessage, OutboxMessage.recipient == TEACHER)) == 5


async def test_mail_without_from_is_quarantined_at_once(desk) -> None:
    """No sender: quarantined with the reason after one attempt, listed for admins."""
    receipt = await _receive(desk, make_mail(sender="", message_id="<nofrom@x>"))
    assert receipt.status == "quarantined"
    async with desk.db.sessions() as session:
        (row,) = await quarantined(session)
    assert "no sender" in row.error and row.attempts == 1


async def test_failures_are_retried_three_times_then_quarantined_and_replayable(desk) -> None:
    """A crashing step is retried up to 3 attempts, quarantined, and a replay processes it again."""
    real_parse = desk.intake._parse
    desk.intake._parse = lambda raw: (_ for _ in ()).throw(RuntimeError("parser exploded"))
    receipt = await _receive(desk, make_mail(message_id="<boom@x>"))
    assert receipt.status == "received"
    assert await desk.intake.retry_pending() == 1
    assert await desk.intake.retry_pending() == 1
    assert await desk.intake.retry_pending() == 0
    async with desk.db.sessions() as session:
        (row,) = await quarantined(session)
    assert row.attempts == 3 and "parser exploded" in row.error
    assert await _rows(desk, Ticket) == []
    desk.intake._parse = real_parse
    assert await desk.intake.replay(row.id) == "processed"
    assert len(await _rows(desk, Ticket)) == 1


async def test_replay_refuses_a_mail_that_is_not_quarantined(desk) -> None:
    """Replaying a processed mail is refused."""
    receipt = await _receive(desk, make_mail(message_id="<ok@x>"))
    from handlers.email_intake import NotQuarantined
    async with desk.db.sessions.begin() as session:
        with pytest.raises(NotQuarantined):
            await replay(session, receipt.inbound_id)


async def test_big_attachment_is_skipped_with_a_note_and_a_sentence(desk) -> None:
    """A 20 MB file is not kept: a note on the ticket, a sentence in the acknowledgement."""
    from email.message import EmailMessage
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = TEACHER, OURS, "Photos de l'écran cassé"
    mail["Message-ID"] = "<big@x>"
    mail.set_content("Bonjour, un élève a fait tomber la tablette, l'écran est fissuré.")
    mail.add_attachment(b"\x00" * (20 * 1024 * 1024), maintype="video", subtype="mp4", filename="video.mp4")
    mail.add_attachment(b"jpeg" * 100, maintype="image", subtype="jpeg", filename="photo.jpg")
    assert (await _receive(desk, bytes(mail))).status == "processed"
    ticket = (await _rows(desk, Ticket))[0]  # damage: the declaration, then the replacement
    files = await _rows(desk, Attachment, Attachment.ticket_id == ticket.id)
    assert [(f.filename, f.content_type) for f in files] == [("photo.jpg", "image/jpeg")]
    notes = await _rows(desk, TicketEvent, TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "note")
    assert "video.mp4" in notes[0].body
    (ack,) = await _rows(desk, OutboxMessage, OutboxMessage.recipient == TEACHER)
    assert "« video.mp4 » (20,0 Mo) dépasse la taille maximale de 10 Mo" in ack.body


async def test_header_injection_in_the_subject_is_neutralised(desk) -> None:
    """A subject smuggling CR/LF cannot add headers to the acknowledgement."""
    raw = make_mail(subject="Panne", message_id="<inj@x>").replace(
        b"Subject: Panne", b"Subject: =?utf-8?Q?Panne_PC=0D=0ABcc:_victim@evil.test?=")
    await _receive(desk, raw)
    (ack,) = await _rows(desk, OutboxMessage)
    assert "\n" not in ack.subject and "\r" not in ack.subject


async def test_ten_thousand_recipients_keep_a_capped_participant_list(desk) -> None:
    """A mail to 10 000 addresses is processed; participants stay capped."""
    many = ", ".join(f"p{n}@ac-lyon.fr" for n in range(10_000))
    await _receive(desk, make_mail(to=f"{OURS}, {many}", message_id="<many@x>"))
    (ticket,) = await _rows(desk, Ticket)
    events = await _rows(desk, TicketEvent, TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "message")
    assert 1 < len(events[0].data["participants"]) <= 21


EXPECTED = {
    "outlook_html_signature.eml": ("processed", True),
    "thunderbird_reply.eml": ("processed", True),
    "iphone.eml": ("processed", True),
    "latin1.eml": ("processed", True),
    "forwarded.eml": ("processed", True),
    "autoreply_absence.eml": ("ignored", False),
    "bounce_mailer_daemon.eml": ("ignored", False),
    "attachment.eml": ("processed", True),
    "broken_mime.eml": ("processed", True),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_corpus_mail_reaches_the_expected_outcome(desk, name) -> None:
    """Each real-world-shaped mail is stored, then ticketed or ignored as it should be; never lost."""
    raw = (CORPUS / name).read_bytes()
    status, opens_ticket = EXPECTED[name]
    receipt = await _receive(desk, raw)
    assert receipt.status == status
    tickets = await _rows(desk, Ticket)
    assert bool(tickets) is opens_ticket
    acks = await _rows(desk, OutboxMessage, OutboxMessage.recipient == TEACHER)
    assert len(acks) == (1 if opens_ticket else 0)
    if name == "attachment.eml":
        files = await _rows(desk, Attachment, Attachment.ticket_id == tickets[0].id)
        assert [f.filename for f in files] == ["tablette fissurée.jpg"]
    if name == "latin1.eml":
        assert "maîtres" in tickets[0].description and "80 €" in tickets[0].description
    if name == "outlook_html_signature.eml":
        (event,) = await _rows(desk, TicketEvent, TicketEvent.ticket_id == tickets[0].id,
                               TicketEvent.kind == "message")
        assert "<script>" not in event.data["html"] and "onerror" not in event.data["html"]
        assert "vidéoprojecteur" in event.body

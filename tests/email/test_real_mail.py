"""Issue 13: what 911 real-world mails taught the e-mail intake, one test per finding.

Each test names the file of the shared corpus (../shared/corpus/mail) it comes from; the
tests reading that corpus are skipped when it is absent, the others carry their own bytes.
"""

from __future__ import annotations

import base64
import email
import email.policy

import aiosmtplib
import pytest
from sqlalchemy import select

from bot.email.headers import sender_address
from bot.email.parse import MailParser, external_id
from bot.email.smtp_intake import start_smtp_intake
from bot.email.text import decode_bytes, strip_reply
from desk.models import InboundMessage, OutboxMessage, Ticket, TicketEvent
from desk.outbox import EmailSender, Outgoing
from tests.email.conftest import OURS, TEACHER, free_port, make_mail
from tests.email.replay import PROJECT_CORPUS, find_corpus

SHARED = find_corpus()
parse = MailParser(OURS)


def shared(relative: str) -> bytes:
    if SHARED is None or not (SHARED / relative).is_file():
        pytest.skip(f"shared mail corpus not found beside the repository ({relative})")
    return (SHARED / relative).read_bytes()


async def _receive(desk, raw: bytes):
    return await desk.intake.receive(raw, external_id=external_id(raw), source="test")


# 1. Group syntax in To: ---------------------------------------------------------------------


def test_unlisted_recipients_group_does_not_raise() -> None:
    """`To: unlisted-recipients:; (no To-header on input)` (mimekit delivery-status.txt) parses."""
    raw = shared("mimekit/UnitTests/TestData/messages/delivery-status.txt")
    mail = parse(raw)
    assert mail.sender == "postmaster@mm1.sprynet.com" and mail.to == ()
    assert mail.bounce is not None and mail.automated


def test_group_syntax_keeps_the_other_addresses() -> None:
    """A group with members gives its members; an empty group gives none, and no traceback."""
    raw = make_mail().replace(
        f"To: {OURS}".encode(),
        "To: unlisted-recipients:; (no To-header on input)\nCc: Équipe: paul@ac-lyon.fr, anne@ac-lyon.fr;".encode())
    mail = parse(raw)
    assert mail.to == () and mail.cc == ("paul@ac-lyon.fr", "anne@ac-lyon.fr")


# 2. Bounces ------------------------------------------------------------------------------------


async def test_bare_mailer_daemon_bounce_is_ignored_not_quarantined(desk) -> None:
    """`From: Mail Delivery Subsystem <MAILER-DAEMON>` (sisimai lhost-sendmail-04) is ignored."""
    raw = shared("sisimai-set-of-emails/maildir/bsd/lhost-sendmail-04.eml")
    receipt = await _receive(desk, raw)
    assert receipt.status == "ignored"
    async with desk.db.sessions() as session:
        assert (await session.scalar(select(OutboxMessage))) is None


async def test_bounce_of_our_acknowledgement_is_noted_on_the_ticket(desk) -> None:
    """A « Non remis » answering our acknowledgement puts « Adresse injoignable » on that ticket."""
    await _receive(desk, make_mail(message_id="<m1@ac-lyon.fr>"))
    async with desk.db.sessions() as session:
        ack = await session.scalar(select(OutboxMessage))
        ticket = await session.get(Ticket, ack.ticket_id)
    raw = (PROJECT_CORPUS / "non_remis_mairie.eml").read_bytes().replace(
        b"<guichet.2026-00021.a1b2c3d4e5f60718@sem.test>", ack.payload["message_id"].encode())
    receipt = await _receive(desk, raw)
    assert receipt.status == "ignored"
    async with desk.db.sessions() as session:
        row = await session.get(InboundMessage, receipt.inbound_id)
        notes = (await session.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "note"))).all()
        answers = (await session.scalars(select(OutboxMessage))).all()
    assert row.ticket_id == ticket.id
    (note,) = [n for n in notes if "injoignable" in (n.body or "")]
    assert note.internal and note.body.startswith("Adresse injoignable : ecole.pasteur@ville-firminy.fr.")
    assert "5.1.1" in note.body and len(answers) == 1


async def test_mail_without_from_gives_a_reason_an_operator_understands(desk) -> None:
    """No From at all stays quarantined, with the reason in French in `guichet mail quarantine`."""
    import io

    from guichet.mail_cli import show_quarantine

    receipt = await _receive(desk, make_mail(sender="", message_id="<nofrom@x>"))
    assert receipt.status == "quarantined"
    out = io.StringIO()
    await show_quarantine(desk.db.sessions, out)
    assert "aucun en-tête From : personne à qui répondre" in out.getvalue()


# 3. Long lines --------------------------------------------------------------------------------


async def test_lines_longer_than_1000_octets_are_accepted(desk) -> None:
    """A 1 242-octet line (sisimai lhost-gmx-01, php-mime-mail-parser m0015) gets 250, not 500."""
    port = free_port()
    server = await start_smtp_intake(desk.intake, "127.0.0.1", port)
    body = "Bonjour, " + "le vidéoprojecteur ne s'allume plus " * 40
    raw = make_mail(message_id="<long@ac-lyon.fr>").replace(b"\n\n", b"\n\n" + body.encode() + b"\n", 1)
    assert max(len(line) for line in raw.splitlines()) > 1200
    try:
        errors, answer = await aiosmtplib.send(raw, hostname="127.0.0.1", port=port,
                                               sender=TEACHER, recipients=[OURS])
    finally:
        server.close()
        await server.wait_closed()
    assert errors == {} and "OK queued as" in answer


# 4. Threading headers verbatim -----------------------------------------------------------------

OUTLOOK_ID = "<AM0PR02MB5617C0B4D3E1F2A3B4C5D6E7F8A9B0C1D2E3F4A5@AM0PR02MB5617.eurprd02.prod.outlook.com>"


def test_long_outlook_message_id_goes_out_verbatim() -> None:
    """In-Reply-To and References carry the Outlook id as is, never as =?utf-8?q?…?= words."""
    sender = EmailSender("smtp://127.0.0.1:25", OURS)
    refs = " ".join([OUTLOOK_ID, "<guichet.2026-00017.3f9a1c2e7b4d5a60@sem.test>", OUTLOOK_ID.replace("AM0", "DB9")])
    message = Outgoing(7, "email", TEACHER, "[Guichet 2026-00017] Vidéoprojecteur", "Bonjour,",
                       {"message_id": "<guichet.2026-00017.outbox-7@sem.test>", "in_reply_to": OUTLOOK_ID,
                        "references": refs}, 3, 1)
    raw = bytes(sender.build(message))
    threading = [line for line in raw.split(b"\n\n")[0].splitlines()
                 if not line.startswith((b"Subject", b"From", b"To", b"Date", b"X-", b"Content", b"MIME", b"Auto"))]
    assert threading and not any(b"=?" in line for line in threading)
    sent = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(sent["In-Reply-To"]) == OUTLOOK_ID
    assert str(sent["References"]).split() == refs.split()
    assert sent["Message-ID"] == "<guichet.2026-00017.outbox-7@sem.test>"
    assert all(len(line) <= 998 for line in raw.splitlines())


# 5. Mojibake ------------------------------------------------------------------------------------


def test_utf8_labelled_latin1_or_ascii_is_read_as_utf8() -> None:
    """« Envoyé … Mobilité » (mikel-mail raw_email5/6/10): valid UTF-8 wins over a single-byte label."""
    data = "Envoyé depuis mon mobile — Mobilité".encode()
    assert decode_bytes(data, "iso-8859-1") == decode_bytes(data, "us-ascii") == "Envoyé depuis mon mobile — Mobilité"
    assert decode_bytes("80 € pour les maîtres".encode("cp1252"), "iso-8859-1") == "80 € pour les maîtres"


def test_raw_8bit_header_keeps_its_accents() -> None:
    """« Problème d'imprimante à l'école » in raw Latin-1 header bytes (mikel-mail invalid_subject_characters)."""
    raw = make_mail(subject="PLACEHOLDER").replace(b"PLACEHOLDER", "Problème d'imprimante à l'école".encode("latin-1"))
    assert parse(raw).subject == "Problème d'imprimante à l'école"
    raw_utf8 = make_mail(subject="PLACEHOLDER").replace(b"PLACEHOLDER", "Écran noir, salle informatique".encode())
    assert parse(raw_utf8).subject == "Écran noir, salle informatique"


def test_iso_8859_8_i_subject_is_decoded() -> None:
    """An `iso-8859-8-i` encoded-word (php-mime-mail-parser issue149 family) is not U+FFFD."""
    raw = make_mail(subject="PLACEHOLDER").replace(b"PLACEHOLDER", b"=?iso-8859-8-i?B?+enw5SDk7fk=?=")
    subject = parse(raw).subject
    assert "\ufffd" not in subject and subject == base64.b64decode("+enw5SDk7fk=").decode("iso-8859-8")


# 6. Forwards --------------------------------------------------------------------------------------


@pytest.mark.parametrize("separator", [
    "----------  Forwarded Message  ----------",   # KMail
    "Begin forwarded message:",                   # Apple Mail
    "-------- Message transféré --------",        # Thunderbird / Outlook in French
    "Début du message réexpédié :",               # Apple Mail in French
])
def test_forwarded_report_is_the_report(separator) -> None:
    """FYI above a forwarded teacher's mail: the triage text keeps the forwarded report."""
    text = (f"FYI\n\n{separator}\nDe : Claire Dubois <claire.dubois@ac-lyon.fr>\nDate : 23/11/2026\n"
            "Objet : TBI\n\nBonjour,\nplus de son sur le TBI de la classe de CM1.\n\n-- \nClaire")
    kept = strip_reply(text, subject="Fwd: TBI")
    assert kept.startswith("FYI") and "plus de son sur le TBI de la classe de CM1." in kept
    assert "Claire Dubois" not in kept


def test_outlook_french_forward_keeps_the_teacher_mail() -> None:
    """Outlook's French « De : … Envoyé : … À : … Objet : » block under « TR : » (project corpus)."""
    mail = parse((PROJECT_CORPUS / "outlook_transfert_directeur.eml").read_bytes())
    assert mail.sender == "ce.0421234a@ac-lyon.fr" and mail.sender_name == "MARTIN Philippe"
    assert "plus de son sur le TBI de la classe de CM1 (salle 4)" in mail.triage_text
    assert "allumées et le câble est bien branché" in mail.triage_text


def test_a_reply_still_drops_the_quoted_outlook_block() -> None:
    """Under « RE : », the same block is the quoted original and is cut."""
    text = "C'est réparé, merci.\n\nDe : Guichet <guichet@sem.test>\nEnvoyé : lundi\nÀ : moi\nObjet : TBI\n\nAncien"
    assert strip_reply(text, subject="RE: TBI") == "C'est réparé, merci."


# 7. Names and greetings --------------------------------------------------------------------------


@pytest.mark.parametrize("value,name,address", [
    ("Big Bug bb@bug.com", "Big Bug", "bb@bug.com"),                 # mikel-mail, no angle brackets
    ("root@localhost <root@localhost>", None, "root@localhost"),     # display name is an address
    ('"Dupont, Jean" <Jean.Dupont@ac-lyon.fr>', "Dupont, Jean", "jean.dupont@ac-lyon.fr"),
    ("<marie@ac-lyon.fr>", None, "marie@ac-lyon.fr"),
    ("MAILER-DAEMON", "MAILER-DAEMON", None),
])
def test_sloppy_from_headers_are_read_as_mail_clients_do(value, name, address) -> None:
    """The address and a greetable name, or None for the name when it is an address."""
    assert sender_address(value) == (name, address)


async def test_greeting_is_bonjour_comma_when_the_name_is_an_address(desk) -> None:
    """« Bonjour root@localhost, » never: « Bonjour, » instead."""
    await _receive(desk, make_mail(sender="parent@gmail.com <parent@gmail.com>", message_id="<g@x>"))
    async with desk.db.sessions() as session:
        (reply,) = (await session.scalars(select(OutboxMessage))).all()
    assert reply.recipient == "parent@gmail.com" and reply.body.startswith("Bonjour,\n")


# 8. HTML-only and broken boundaries --------------------------------------------------------------


def test_illegal_boundary_gives_clean_text() -> None:
    """mikel-mail raw_email_with_illegal_boundary.eml: no boundary or part-header lines in the text."""
    mail = parse(shared("mikel-mail/spec/fixtures/emails/mime_emails/raw_email_with_illegal_boundary.eml"))
    assert mail.text and "Content-Type" not in mail.text and "\n--" not in "\n" + mail.text


def test_html_in_a_text_part_is_turned_into_text() -> None:
    """mimekit issue358.txt: markup in the description becomes plain text."""
    mail = parse(shared("mimekit/UnitTests/TestData/messages/issue358.txt"))
    assert "<div" not in mail.text.lower() and "<html" not in mail.text.lower()


async def test_broken_mail_keeps_its_original_downloadable(desk) -> None:
    """The raw bytes are stored untouched beside the cleaned description."""
    raw = (PROJECT_CORPUS / "broken_mime.eml").read_bytes()
    receipt = await _receive(desk, raw)
    from desk.models import Attachment
    async with desk.db.sessions() as session:
        row = await session.get(InboundMessage, receipt.inbound_id)
        blob = await session.get(Attachment, row.payload["raw_attachment_id"])
    assert blob.content == raw and blob.content_type == "message/rfc822"


# The project's French mails ----------------------------------------------------------------------


def test_academic_out_of_office_is_automated() -> None:
    """Zimbra « Réponse automatique : … » from ac-lyon.fr is machine mail and threads to its ticket."""
    mail = parse((PROJECT_CORPUS / "reponse_automatique_academique.eml").read_bytes())
    assert mail.automated and mail.bounce is None
    assert mail.subject.startswith("Réponse automatique : [Guichet 2026-00017]")
    assert mail.thread_refs == ("2026-00017",) and mail.sender_name == "Sophie Lefèvre"


def test_scanner_mail_keeps_its_pdf() -> None:
    """A copier's « Message from RNP… » carries its scan as a PDF attachment."""
    mail = parse((PROJECT_CORPUS / "scanner_pdf_mairie.eml").read_bytes())
    (pdf,) = mail.attachments
    assert pdf.filename == "20261126140327622.pdf" and pdf.content.startswith(b"%PDF-1.4")
    assert "Scan Date" in mail.text


def test_forward_as_attachment_brings_the_forwarded_text() -> None:
    """An Outlook « forward as attachment » (message/rfc822): the inner mail's text is the report."""
    inner = make_mail("Le vidéoprojecteur de la salle 2 ne s'allume plus.", sender="claire@ac-lyon.fr")
    outer = email.message.EmailMessage()
    outer["From"], outer["To"], outer["Subject"] = TEACHER, OURS, "TR: Vidéoprojecteur"
    outer.set_content("Pour information.")
    outer.add_attachment(email.message_from_bytes(inner, policy=email.policy.default))
    mail = parse(bytes(outer))
    assert "Le vidéoprojecteur de la salle 2 ne s'allume plus." in mail.triage_text


@pytest.mark.parametrize("name", ["reponse_automatique_academique.eml", "non_remis_mairie.eml"])
async def test_french_machine_mail_gets_no_answer(desk, name) -> None:
    """The academic out-of-office and the town hall's « Non remis » are ignored, unanswered."""
    receipt = await _receive(desk, (PROJECT_CORPUS / name).read_bytes())
    assert receipt.status == "ignored"
    async with desk.db.sessions() as session:
        assert (await session.scalar(select(OutboxMessage))) is None


async def test_director_forward_opens_a_ticket_about_the_forwarded_problem(desk) -> None:
    """The director's « TR : » opens a ticket whose description is the teacher's report."""
    receipt = await _receive(desk, (PROJECT_CORPUS / "outlook_transfert_directeur.eml").read_bytes())
    assert receipt.status == "processed"
    async with desk.db.sessions() as session:
        ticket = await session.scalar(select(Ticket))
    assert "plus de son sur le TBI" in ticket.description



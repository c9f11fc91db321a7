"""`guichet mail quarantine` / `guichet mail replay`: the operator lists what the intake gave up
on and, once the cause is fixed, processes it again."""

from __future__ import annotations

import io

from sqlalchemy import select

from bot.email.parse import external_id
from desk.models import Ticket
from guichet.mail_cli import replay_mails, show_quarantine
from handlers.email_intake import quarantined
from tests.email.conftest import make_mail


async def _quarantine_one(desk) -> int:
    """A mail whose processing crashes three times (a parser bug), as in production."""
    real_parse = desk.intake._parse
    desk.intake._parse = lambda raw: (_ for _ in ()).throw(RuntimeError("parser exploded"))
    raw = make_mail(message_id="<boom@ecole.fr>")
    await desk.intake.receive(raw, external_id=external_id(raw), source="test")
    while await desk.intake.retry_pending():
        pass
    desk.intake._parse = real_parse
    async with desk.db.sessions() as session:
        (row,) = await quarantined(session)
    return row.id


async def test_the_quarantine_is_listed_then_replayed(desk) -> None:
    empty = io.StringIO()
    assert await show_quarantine(desk.db.sessions, empty) == 0
    assert empty.getvalue() == "Aucun e-mail en quarantaine.\n"

    mail_id = await _quarantine_one(desk)
    listing = io.StringIO()
    assert await show_quarantine(desk.db.sessions, listing) == 0
    text = listing.getvalue()
    assert f"n° {mail_id} — reçu le " in text and "3 tentative(s) — erreur de traitement (RuntimeError: parser exploded)" in text
    assert "guichet mail replay <n°>" in text

    out, err = io.StringIO(), io.StringIO()
    assert await replay_mails(desk.intake, [mail_id], out, err) == 0
    assert out.getvalue() == f"n° {mail_id} : traité (ticket créé ou complété).\n" and err.getvalue() == ""
    async with desk.db.sessions() as session:
        assert len((await session.scalars(select(Ticket))).all()) == 1


async def test_replaying_what_is_not_quarantined_is_refused_politely(desk) -> None:
    mail_id = await _quarantine_one(desk)
    out, err = io.StringIO(), io.StringIO()
    assert await replay_mails(desk.intake, [mail_id], out, err) == 0
    assert await replay_mails(desk.intake, [mail_id, 999_999], out, err) == 1
    assert err.getvalue().splitlines() == [
        f"n° {mail_id} : cet e-mail n'est pas en quarantaine, rien à refaire.",
        "n° 999999 : aucun e-mail ne porte ce numéro.",
    ]

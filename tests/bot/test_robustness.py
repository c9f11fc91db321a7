"""The engine never crashes nor loses a message: duplicates, restarts, failures, floods and bad input."""

from __future__ import annotations

from tests.typo import plain

from sqlalchemy import func, select

from bot.engine import RateLimit
from bot.messages import Inbound, InboundAttachment
from desk.models import InboundMessage, Ticket
from domain.vocabulary import Channel
from tests.bot.conftest import Chat, make_engine


async def _inbound(db) -> list[InboundMessage]:
    async with db.sessions() as session:
        return list((await session.scalars(select(InboundMessage).order_by(InboundMessage.id))).all())


async def test_duplicate_message_is_ignored(chat: Chat, desk_db) -> None:
    """The same message_id twice: the second answer is empty and nothing is stored twice."""
    await chat.say("bonjour", message_id="dup-1")
    assert chat.last
    assert await chat.say("bonjour", message_id="dup-1") == []
    rows = await _inbound(desk_db)
    assert [r.external_id for r in rows] == ["dup-1"] and rows[0].status == "processed"


async def _stored(db, external_id: str, payload: dict) -> int:
    """A row stored by a channel before the engine sees it (what the Telegram webhook does)."""
    from desk import repositories as repo

    async with db.sessions.begin() as session:
        row_id = await repo.insert_inbound(
            session, channel="telegram", external_id=external_id, payload=payload, sender="tg-1"
        )
    assert row_id is not None
    return row_id


async def test_a_stored_message_is_answered_once_even_by_two_processes(desk_db, nlu, kb, clock) -> None:
    """Two engines (two `serve` processes) handed the same stored update: one answer, one turn."""
    row_id = await _stored(desk_db, "update:1", {"update_id": 1})
    inbound = Inbound(Channel.TELEGRAM, "tg-1", "tg-1:1", text="bonjour", stored_row=row_id)
    first, second = make_engine(desk_db, nlu, kb, clock), make_engine(desk_db, nlu, kb, clock)
    answers = [await first.handle(inbound), await second.handle(inbound)]
    assert answers[0] and answers[1] == []
    rows = await _inbound(desk_db)
    assert [(r.external_id, r.status, r.attempts) for r in rows] == [("update:1", "processed", 1)]
    assert rows[0].payload == {"update_id": 1}  # the channel's raw record is kept as it came


async def test_files_of_a_stored_message_survive_a_failed_turn(desk_db, nlu, kb, clock) -> None:
    """Attachments are kept before the turn: a crash in the turn loses neither them nor the row."""

    class BrokenNlu:
        async def aparse(self, text: str):
            raise RuntimeError("model file corrupted")

    chat = Chat(make_engine(desk_db, nlu, kb, clock), channel=Channel.TELEGRAM, sender="tg-1")
    await chat.onboard()
    row_id = await _stored(desk_db, "update:2", {"update_id": 2})
    photo = InboundAttachment("photo.jpg", "image/jpeg", b"\x89PNG", 4)
    inbound = Inbound(Channel.TELEGRAM, "tg-1", "tg-1:2", text="écran cassé", kind="photo",
                      attachments=(photo,), stored_row=row_id)
    answer = await make_engine(desk_db, BrokenNlu(), kb, clock).handle(inbound)
    assert "Désolé, un incident technique" in answer[0].text
    async with desk_db.sessions() as session:
        row = await session.get(InboundMessage, row_id)
        assert row is not None and row.status == "quarantined" and len(row.payload["attachment_ids"]) == 1


async def test_restart_mid_conversation_resumes(desk_db, nlu, kb, clock) -> None:
    """A new engine on the same database continues at the summary where the first one stopped."""
    first = Chat(make_engine(desk_db, nlu, kb, clock))
    await first.onboard()
    await first.say("le vidéoprojecteur de la classe de CM2 ne s'allume plus")
    if "Toujours en panne" in first.labels:
        await first.press("Toujours en panne")
    await first.press("Passer")
    summary = first.last
    second = Chat(make_engine(desk_db, nlu, kb, clock), ids=first.ids)
    second.last = summary
    await second.press("Envoyer")
    assert "2026-00001" in second.text


async def test_failure_apologises_and_keeps_the_message(desk_db, nlu, kb, clock) -> None:
    """A broken NLU gives a polite apology; the message stays stored, marked failed."""

    class BrokenNlu:
        async def aparse(self, text: str):
            raise RuntimeError("model file corrupted")

    chat = Chat(make_engine(desk_db, nlu, kb, clock))
    await chat.onboard()
    broken = Chat(make_engine(desk_db, BrokenNlu(), kb, clock), ids=chat.ids)
    await broken.say("le wifi ne marche pas")
    assert "Désolé, un incident technique" in broken.text and "bien enregistré" in broken.text
    last = (await _inbound(desk_db))[-1]
    assert last.payload["text"] == "le wifi ne marche pas" and last.status == "quarantined" and "corrupted" in last.error


async def test_flood_is_throttled_once_and_kept(desk_db, nlu, kb, clock) -> None:
    """Over the limit: one « vous envoyez beaucoup de messages » and every message stored."""
    chat = Chat(make_engine(desk_db, nlu, kb, clock, RateLimit(messages=3, per_seconds=60)))
    answers = [await chat.say(f"bonjour {i}") for i in range(6)]
    assert all(answers[i] for i in range(3))
    assert "Vous envoyez beaucoup de messages ; je traite les précédents" in plain(answers[3][0].text)
    assert answers[4] == [] and answers[5] == []
    rows = await _inbound(desk_db)
    assert len(rows) == 6 and [r.status for r in rows[3:]] == ["throttled"] * 3


async def test_unsupported_kinds_get_clear_answers(chat: Chat, desk_db) -> None:
    """Stickers, voice, locations, videos and unknown kinds each get a French explanation."""
    await chat.onboard()
    expected = {
        "sticker": "autocollant", "voice": "messages vocaux", "location": "position",
        "video": "vidéos", "unsupported": "ce type de message",
    }
    for kind, words in expected.items():
        await chat.send(Inbound(Channel.WEBCHAT, chat.sender, f"k-{kind}", kind=kind))
        assert words in chat.text, kind


async def test_empty_and_emoji_only_texts(chat: Chat, desk_db) -> None:
    """No words at all: the teacher is asked to describe the problem."""
    await chat.onboard()
    for text in ("", "   ", "😀😀🙏", "?!"):
        await chat.say(text)
        assert "Je n'ai pas trouvé de texte" in chat.text, text


async def test_long_text_is_kept_whole_and_triaged(chat: Chat, desk_db) -> None:
    """A 6 000-character e-mail-like text is stored whole, acknowledged and triaged on its start."""
    await chat.onboard()
    text = "Bonjour, le vidéoprojecteur de la classe de CM2 ne s'allume plus. " + "Merci de votre aide. " * 300
    await chat.say(text)
    assert plain(chat.last[0].text).startswith("Votre message est long ; je l'ai bien reçu")
    assert len(chat.last) > 1
    assert (await _inbound(desk_db))[-1].payload["text"] == text


async def test_stale_and_malformed_buttons(chat: Chat, desk_db) -> None:
    """Unknown, malformed or out-of-date button data: « Ce bouton n'est plus valable »."""
    await chat.onboard()
    for payload in ("zzz", "kb:ok", "report:send", "school:1", "cancel:yes:abc", "é" * 80, "rate:9:1"):
        await chat.payload(payload)
        assert "Ce bouton n'est plus valable" in chat.text, payload


async def test_group_chats_are_refused_kindly(chat: Chat, desk_db) -> None:
    """A message from a group chat is answered with a request to write privately."""
    await chat.send(Inbound(Channel.TELEGRAM, "g1", "g-1", text="bonjour", chat_is_group=True))
    assert "conversation privée" in chat.text


async def test_edited_message_never_opens_a_second_ticket(chat: Chat, desk_db) -> None:
    """An edit outside a report is acknowledged; inside one it replaces the description."""
    await chat.onboard()
    await chat.send(Inbound(Channel.WEBCHAT, chat.sender, "e-1", text="le wifi ne marche pas", edited=True))
    assert "modification de votre message" in chat.text
    async with desk_db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 0


async def test_too_large_file_is_explained(chat: Chat, desk_db) -> None:
    """A file over the limit gets « trop volumineux » and is not stored."""
    await chat.onboard()
    big = InboundAttachment("film.mov", "video/quicktime", None, 50_000_000, too_large=True)
    await chat.send(Inbound(Channel.WEBCHAT, chat.sender, "big-1", kind="document", attachments=(big,)))
    assert "trop volumineux" in chat.text


async def test_small_talk_help_and_out_of_scope(chat: Chat, desk_db) -> None:
    """Greetings, thanks, help and recipes get short answers that lead back to the point."""
    await chat.onboard()
    await chat.say("bonjour")
    assert "Décrivez-moi votre problème" in chat.text
    await chat.say("merci")
    assert "Avec plaisir" in chat.text
    await chat.say("aide")
    assert "Je peux" in chat.text and "Suivre mes demandes" in chat.labels
    await chat.say("quelle est la recette des crêpes")
    assert "matériel et les services numériques" in chat.text


async def test_photo_with_nothing_to_attach_to_starts_a_report(chat: Chat, desk_db) -> None:
    """A photo with no ticket open asks for the description and keeps the file for the report."""
    await chat.onboard()
    await chat.photo()
    assert "Décrivez le problème" in chat.text
    await chat.say("l'écran de la tablette est fissuré")
    assert chat.labels


async def test_a_turn_failing_on_the_database_is_left_for_a_retry_not_closed(desk_db, nlu, kb, clock) -> None:
    """Storage failing in the middle of a turn on a row the channel stored (Telegram): the error
    goes back to the channel, which tries again once the database is back — no apology for a
    fault the desk recovers from, the row neither closed, quarantined nor charged an attempt;
    the retry answers it once."""
    import pytest
    from sqlalchemy.exc import OperationalError

    class DatabaseGone:
        async def aparse(self, text: str):
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    chat = Chat(make_engine(desk_db, nlu, kb, clock))
    await chat.onboard()
    row_id = await _stored(desk_db, "update:7", {"update_id": 7})
    inbound = Inbound(Channel.TELEGRAM, "tg-1", "tg-1:7", text="le vidéoprojecteur ne s'allume plus", stored_row=row_id)
    with pytest.raises(OperationalError):
        await make_engine(desk_db, DatabaseGone(), kb, clock).handle(inbound)
    async with desk_db.sessions() as session:
        row = await session.get(InboundMessage, row_id)
        assert (row.status, row.attempts) == ("received", 0)
    retried = await make_engine(desk_db, nlu, kb, clock).handle(inbound)
    assert retried and "incident technique" not in retried[0].text
    async with desk_db.sessions() as session:
        assert (await session.get(InboundMessage, row_id)).status == "processed"


async def test_a_turn_failing_on_the_database_is_released_when_the_channel_did_not_store_it(
        desk_db, nlu, kb, clock) -> None:
    """A channel that hands the engine a fresh message (web chat, mail): the teacher is told, and
    the row the engine stored goes back to `received` for the channel's retry, never `processed`."""
    from sqlalchemy.exc import OperationalError

    class DatabaseGone:
        async def aparse(self, text: str):
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    chat = Chat(make_engine(desk_db, nlu, kb, clock))
    await chat.onboard()
    inbound = Inbound(Channel.TELEGRAM, "tg-1", "tg-1:8", text="le vidéoprojecteur ne s'allume plus")
    answer = await make_engine(desk_db, DatabaseGone(), kb, clock).handle(inbound)
    assert "Désolé, un incident technique" in answer[0].text
    async with desk_db.sessions() as session:
        row = (await session.scalars(select(InboundMessage).where(InboundMessage.external_id == "tg-1:8"))).one()
        assert (row.status, row.attempts) == ("received", 1) and "OperationalError" in row.error

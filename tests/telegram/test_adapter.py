"""Translation of every kind of update, file downloads, buttons, groups and delivery failures."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select, update

from bot.messages import Button, Inbound, Link, Outbound
from web.keys import telegram_key
from desk.models import InboundMessage, Organisation, OutboxMessage, RequesterIdentity
from desk.repositories import ensure_requester, get_territory
from tests.telegram import updates as u
from tests.telegram.conftest import MakeTelegram, RecordingEngine

USER = 515151


async def test_text_start_and_help_commands(make_telegram: MakeTelegram) -> None:
    """Text, /start with its deep-link payload and /aide reach the engine translated."""
    engine = RecordingEngine()
    telegram = await make_telegram(engine=engine)
    await telegram.say(u.text_update(1, USER, "bonjour"))
    await telegram.say(u.text_update(2, USER, "/start asset-SEM-00012"))
    await telegram.say(u.text_update(3, USER, "/aide"))
    first, start, help_ = engine.seen
    assert (first.kind, first.text, first.sender_id, first.display_name) == ("text", "bonjour", str(USER), "Claire Martin")
    assert first.message_id.startswith(f"{USER}:") and not first.chat_is_group
    assert (start.kind, start.start_payload) == ("start", "asset-SEM-00012")
    assert (help_.kind, help_.text) == ("text", "aide")


async def test_replies_carry_inline_keyboards_and_links(make_telegram: MakeTelegram) -> None:
    """Buttons become callback buttons; https links URL buttons; other links text lines."""

    @dataclass
    class LinkEngine:
        seen: list[Inbound] = field(default_factory=list)
        closes_stored_rows = False

        async def handle(self, inbound: Inbound) -> list[Outbound]:
            return [Outbound(
                "Essayez ce tutoriel.",
                buttons=(Button("Ça a marché", "kb:ok"), Button("Toujours en panne", "kb:ko")),
                links=(Link("Brancher le vidéoprojecteur", "https://guichet.example.fr/kb/vp"),
                       Link("Version locale", "http://127.0.0.1:8080/kb/vp")),
            )]

    telegram = await make_telegram(engine=LinkEngine())
    texts = await telegram.say(u.text_update(1, USER, "comment brancher le vidéoprojecteur ?"))
    assert texts == ["Essayez ce tutoriel.\n\nVersion locale : http://127.0.0.1:8080/kb/vp"]
    markup = telegram.api.sent_to(USER)[0]["reply_markup"]["inline_keyboard"]
    assert markup == [
        [{"text": "Ça a marché", "callback_data": "kb:ok"}],
        [{"text": "Toujours en panne", "callback_data": "kb:ko"}],
        [{"text": "Brancher le vidéoprojecteur", "url": "https://guichet.example.fr/kb/vp"}],
    ]


async def test_button_press_is_answered_and_forwarded(make_telegram: MakeTelegram) -> None:
    """A callback query is always answered, its keyboard removed, its payload handed over."""
    engine = RecordingEngine()
    telegram = await make_telegram(engine=engine)
    await telegram.say(u.callback_update(10, USER, "kb:ok", message_id=33))
    await telegram.say(u.callback_update(11, USER, None, message_id=34))
    assert [c.params["callback_query_id"] for c in telegram.api.calls_to("answerCallbackQuery")] == ["cb10", "cb11"]
    assert [c.params["message_id"] for c in telegram.api.calls_to("editMessageReplyMarkup")] == [33]
    pressed, unparseable = engine.seen
    assert (pressed.kind, pressed.button, pressed.message_id) == ("button", "kb:ok", "callback:cb10")
    assert (unparseable.kind, unparseable.button) == ("button", None)


async def test_photo_and_document_are_downloaded(make_telegram: MakeTelegram) -> None:
    """Photos (largest size) and documents are fetched through getFile and the file URL."""
    engine = RecordingEngine()
    telegram = await make_telegram(engine=engine)
    telegram.api.add_file("ph1", b"\xff\xd8jpeg-bytes", path="photos/file_1.jpg")
    telegram.api.add_file("doc1", b"%PDF-1.4 facture", path="documents/file_2.pdf")
    await telegram.say(u.photo_update(1, USER, "ph1", size=54_000, caption="écran fissuré"))
    await telegram.say(u.document_update(2, USER, "doc1", size=16, name="devis.pdf"))
    photo, document = engine.seen
    assert (photo.kind, photo.text) == ("photo", "écran fissuré")
    [attachment] = photo.attachments
    assert (attachment.data, attachment.content_type, attachment.too_large) == (b"\xff\xd8jpeg-bytes", "image/jpeg", False)
    [attachment] = document.attachments
    assert (attachment.filename, attachment.content_type, attachment.data) == ("devis.pdf", "application/pdf", b"%PDF-1.4 facture")
    assert [c.params["path"] for c in telegram.api.calls_to("download")] == ["photos/file_1.jpg", "documents/file_2.pdf"]


async def test_files_over_20_mb_are_not_downloaded(make_telegram: MakeTelegram) -> None:
    """Over Telegram's 20 MB bot limit the attachment arrives too_large, without bytes."""
    engine = RecordingEngine()
    telegram = await make_telegram(engine=engine)
    telegram.api.add_file("big", b"", size=25_000_000)
    await telegram.say(u.document_update(1, USER, "big", size=25_000_000, name="video-cours.mp4", mime="video/mp4"))
    await telegram.say(u.document_update(2, USER, "big", size=0, name="sans-taille.bin"))
    announced, unannounced = engine.seen
    assert announced.attachments[0].too_large and announced.attachments[0].data is None
    assert announced.attachments[0].size == 25_000_000
    assert unannounced.attachments[0].too_large  # getFile answered « file is too big »
    assert telegram.api.calls_to("download") == []


async def test_stickers_voice_location_video_kinds(make_telegram: MakeTelegram) -> None:
    """Media the desk cannot read reach the engine with their kind, and nothing is downloaded."""
    engine = RecordingEngine()
    telegram = await make_telegram(engine=engine)
    for update in (u.sticker_update(1, USER), u.voice_update(2, USER), u.location_update(3, USER),
                   u.video_update(4, USER)):
        await telegram.say(update)
    assert [i.kind for i in engine.seen] == ["sticker", "voice", "location", "video"]
    assert telegram.api.calls_to("getFile") == []


async def test_edited_message_updates_the_stored_payload(make_telegram: MakeTelegram) -> None:
    """An edit reaches the engine as edited=True and replaces the text in the stored update."""
    engine = RecordingEngine()
    telegram = await make_telegram(engine=engine)
    original = u.text_update(1, USER, "l'imprimante est en panne")
    await telegram.say(original)
    await telegram.say(u.edited_update(2, original, "l'imprimante de la salle 3 est en panne"))
    assert engine.seen[1].edited and engine.seen[1].text == "l'imprimante de la salle 3 est en panne"
    assert engine.seen[1].message_id.startswith(engine.seen[0].message_id + ":edit:")
    async with telegram.app[telegram_key].adapter.sessions() as session:
        row = await session.scalar(select(InboundMessage).where(InboundMessage.external_id == "update:1"))
    assert row.payload["message"]["text"] == "l'imprimante de la salle 3 est en panne"
    assert row.payload["original_message"]["text"] == "l'imprimante est en panne"


async def test_group_chats_reach_the_engine_flagged_and_agents_groups_are_ignored(make_telegram: MakeTelegram) -> None:
    """A group message is marked chat_is_group; the agents' notification group gets no answer."""
    engine = RecordingEngine()
    telegram = await make_telegram(engine=engine)
    sessions = telegram.app[telegram_key].adapter.sessions
    async with sessions.begin() as session:
        await session.execute(update(Organisation).where(Organisation.slug == "sem").values(telegram_chat_id=-100777))
    await telegram.say(u.group_update(1, USER, -100555, "bonjour le bot"))
    assert await telegram.say(u.group_update(2, USER, -100777, "qui prend le ticket ?")) == []
    [inbound] = engine.seen
    assert inbound.chat_is_group and inbound.sender_id == str(USER)
    assert len(telegram.api.sent_to(-100555)) == 1
    async with sessions() as session:
        status = await session.scalar(select(InboundMessage.status).where(InboundMessage.external_id == "update:2"))
    assert status == "ignored"


async def _telegram_identity(sessions, user_id: int) -> None:  # type: ignore[no-untyped-def]
    async with sessions.begin() as session:
        territory = await get_territory(session, "sem")
        await ensure_requester(session, territory.id, "telegram", str(user_id), name="Claire Martin")


async def _unreachable(sessions, user_id: int) -> bool:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return bool(await session.scalar(select(RequesterIdentity.unreachable).where(
            RequesterIdentity.channel == "telegram", RequesterIdentity.external_id == str(user_id))))


async def test_blocked_user_becomes_unreachable(make_telegram: MakeTelegram) -> None:
    """A 403 on a reply, or a « kicked » membership update, marks the identity unreachable."""
    telegram = await make_telegram(engine=RecordingEngine())
    sessions = telegram.app[telegram_key].adapter.sessions
    await _telegram_identity(sessions, USER)
    telegram.api.blocked_chats.add(USER)
    await telegram.say(u.text_update(1, USER, "bonjour"))
    assert await _unreachable(sessions, USER)
    telegram.api.blocked_chats.clear()
    await telegram.say(u.blocked_update(2, USER, status="member"))
    assert not await _unreachable(sessions, USER)
    await telegram.say(u.blocked_update(3, USER, status="kicked"))
    assert await _unreachable(sessions, USER)


async def test_flood_control_is_sat_out_or_deferred_to_the_outbox(make_telegram: MakeTelegram) -> None:
    """A short 429 is retried after retry_after; a long one leaves the reply in the outbox."""
    telegram = await make_telegram(engine=RecordingEngine())
    telegram.api.throttled_chats[USER] = (1, 1)
    assert await telegram.say(u.text_update(1, USER, "bonjour")) == ["reçu : text"]
    [throttled, sent] = [c for c in telegram.api.calls_to("sendMessage")]
    assert throttled.params["_status"] == 429 and sent.at - throttled.at >= 1.0
    telegram.api.throttled_chats[USER] = (1, 60)
    assert await telegram.say(u.text_update(2, USER, "re")) == []
    async with telegram.app[telegram_key].adapter.sessions() as session:
        [row] = (await session.scalars(select(OutboxMessage))).all()
    assert (row.channel, row.recipient, row.status) == ("telegram", str(USER), "pending")
    assert row.payload["outbound"]["buttons"] == [{"label": "Oui", "payload": "kb:ok"}]


async def test_a_button_without_a_message_is_still_answered(make_telegram: MakeTelegram) -> None:
    """A callback query that cannot reach a conversation is answered « Ce bouton n'est plus valable »."""
    engine = RecordingEngine()
    telegram = await make_telegram(engine=engine)
    update_ = u.callback_update(1, USER, "kb:ok")
    del update_["callback_query"]["message"]
    update_["callback_query"]["inline_message_id"] = "inline-1"
    assert await telegram.post(update_) == 200
    await telegram.settle()
    [call] = telegram.api.calls_to("answerCallbackQuery")
    assert call.params["text"] == "Ce bouton n'est plus valable."
    assert engine.seen == []

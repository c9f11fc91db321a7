"""The outbox sender of channel "telegram", and the polling mode used in development."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.telegram import Blocked, TelegramRetryAfter, TelegramSender
from web.keys import telegram_key
from bot.telegram import build_application
from desk import repositories as repo
from desk.clock import utcnow
from desk.models import OutboxMessage, RequesterIdentity
from desk.outbox import OutboxDispatcher, Outgoing
from desk.repositories import ensure_requester, get_territory
from guichet.settings import load_settings
from tests.conftest import Database
from tests.telegram import updates as u
from tests.telegram.conftest import TOKEN, MakeTelegram, RecordingEngine
from tests.telegram.fake_bot_api import BotApiServer

CHAT = 626262


def _outgoing(recipient: str, payload: dict | None = None) -> Outgoing:  # type: ignore[type-arg]
    return Outgoing(id=1, channel="telegram", recipient=recipient, subject=None,
                    body="Votre demande 2025-00001 est résolue.", payload=payload, ticket_id=None, attempt=1)


async def _sender(demo: Database, bot_api: BotApiServer):  # type: ignore[no-untyped-def]
    settings = load_settings(telegram_token=TOKEN, telegram_base_url=bot_api.base_url)
    application = build_application(settings.telegram_token or "", settings.telegram_base_url, polling=False)
    await application.initialize()
    return application, TelegramSender(application.bot, demo.sessions, max_inline_wait=1.0)


async def test_sender_sends_buttons_and_maps_failures(demo: Database, bot_api: BotApiServer) -> None:
    """sendMessage with the row's buttons; 429 -> TemporaryFailure with retry_after; 403 -> unreachable."""
    application, sender = await _sender(demo, bot_api)
    try:
        payload = {"outbound": {"text": "Votre demande 2025-00001 est résolue.", "buttons": [
            {"label": "Oui, merci", "payload": "resolved:yes:1"}], "links": []}}
        await sender.send(_outgoing(str(CHAT), payload))
        [sent] = bot_api.api.sent_to(CHAT)
        assert sent["reply_markup"]["inline_keyboard"] == [[{"text": "Oui, merci", "callback_data": "resolved:yes:1"}]]

        bot_api.api.throttled_chats[CHAT] = (2, 30)
        try:
            await sender.send(_outgoing(str(CHAT)))
        except TelegramRetryAfter as exc:
            assert exc.retry_after == 30
        else:
            raise AssertionError("429 not reported")

        async with demo.sessions.begin() as session:
            territory = await get_territory(session, "sem")
            await ensure_requester(session, territory.id, "telegram", str(CHAT))
        bot_api.api.blocked_chats.add(CHAT)
        try:
            await sender.send(_outgoing(str(CHAT)))
        except Blocked:
            pass
        else:
            raise AssertionError("403 not reported")
        async with demo.sessions() as session:
            assert await session.scalar(select(RequesterIdentity.unreachable).where(
                RequesterIdentity.external_id == str(CHAT)))
    finally:
        await application.shutdown()


async def test_dispatcher_retries_a_throttled_row_then_delivers(demo: Database, bot_api: BotApiServer) -> None:
    """Through the outbox dispatcher a 429 puts the row back to pending; the next pass sends it."""
    application, sender = await _sender(demo, bot_api)
    clock = [utcnow() + timedelta(seconds=1)]
    dispatcher = OutboxDispatcher(demo.sessions, now=lambda: clock[0])
    dispatcher.register("telegram", sender)
    try:
        async with demo.sessions.begin() as session:
            await repo.enqueue(session, channel="telegram", recipient=str(CHAT), body="Ticket 2025-00002 pris en charge.")
        bot_api.api.throttled_chats[CHAT] = (1, 45)
        first = await dispatcher.run_once()
        assert (first.retried, first.sent) == (1, 0)
        clock[0] += timedelta(minutes=5)
        second = await dispatcher.run_once()
        assert second.sent == 1
        async with demo.sessions() as session:
            row = await session.scalar(select(OutboxMessage))
        assert row.status == "sent" and row.attempts == 2
        assert [p["text"] for p in bot_api.api.sent_to(CHAT)] == ["Ticket 2025-00002 pris en charge."]
    finally:
        await application.shutdown()


async def test_polling_mode_stores_and_processes_updates(make_telegram: MakeTelegram) -> None:
    """Without a webhook secret the bot deletes any webhook and polls getUpdates; updates flow the same way."""
    engine = RecordingEngine()
    telegram = await make_telegram(secret=None, engine=engine)
    assert telegram.app[telegram_key].polling
    assert telegram.api.calls_to("deleteWebhook")
    telegram.api.push_update(u.text_update(1, CHAT, "plus d'encre"))
    telegram.api.push_update(u.text_update(2, CHAT, "merci"))
    for _ in range(200):
        if len(engine.seen) == 2 and len(telegram.api.sent_to(CHAT)) == 2:
            break
        await asyncio.sleep(0.05)
    assert [i.text for i in engine.seen] == ["plus d'encre", "merci"]
    assert await telegram.post(u.text_update(3, CHAT, "x")) == 404  # no webhook route in polling mode


async def test_webhook_is_registered_when_the_public_url_is_https(make_telegram: MakeTelegram) -> None:
    """With an HTTPS public URL the bot calls setWebhook with the secret and the update types."""
    telegram = await make_telegram(engine=RecordingEngine(), public_url="https://guichet.example.fr")
    [call] = telegram.api.calls_to("setWebhook")
    assert call.params["url"] == "https://guichet.example.fr/telegram/webhook"
    assert call.params["secret_token"] == "webhook-secret-for-tests"
    assert "callback_query" in call.params["allowed_updates"]

"""PTB's Bot talking to a Bot API server through our aiohttp backend: the same wire format as
PTB's default (form fields, multipart for files), and PTB's own errors on timeouts and
network failures."""

from __future__ import annotations

import asyncio
import io
import socket

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.telegram.http import AiohttpRequest
from tests.telegram.conftest import TOKEN
from tests.telegram.fake_bot_api import BotApiServer


def _bot(base_url: str, **timeouts: float) -> Bot:
    return Bot(TOKEN, base_url=base_url, request=AiohttpRequest(**timeouts),
               get_updates_request=AiohttpRequest(connection_pool_size=1))


async def test_messages_keyboards_and_uploads_reach_the_server(bot_api: BotApiServer) -> None:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    async with _bot(bot_api.base_url) as bot:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Oui", callback_data="kb:ok")]])
        sent = await bot.send_message(42, "Bonjour, où en êtes-vous ?", reply_markup=keyboard)
        assert sent.text == "Bonjour, où en êtes-vous ?" and sent.chat.id == 42
        await bot.send_document(42, io.BytesIO(b"%PDF-1.4 rapport"), filename="rapport.pdf",
                                caption="Le rapport")
    message, document = [c for c in bot_api.api.calls if c.method in ("sendMessage", "sendDocument")]
    assert message.params["reply_markup"] == {"inline_keyboard": [[{"text": "Oui", "callback_data": "kb:ok"}]]}
    assert document.params["caption"] == "Le rapport"
    assert document.params["document"].filename == "rapport.pdf"
    assert document.params["document_content"] == b"%PDF-1.4 rapport"


async def test_a_server_that_does_not_answer_is_a_timeout() -> None:
    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        bot = _bot(f"http://127.0.0.1:{port}/bot", read_timeout=0.2)
        await bot.request.initialize()
        with pytest.raises(TimedOut):
            await bot.send_message(42, "allô ?")
        await bot.request.shutdown()
    finally:
        await runner.cleanup()


async def test_a_refused_connection_is_a_network_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    bot = _bot(f"http://127.0.0.1:{port}/bot")
    await bot.request.initialize()
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(42, "allô ?")
    assert not isinstance(caught.value, TimedOut)
    await bot.request.shutdown()


async def test_requests_before_initialize_are_refused() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:9/bot/getMe", "POST")

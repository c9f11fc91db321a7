"""The HTTP chat channel inside the web application: `POST`/`GET /chat/api/messages`.

`setup_httpchat(app)` is the extension `guichet.wiring` plugs in (GUICHET_HTTPCHAT, on by
default), and `/t/<slug>/chat/api/messages` for each served territory (`/chat/api/messages` is
the default territory's). The adapters (`bot.httpchat`) are built at start-up from the dialogue
engines the composition root made; the channel registers no outbox sender: its rows wait for
the poll.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from bot.httpchat import HttpChat, parse_request
from bot.webchat import BAD_FRAME, FrameError, valid_token
from web.keys import dialogue_key, dialogues_key, sessions_key, settings_key

__all__ = ["MESSAGES_PATH", "setup_httpchat"]

log = logging.getLogger(__name__)

MESSAGES_PATH = "/chat/api/messages"
#: The same endpoints behind a territory's door.
TERRITORY_MESSAGES_PATH = "/t/{territory}" + MESSAGES_PATH
#: Largest request body accepted (a text of the web chat's maximum, in JSON, fits).
MAX_BODY_BYTES = 256 * 1024
_NO_STORE = {"Cache-Control": "no-store"}
BAD_SESSION = "Cette conversation n'existe pas. Rechargez la page pour en ouvrir une nouvelle."
STARTING = "Le guichet démarre, réessayez dans un instant."


class _Routes:
    """The two endpoints, bound to one adapter per territory once the engines exist."""

    def __init__(self) -> None:
        self.chats: dict[str, HttpChat] = {}
        self.default = ""

    def _adapter(self, request: web.Request) -> HttpChat:
        slug = request.match_info.get("territory", self.default)
        chat = self.chats.get(slug)
        if chat is None:
            if self.chats:
                raise web.HTTPNotFound(text="Ce territoire n'est pas servi par ce guichet.")
            raise web.HTTPServiceUnavailable(text=STARTING)
        return chat

    async def post(self, request: web.Request) -> web.StreamResponse:
        chat = self._adapter(request)
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return _error(413, BAD_FRAME)
        try:
            parsed = parse_request(await request.read())
        except FrameError as exc:
            log.info("HTTP chat: malformed request from %s (%s)", request.remote, exc.reason)
            return _error(400, BAD_FRAME)
        except web.HTTPRequestEntityTooLarge:
            return _error(413, BAD_FRAME)
        token, frames = await chat.converse(parsed)
        written = await _write(request, {"session": token, "replies": frames})
        await chat.answered(frames, written=written is not None)
        return written or web.Response(status=204)

    async def get(self, request: web.Request) -> web.StreamResponse:
        chat = self._adapter(request)
        token = valid_token(request.query.get("session"))
        if token is None:
            return _error(400, BAD_SESSION)
        frames = await chat.waiting(token)
        written = await _write(request, {"session": token, "messages": frames})
        if written is not None:
            await chat.polled(frames)
        return written or web.Response(status=204)


async def _write(request: web.Request, body: dict[str, Any]) -> web.StreamResponse | None:
    """Write the response now, so that what reached the client can be recorded; None when the
    client was gone (its answers then wait for the next poll)."""
    response = web.json_response(body, headers=_NO_STORE)
    try:
        await response.prepare(request)
        await response.write_eof()
    except (ConnectionError, RuntimeError) as exc:
        log.info("HTTP chat: client gone before its answers were written (%s)", type(exc).__name__)
        return None
    return response


def _error(status: int, text: str) -> web.Response:
    return web.json_response({"error": "bad_request", "text": text, "buttons": [], "links": []},
                             status=status, headers=_NO_STORE)


def setup_httpchat(app: web.Application) -> None:
    """Routes of the HTTP chat when GUICHET_HTTPCHAT is on."""
    if not app[settings_key].httpchat:
        return
    routes = _Routes()
    for path in (MESSAGES_PATH, TERRITORY_MESSAGES_PATH):
        app.router.add_post(path, routes.post)
        app.router.add_get(path, routes.get)

    async def adapter_context(app: web.Application) -> AsyncIterator[None]:
        served = app[settings_key].served_territories
        engines = app.get(dialogues_key) or {served[0]: app[dialogue_key]}
        routes.default = served[0]
        routes.chats = {slug: HttpChat(engine, app[sessions_key], namespace="" if slug == served[0] else slug)
                        for slug, engine in engines.items()}
        yield
        routes.chats = {}

    app.cleanup_ctx.append(adapter_context)

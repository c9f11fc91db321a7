"""The teachers' web chat: `GET /chat` (an accessible page) and `GET /chat/ws` (the JSON websocket).

`setup_chat(app)` adds the routes, the hub of open pages and the `webchat` outbox sender. The
dialogue engine is the one the composition root builds (`web.keys.dialogue_key`). Each served
territory has its own door, `/t/<slug>/chat` and `/t/<slug>/chat/ws`, answered by its engine;
`/chat` is the default territory's. The hub and the outbox know a page by its session's address
(`domain.addresses`: the bare token for the default territory, `slug/token` otherwise).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import jinja2
from aiohttp import WSMsgType, web

from bot.webchat import (
    Engine,
    FrameError,
    WebchatHub,
    WebchatSender,
    error_frame,
    known_session,
    new_token,
    start_inbound,
    to_inbound,
    valid_asset,
    valid_token,
)
from domain.addresses import qualify
from web.typography import FrenchLoader, finalize
from web.keys import dialogue_key, dialogues_key, dispatcher_key, sessions_key, settings_key

__all__ = ["Door", "chat_hub_key", "chat_sender_key", "door_of", "setup_chat"]

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"
#: Largest websocket frame accepted from a page.
MAX_FRAME_BYTES = 256 * 1024

chat_hub_key = web.AppKey("chat_hub", WebchatHub)
chat_sender_key = web.AppKey("chat_sender", WebchatSender)
chat_jinja_key = web.AppKey("chat_jinja", jinja2.Environment)


STARTING = "Le guichet démarre, réessayez dans un instant."


class Door:
    """The territory a request came in by: its engine and the namespace of its addresses."""

    def __init__(self, engine: Engine, namespace: str, prefix: str) -> None:
        self.engine, self.namespace, self.prefix = engine, namespace, prefix

    def address(self, token: str) -> str:
        return qualify(self.namespace, token)


def door_of(request: web.Request) -> Door:
    """The default territory's door for `/chat…`, the named one's for `/t/<slug>/chat…` (404 when
    the deployment does not serve it; 503 while the engines are not built)."""
    app = request.app
    slug = request.match_info.get("territory")
    served = app[settings_key].served_territories
    if slug is None or slug == served[0]:
        engine = app.get(dialogue_key)
        namespace = ""
    elif slug in served:
        engine = (app.get(dialogues_key) or {}).get(slug)
        namespace = slug
    else:
        raise web.HTTPNotFound(text="Ce territoire n'est pas servi par ce guichet.")
    if engine is None:
        raise web.HTTPServiceUnavailable(text=STARTING)
    return Door(engine, namespace, f"/t/{slug}" if slug else "")


async def index(request: web.Request) -> web.StreamResponse:
    """`/` is the web chat: the first thing a newcomer sees."""
    raise web.HTTPFound("/chat" + (f"?{request.query_string}" if request.query_string else ""))


async def chat_page(request: web.Request) -> web.Response:
    env = request.app[chat_jinja_key]
    asset = valid_asset(request.query.get("asset"))
    door = door_of(request)
    html = env.get_template("chat/chat.html").render(
        asset=asset, static=lambda name: f"/chat/static/{name}", socket=f"{door.prefix}/chat/ws",
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store"})


async def chat_ws(request: web.Request) -> web.WebSocketResponse:
    """One page: greet it if new, push what waited, then answer each frame in order."""
    app = request.app
    door = door_of(request)
    engine = door.engine
    hub, sender = app[chat_hub_key], app[chat_sender_key]
    ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=MAX_FRAME_BYTES)
    await ws.prepare(request)
    # A page resumes a session the desk issued (its conversation exists); any other token — one
    # the page made up, or one of another database — opens a new session with a token of ours,
    # so a page cannot choose the address it talks as.
    given = valid_token(request.query.get("session"))
    if given is not None and not await known_session(app[sessions_key], door.address(given)):
        given = None
    fresh = given is None
    token = given or new_token()
    # The page knows its token; the desk stores the territory's address of it.
    address = door.address(token)
    asset = valid_asset(request.query.get("asset"))
    hub.add(address, ws)
    try:
        if fresh or asset:
            replies = await engine.handle(start_inbound(address, asset))
            await sender.answer(ws, replies, first={"session": token})
            if not replies:
                await ws.send_json({"text": "", "buttons": [], "links": [], "session": token})
        await sender.deliver_pending(address)
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                try:
                    inbound = to_inbound(msg.data, address)
                except FrameError as exc:
                    log.info("web chat %s…: malformed frame (%s)", token[:6], exc.reason)
                    await ws.send_json(error_frame())
                    continue
                await sender.answer(ws, await engine.handle(inbound))
            elif msg.type is WSMsgType.BINARY:
                await ws.send_json(error_frame())
            elif msg.type is WSMsgType.ERROR:
                log.info("web chat %s…: socket error %s", token[:6], ws.exception())
    except (ConnectionResetError, RuntimeError) as exc:
        log.info("web chat %s…: page gone (%s)", token[:6], exc)
    finally:
        hub.remove(address, ws)
    return ws


async def _outbox_context(app: web.Application) -> AsyncIterator[None]:
    """Register the sender with the outbox dispatcher (when the background loops are set up)."""
    sender = app[chat_sender_key]
    if dispatcher_key in app:
        app[dispatcher_key].register("webchat", sender)
    yield
    await app[chat_hub_key].close_all()


def setup_chat(app: web.Application) -> None:
    """Routes of the web chat, its hub of open pages and its outbox sender."""
    env = jinja2.Environment(loader=FrenchLoader(TEMPLATES), autoescape=True, finalize=finalize,
                             undefined=jinja2.StrictUndefined)
    app[chat_jinja_key] = env
    hub = WebchatHub()
    app[chat_hub_key] = hub
    app[chat_sender_key] = WebchatSender(hub, app[sessions_key])
    app.router.add_get("/", index)
    app.router.add_get("/chat", chat_page)
    app.router.add_get("/chat/ws", chat_ws)
    app.router.add_get("/t/{territory}/chat", chat_page)
    app.router.add_get("/t/{territory}/chat/ws", chat_ws)
    app.router.add_static("/chat/static", STATIC, name="chat_static")
    app.cleanup_ctx.append(_outbox_context)

"""Web chat adapter: websocket JSON <-> Inbound/Outbound, and delivery of notices to open pages.

Client frames: `{"text": "..."}` or `{"button": "<payload>"}` (optionally `"id"` to make a
retry idempotent). Server frames: `{"text", "buttons": [{"label","payload"}], "links": [...]}`.
A malformed frame gets a polite French error object; the socket stays open.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from bot import messages as m
from bot.messages import Inbound, Outbound
from bot.notifications import render
from desk.clock import utcnow
from desk.outbox import Outgoing, TemporaryFailure
from domain.vocabulary import Channel
from handlers.conversations import known_conversation
from handlers.notices import ReplyOutcome, mark_sent, pending_notices, settle_replies, ticket_status

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

#: Characters of one text frame accepted from a page (the engine keeps long texts whole).
MAX_TEXT_CHARS = 20_000
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_FRAME_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
_ASSET = re.compile(r"^[A-Za-z0-9-]{3,60}$")

BAD_FRAME = (
    "Je n'ai pas pu lire ce message (format inattendu). Écrivez votre texte dans la zone de saisie, "
    "puis appuyez sur « Envoyer »."
)


class Engine(Protocol):
    async def handle(self, inbound: Inbound) -> list[Outbound]: ...


def new_token() -> str:
    return secrets.token_urlsafe(24)


def valid_token(value: str | None) -> str | None:
    return value if value and _TOKEN.match(value) else None


def valid_asset(value: str | None) -> str | None:
    return value.upper() if value and _ASSET.match(value) else None


def to_json(outbound: Outbound) -> dict[str, Any]:
    return outbound.to_json()


def error_frame(text: str = BAD_FRAME) -> dict[str, Any]:
    return {**Outbound(text).to_json(), "error": "bad_frame"}


@dataclass(frozen=True, slots=True)
class FrameError(Exception):
    """A client frame that is not `{"text"}` or `{"button"}`."""

    reason: str


def to_inbound(raw: str, session_token: str) -> Inbound:
    """Translate one client frame; raises FrameError when it is malformed."""
    try:
        data = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise FrameError("not JSON") from exc
    if not isinstance(data, dict):
        raise FrameError("not an object")
    frame_id = data.get("id")
    if frame_id is not None and not (isinstance(frame_id, str) and _FRAME_ID.match(frame_id)):
        raise FrameError("bad id")
    message_id = f"{session_token}:{frame_id or uuid.uuid4().hex}"
    text, pressed = data.get("text"), data.get("button")
    if pressed is not None:
        if not isinstance(pressed, str) or len(pressed) > 200:
            raise FrameError("bad button")
        return Inbound(Channel.WEBCHAT, session_token, message_id, button=pressed, kind=m.KIND_BUTTON)
    if text is not None:
        if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS:
            raise FrameError("bad text")
        return Inbound(Channel.WEBCHAT, session_token, message_id, text=text)
    raise FrameError("no text nor button")


def start_inbound(session_token: str, asset: str | None) -> Inbound:
    """Opening the page is the web chat's `/start` (with `?asset=` as its deep link)."""
    return Inbound(
        Channel.WEBCHAT, session_token, f"{session_token}:start:{uuid.uuid4().hex}", kind=m.KIND_START,
        start_payload=f"asset-{asset}" if asset else None,
    )


class WebchatHub:
    """The open websockets of each web-chat session (one process; others deliver their own)."""

    def __init__(self) -> None:
        self._sockets: dict[str, set[web.WebSocketResponse]] = {}

    def add(self, token: str, ws: web.WebSocketResponse) -> None:
        self._sockets.setdefault(token, set()).add(ws)

    def remove(self, token: str, ws: web.WebSocketResponse) -> None:
        sockets = self._sockets.get(token)
        if sockets is not None:
            sockets.discard(ws)
            if not sockets:
                del self._sockets[token]

    def connected(self, token: str) -> bool:
        return bool(self._sockets.get(token))

    async def push(self, token: str, frames: list[dict[str, Any]]) -> int:
        """Send frames to every open page of the session; the number of pages reached."""
        reached = 0
        for ws in list(self._sockets.get(token, ())):
            if ws.closed:
                self.remove(token, ws)
                continue
            try:
                for frame in frames:
                    await ws.send_json(frame)
            except (ConnectionError, RuntimeError) as exc:
                log.info("web chat %s…: push failed: %s", token[:6], exc)
                self.remove(token, ws)
                continue
            reached += 1
        return reached

    async def close_all(self) -> None:
        for sockets in list(self._sockets.values()):
            for ws in list(sockets):
                await ws.close()
        self._sockets.clear()


class WebchatSender:
    """Outbox sender for channel `webchat`: pushes to open pages, else the row stays pending."""

    def __init__(self, hub: WebchatHub, sessions: async_sessionmaker[AsyncSession],
                 now: Callable[[], datetime] = utcnow) -> None:
        self.hub = hub
        self._sessions = sessions
        self._now = now

    async def send(self, message: Outgoing) -> None:
        if not self.hub.connected(message.recipient):
            raise TemporaryFailure("no open web chat page for this session: kept for the next connection")
        outbound = render(message, await ticket_status(self._sessions, message.ticket_id))
        if not await self.hub.push(message.recipient, [outbound.to_json()]):
            raise TemporaryFailure("web chat page closed during delivery")


    async def answer(self, ws: web.WebSocketResponse, replies: list[Outbound],
                     first: dict[str, Any] | None = None) -> None:
        """Send a turn's answers to the page that asked, in order, then record their delivery
        on their outbox rows (`first` adds keys to the first frame). A page gone midway leaves
        the rest pending for its next connection (`deliver_pending`); the error is re-raised."""
        sent: list[int] = []
        index = 0
        try:
            for index, reply in enumerate(replies):
                frame = reply.to_json()
                if index == 0 and first:
                    frame.update(first)
                await ws.send_json(frame)
                if reply.outbox_id is not None:
                    sent.append(reply.outbox_id)
            else:
                index = len(replies)
        except (ConnectionError, RuntimeError) as exc:
            rest = tuple(r.outbox_id for r in replies[index:] if r.outbox_id is not None)
            await settle_replies(self._sessions, ReplyOutcome(
                sent=tuple(sent), deferred=rest, error=f"page gone: {type(exc).__name__}"), now=self._now())
            raise
        await settle_replies(self._sessions, ReplyOutcome(sent=tuple(sent)), now=self._now())

    async def deliver_pending(self, token: str) -> int:
        """At (re)connection: push what waited for this session; rows are marked sent once pushed."""
        async with self._sessions.begin() as session:
            waiting = await pending_notices(session, Channel.WEBCHAT, token, now=self._now())
            if not waiting:
                return 0
            frames = [render(message, status).to_json() for message, status in waiting]
            if not await self.hub.push(token, frames):
                return 0
            await mark_sent(session, [message.id for message, _ in waiting], self._now())
        return len(frames)


async def known_session(sessions: async_sessionmaker[AsyncSession], token: str) -> bool:
    """True when this web-chat session already talked to the desk (no greeting needed)."""
    return await known_conversation(sessions, Channel.WEBCHAT.value, token)

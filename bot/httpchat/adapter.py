"""The HTTP chat's adapter: JSON bodies <-> Inbound/Outbound, delivery recorded on the outbox."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot import messages as m
from bot.messages import Inbound, Outbound
from bot.notifications import render
from bot.webchat import MAX_TEXT_CHARS, Engine, FrameError, new_token, valid_asset, valid_token
from desk.clock import utcnow
from domain.addresses import qualify
from domain.vocabulary import Channel
from handlers.conversations import known_conversation
from handlers.notices import ReplyOutcome, mark_sent, pending_notices, replies_to, settle_replies

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

__all__ = ["HttpChat", "Request", "parse_request"]

CHANNEL = Channel.HTTPCHAT
_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-")


@dataclass(frozen=True, slots=True)
class Request:
    """One client request: its session (None: open one), what it says, and its idempotency id."""

    session: str | None
    request_id: str | None
    text: str | None = None
    button: str | None = None
    start: bool = False
    asset: str | None = None


def parse_request(raw: bytes) -> Request:
    """Read a POST body; raises FrameError when it is not a request of this channel."""
    try:
        data = json.loads(raw)
    except (ValueError, TypeError) as exc:  # includes UnicodeDecodeError
        raise FrameError("not JSON") from exc
    if not isinstance(data, dict):
        raise FrameError("not an object")
    session = data.get("session")
    if session is not None and (not isinstance(session, str) or valid_token(session) is None):
        session = None  # a stale or forged token opens a new session rather than failing
    request_id = data.get("id")
    if request_id is not None and not (
        isinstance(request_id, str) and 0 < len(request_id) <= 80 and set(request_id) <= _ID_CHARS
    ):
        raise FrameError("bad id")
    text, pressed, start = data.get("text"), data.get("button"), data.get("start")
    asset = data.get("asset")
    if asset is not None and (not isinstance(asset, str) or valid_asset(asset) is None):
        raise FrameError("bad asset")
    if pressed is not None and (not isinstance(pressed, str) or not pressed or len(pressed) > 200):
        raise FrameError("bad button")
    if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT_CHARS):
        raise FrameError("bad text")
    if start is not None and not isinstance(start, bool):
        raise FrameError("bad start")
    if pressed is None and text is None and not start:
        raise FrameError("no text, button nor start")
    return Request(session, request_id, text=text, button=pressed, start=bool(start),
                   asset=valid_asset(asset) if asset else None)


def frame(outbox_id: int | None, outbound: Outbound) -> dict[str, Any]:
    return {"id": outbox_id, **outbound.to_json()}


class HttpChat:
    """Turns requests into dialogue turns and records what reached the client."""

    def __init__(self, engine: Engine, sessions: async_sessionmaker[AsyncSession],
                 now: Callable[[], datetime] = utcnow, *, namespace: str = "") -> None:
        self._engine = engine
        self._sessions = sessions
        self._now = now
        #: The territory's namespace of session addresses ("" for the default territory).
        self._namespace = namespace

    async def converse(self, request: Request) -> tuple[str, list[dict[str, Any]]]:
        """The session and the answers to one request (a new session is greeted first)."""
        given = request.session
        if given is not None and not await known_conversation(
                self._sessions, CHANNEL.value, qualify(self._namespace, given)):
            given = None  # a token the desk never issued opens a new session of ours
        token = given or new_token()
        address = qualify(self._namespace, token)
        replies: list[dict[str, Any]] = []
        if given is None or request.start:
            start = Inbound(CHANNEL, address, self._message_id(address, request, "start"), kind=m.KIND_START,
                            start_payload=f"asset-{request.asset}" if request.asset else None)
            replies += await self._turn(start)
        if request.button is not None:
            replies += await self._turn(Inbound(CHANNEL, address, self._message_id(address, request, "button"),
                                                button=request.button, kind=m.KIND_BUTTON))
        elif request.text is not None:
            replies += await self._turn(Inbound(CHANNEL, address, self._message_id(address, request, "text"),
                                                text=request.text))
        return token, replies

    async def _turn(self, inbound: Inbound) -> list[dict[str, Any]]:
        answers = await self._engine.handle(inbound)
        if answers:
            return [frame(a.outbox_id, a) for a in answers]
        # A repeated request id: the answers of the first time, if it had any.
        async with self._sessions() as session:
            held = await replies_to(session, CHANNEL, inbound.message_id)
        return [frame(message.id, render(message, status)) for message, status in held]

    @staticmethod
    def _message_id(token: str, request: Request, part: str) -> str:
        return f"{token}:{request.request_id or uuid.uuid4().hex}:{part}"

    async def waiting(self, token: str) -> list[dict[str, Any]]:
        """The notices that wait for this session, oldest first (not yet marked delivered)."""
        async with self._sessions() as session:
            held = await pending_notices(session, CHANNEL, qualify(self._namespace, token), now=self._now())
        return [frame(message.id, render(message, status)) for message, status in held]

    async def answered(self, frames: Sequence[dict[str, Any]], *, written: bool) -> None:
        """Record the outcome of writing a turn's answers: they reached the client, or they
        wait for its next poll (a repeated request's answers were recorded the first time)."""
        ids = _ids(frames)
        if not ids:
            return
        outcome = ReplyOutcome(sent=ids) if written else ReplyOutcome(deferred=ids, error="response not written")
        await settle_replies(self._sessions, outcome, now=self._now())

    async def polled(self, frames: Sequence[dict[str, Any]]) -> None:
        """The notices a poll's response carried were written to the client."""
        ids = _ids(frames)
        if ids:
            async with self._sessions.begin() as session:
                await mark_sent(session, list(ids), self._now())


def _ids(frames: Sequence[dict[str, Any]]) -> tuple[int, ...]:
    return tuple(f["id"] for f in frames if f.get("id") is not None)

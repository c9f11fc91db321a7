"""The dialogue engine: one inbound message in, the bot's answers out; all state in the database.

Adapters call `handle(inbound)`. The message is persisted first (a duplicate `message_id`
is ignored), then answered in one transaction that loads and saves the conversation state and
writes the answers to the outbox, already claimed by the door that delivers them and reports the
outcome: a restart resumes every conversation and loses no answer. The sender gets a polite apology on any failure and
the engine never raises: a failure of the database releases the message (`received`, retried
by the channel), any other failure quarantines it with its traceback (`desk.inbox`).
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from weakref import WeakValueDictionary

import structlog

from bot.flows import bad_input, router
from bot.messages import Inbound, Outbound
from bot.ratelimit import RateLimit, SlidingWindow, Verdict
from bot.state import DialogueState
from bot.turn import DeflectionLog, KnowledgeBaseLike, Services, Turn, log_deflection
from desk.clock import utcnow
from desk.db import storage
from desk.inbox import Inbox
from domain.vocabulary import Channel, InboundStatus
from handlers import conversations, notices
from handlers.context import DeskContext
from nlu import NluBackend

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from desk.models import Territory

__all__ = ["DialogueEngine", "RateLimit"]

log = logging.getLogger(__name__)

#: Files larger than this are not stored (Telegram bots cannot download more than 20 MB).
MAX_ATTACHMENT_BYTES = conversations.MAX_ATTACHMENT_BYTES


class DialogueEngine:
    """Channel-agnostic front desk: decides every answer; adapters only translate."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        ctx: DeskContext,
        nlu: NluBackend,
        kb: KnowledgeBaseLike,
        *,
        public_url: str,
        record_deflection: DeflectionLog = log_deflection,
        now: Callable[[], datetime] = utcnow,
        rate_limit: RateLimit = RateLimit(),
        reply_lease: timedelta = notices.REPLY_LEASE,
    ) -> None:
        self._sessions = sessions
        self._services = Services(ctx=ctx, nlu=nlu, kb=kb, public_url=public_url,
                                  record_deflection=record_deflection)
        self._now = now
        self._reply_lease = reply_lease
        self._limiter = SlidingWindow(rate_limit)
        # One turn at a time per sender in this process (Telegram delivers concurrently).
        self._locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()
        self._territory_row: Territory | None = None
        self._inboxes: dict[Channel, Inbox] = {}

    #: A message given with `Inbound.stored_row` is closed by the turn itself (bot.telegram).
    closes_stored_rows = True

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        """Persist, then answer one message; [] for a duplicate. Never raises, but for one case:
        a database failure (`desk.db.is_transient`) on a message the channel stored itself
        (`inbound.stored_row`) is raised, not apologised for: that channel tries the same turn
        again once the database is back (Telegram's pipeline), so the teacher gets the answer,
        late, and no « incident » message for a fault the desk recovers from.

        A message the channel already stored (`inbound.stored_row`: Telegram keeps the raw
        update before answering its webhook) is not recorded twice: the turn claims that row
        and marks it processed in its own transaction, so an update delivered again or
        recovered after a crash is answered at most once.
        """
        try:
            if inbound.stored_row is None:
                recorded = await self._record(inbound)
            else:
                recorded = inbound.stored_row, await self._keep_attachments(inbound.stored_row, inbound)
        except Exception as exc:
            if storage.failed(exc, f"the {inbound.channel.value} dialogue"):
                if inbound.stored_row is not None:
                    raise
            else:
                log.exception("could not store inbound %s/%s", inbound.channel, inbound.message_id)
            return [Outbound(bad_input.APOLOGY)]
        if recorded is None:
            return []
        row_id, attachment_ids = recorded
        key = f"{inbound.channel}:{inbound.sender_id}"
        verdict = self._limiter.check(key)
        if verdict is not Verdict.ALLOW:
            await self._mark(inbound, row_id, InboundStatus.THROTTLED, None)
            return [Outbound(bad_input.FLOOD)] if verdict is Verdict.WARN else []
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            with structlog.contextvars.bound_contextvars(inbound_id=row_id):
                return await self._guarded(inbound, row_id, attachment_ids)

    async def _guarded(self, inbound: Inbound, row_id: int, attachment_ids: list[int]) -> list[Outbound]:
        """One dialogue turn: answered, released on a storage failure, or quarantined."""
        try:
            return await self._answer(inbound, row_id, attachment_ids)
        except Exception as exc:
            if storage.failed(exc, f"the {inbound.channel.value} dialogue"):
                # The database failed, not the message: never marked done. A channel that
                # stored the row retries the turn itself; for the others the row is released
                # so the channel's retry answers it once storage is back.
                if inbound.stored_row is not None:
                    raise
                log.info("dialogue turn on inbound %s released (%s/%s): storage unavailable: %s",
                         row_id, inbound.channel, inbound.message_id, type(exc).__name__)
                await self._release(inbound, row_id, f"{type(exc).__name__}: {exc}")
                return [Outbound(bad_input.APOLOGY)]
            log.exception("dialogue failed on inbound %s (%s/%s)", row_id, inbound.channel, inbound.message_id)
            await self._mark(inbound, row_id, InboundStatus.QUARANTINED, traceback.format_exc(limit=8))
            return [Outbound(bad_input.APOLOGY)]

    # --- persistence ------------------------------------------------------------------------

    def _inbox(self, channel: Channel) -> Inbox:
        inbox = self._inboxes.get(channel)
        if inbox is None:
            inbox = self._inboxes[channel] = Inbox(self._sessions, channel)
        return inbox

    async def _record(self, inbound: Inbound) -> tuple[int, list[int]] | None:
        """Store the message and its files before anything else: (row id, attachment ids),
        or None for a duplicate."""
        async with self._sessions.begin() as session:
            payload = _payload(inbound)
            row_id = await self._inbox(inbound.channel).insert(
                session, external_id=inbound.message_id, payload=payload, sender=inbound.sender_id,
                received_at=self._now(),
            )
            if row_id is None:
                return None
            ids = await conversations.store_files(session, _files(inbound), self._now())
            if ids:
                await Inbox.set_payload(session, row_id, {**payload, "attachment_ids": ids})
            return row_id, ids

    async def _keep_attachments(self, row_id: int, inbound: Inbound) -> list[int]:
        """Store the files of a message the channel stored, once, before the turn (they are
        kept even if the turn fails); their ids."""
        if not inbound.attachments:
            return []
        async with self._sessions.begin() as session:
            row = await Inbox.row(session, row_id)
            if row is None:
                return []
            if "attachment_ids" in row.payload:  # stored by an earlier attempt
                return list(row.payload["attachment_ids"])
            ids = await conversations.store_files(session, _files(inbound), self._now())
            if ids:
                row.payload = {**row.payload, "attachment_ids": ids}
            return ids

    async def _mark(self, inbound: Inbound, row_id: int, status: InboundStatus, error: str | None) -> None:
        try:
            await self._inbox(inbound.channel).finish(row_id, status, error=error)
        except Exception:
            log.exception("could not mark inbound %s as %s", row_id, status)

    async def _release(self, inbound: Inbound, row_id: int, error: str) -> None:
        try:
            await self._inbox(inbound.channel).release(row_id, error)
        except Exception:  # storage still down: the row stays `received`, which is the point
            log.info("inbound %s left received: storage unavailable", row_id)

    # --- one turn -------------------------------------------------------------------------------

    async def _answer(self, inbound: Inbound, row_id: int, attachment_ids: list[int]) -> list[Outbound]:
        """One turn in one transaction, which ends by closing the inbound row: if the row was
        answered meanwhile (delivered twice, or answered by another process), the whole turn
        is rolled back and nothing is said."""
        try:
            return await self._turn(inbound, row_id, attachment_ids)
        except _AlreadyAnswered:
            log.info("inbound %s was already answered: turn rolled back", row_id)
            return []

    async def _turn(self, inbound: Inbound, row_id: int, attachment_ids: list[int]) -> list[Outbound]:
        async with self._sessions.begin() as session:
            conversation = await conversations.conversation_for(
                session, inbound.channel.value, inbound.sender_id, self._now())
            self._territory_row, territory = await conversations.territory_row(
                session, self._services.ctx.territory.name, self._territory_row)
            requester = await conversations.requester_for(session, inbound.channel.value, inbound.sender_id)
            state = DialogueState.from_row(conversation.state, conversation.data)
            turn = Turn(
                session=session, services=self._services, inbound=inbound,
                attachment_ids=tuple(attachment_ids),
                conversation=conversation, state=state, territory=territory, requester=requester,
                now=self._now(),
            )
            await router.route(turn)
            conversation.state = state.step.value
            conversation.data = state.to_json()
            conversation.updated_at = turn.now
            if turn.requester is not None:
                conversation.requester_id = turn.requester.id
            # Closing the row is the claim (a conditional UPDATE): answered once, whoever holds it.
            if not await Inbox.close_in(session, row_id, at=turn.now, ticket_id=turn.ticket_id):
                raise _AlreadyAnswered
            return await _hold(session, inbound, row_id, turn, self._reply_lease)


async def _hold(
    session: AsyncSession, inbound: Inbound, row_id: int, turn: Turn, lease: timedelta
) -> list[Outbound]:
    """The turn's answers written to the outbox in its transaction, each carrying its row id:
    the door delivers them, and a process that dies after the commit loses none."""
    replies = list(turn.replies)
    ids = await notices.hold_replies(
        session, inbound.channel, inbound.recipient,
        [notices.HeldReply(reply.text, {"outbound": reply.to_json()}, f"reply:{inbound.channel}:{row_id}:{index}")
         for index, reply in enumerate(replies)],
        ticket_id=turn.ticket_id, now=turn.now, lease=lease,
    )
    return [replace(reply, outbox_id=outbox_id) for reply, outbox_id in zip(replies, ids, strict=True)]


class _AlreadyAnswered(Exception):
    """Raised inside a turn's transaction to roll it back."""


def _payload(inbound: Inbound) -> dict[str, Any]:
    """The message as stored (text kept whole; file contents go to the attachments table)."""
    return {
        "kind": inbound.kind,
        "sender": inbound.sender_id,
        "text": inbound.text,
        "button": inbound.button,
        "start_payload": inbound.start_payload,
        "display_name": inbound.display_name,
        "edited": inbound.edited,
        "chat_is_group": inbound.chat_is_group,
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size, "too_large": a.too_large}
            for a in inbound.attachments
        ],
    }


def _files(inbound: Inbound) -> list[conversations.IncomingFile]:
    return [conversations.IncomingFile(a.filename, a.content_type, a.data, a.too_large) for a in inbound.attachments]

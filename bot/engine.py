"""The dialogue engine: one inbound message in, the bot's answers out; all state in the database.

Adapters call `handle(inbound)`. The message is persisted first (a duplicate `message_id`
is ignored), then answered in one transaction that loads and saves the conversation state,
so a restart resumes every conversation. Any failure is logged, the message stays stored
(status `failed`) and the sender gets a polite apology: the engine never raises.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Any
from weakref import WeakValueDictionary

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.flows import bad_input, router
from bot.messages import Inbound, Outbound
from bot.ratelimit import RateLimit, SlidingWindow, Verdict
from bot.state import DialogueState
from bot.turn import DeflectionLog, KnowledgeBaseLike, Services, Turn, log_deflection
from desk import repositories as repo
from desk.clock import utcnow
from desk.models import Attachment, Conversation, InboundMessage, Territory
from handlers.context import DeskContext
from nlu import NluBackend

__all__ = ["DialogueEngine", "RateLimit"]

log = logging.getLogger(__name__)

#: Statuses of an inbound row not answered yet (`processing`: claimed by a channel's worker).
WAITING_STATUSES = ("received", "processing")

#: Files larger than this are not stored (Telegram bots cannot download more than 20 MB).
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


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
    ) -> None:
        self._sessions = sessions
        self._services = Services(ctx=ctx, nlu=nlu, kb=kb, public_url=public_url,
                                  record_deflection=record_deflection)
        self._now = now
        self._limiter = SlidingWindow(rate_limit)
        # One turn at a time per sender in this process (Telegram delivers concurrently).
        self._locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()
        self._territory_row: Territory | None = None

    #: A message given with `Inbound.stored_row` is closed by the turn itself (bot.telegram).
    closes_stored_rows = True

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        """Persist, then answer one message; [] for a duplicate. Never raises.

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
        except Exception:
            log.exception("could not store inbound %s/%s", inbound.channel, inbound.message_id)
            return [Outbound(bad_input.APOLOGY)]
        if recorded is None:
            return []
        row_id, attachment_ids = recorded
        key = f"{inbound.channel}:{inbound.sender_id}"
        verdict = self._limiter.check(key)
        if verdict is not Verdict.ALLOW:
            await self._mark(row_id, "throttled", None)
            return [Outbound(bad_input.FLOOD)] if verdict is Verdict.WARN else []
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            try:
                return await self._answer(inbound, row_id, attachment_ids)
            except Exception:
                log.exception("dialogue failed on inbound %s (%s/%s)", row_id, inbound.channel, inbound.message_id)
                await self._mark(row_id, "failed", traceback.format_exc(limit=8))
                return [Outbound(bad_input.APOLOGY)]

    # --- persistence ------------------------------------------------------------------------

    async def _record(self, inbound: Inbound) -> tuple[int, list[int]] | None:
        """Store the message and its files before anything else: (row id, attachment ids),
        or None for a duplicate."""
        async with self._sessions.begin() as session:
            row_id = await repo.insert_inbound(
                session, channel=inbound.channel.value, external_id=inbound.message_id,
                payload=_payload(inbound), sender=inbound.sender_id, received_at=self._now(),
            )
            if row_id is None:
                return None
            ids = await self._add_attachments(session, inbound)
            if ids:
                await session.execute(
                    update(InboundMessage).where(InboundMessage.id == row_id)
                    .values(payload={**_payload(inbound), "attachment_ids": ids})
                )
            return row_id, ids

    async def _keep_attachments(self, row_id: int, inbound: Inbound) -> list[int]:
        """Store the files of a message the channel stored, once, before the turn (they are
        kept even if the turn fails); their ids."""
        if not inbound.attachments:
            return []
        async with self._sessions.begin() as session:
            row = await session.get(InboundMessage, row_id)
            if row is None:
                return []
            if "attachment_ids" in row.payload:  # stored by an earlier attempt
                return list(row.payload["attachment_ids"])
            ids = await self._add_attachments(session, inbound)
            if ids:
                row.payload = {**row.payload, "attachment_ids": ids}
            return ids

    async def _add_attachments(self, session: AsyncSession, inbound: Inbound) -> list[int]:
        ids = []
        for item in inbound.attachments:
            if item.data is None or item.too_large or len(item.data) > MAX_ATTACHMENT_BYTES:
                continue
            attachment = Attachment(
                filename=(item.filename or "fichier")[:255],
                content_type=(item.content_type or "application/octet-stream")[:127],
                size=len(item.data), content=item.data, created_at=self._now(),
            )
            session.add(attachment)
            await session.flush()
            ids.append(attachment.id)
        return ids

    async def _mark(self, row_id: int, status: str, error: str | None) -> None:
        try:
            async with self._sessions.begin() as session:
                row = await session.get(InboundMessage, row_id)
                if row is not None:
                    row.status, row.error = status, error
                    row.attempts = (row.attempts or 0) + 1
        except Exception:
            log.exception("could not mark inbound %s as %s", row_id, status)

    async def _conversation(self, session: AsyncSession, inbound: Inbound) -> Conversation:
        params = {"channel": inbound.channel.value, "external_id": inbound.sender_id}
        found = await session.scalar(_CONVERSATION, params)
        if found is not None:
            return found
        conversation = Conversation(channel=inbound.channel.value, external_id=inbound.sender_id,
                                    state="idle", data={}, updated_at=self._now())
        try:
            async with session.begin_nested():
                session.add(conversation)
        except IntegrityError:
            found = await session.scalar(_CONVERSATION, params)
            assert found is not None
            return found
        return conversation

    async def _territory(self, session: AsyncSession) -> Territory:
        """The desk's territory row, read once per process then attached without a query
        (its id and names are all a turn reads; it changes only with a new deployment)."""
        if self._territory_row is None:
            self._territory_row = await repo.get_territory(session, self._services.ctx.territory.name)
            session.expunge(self._territory_row)
        return await session.merge(self._territory_row, load=False)

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
            conversation = await self._conversation(session, inbound)
            territory = await self._territory(session)
            requester = await repo.requester_by_identity(session, inbound.channel.value, inbound.sender_id)
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
            # The conditional UPDATE is the claim: on PostgreSQL a second transaction on the
            # row waits for this one, then matches nothing; SQLite runs one writer at a time.
            closed = await session.execute(
                _CLOSE_WITH_TICKET if turn.ticket_id is not None else _CLOSE,
                {"row_id": row_id, "at": turn.now, "ticket_id": turn.ticket_id},
            )
            if closed.rowcount != 1:
                raise _AlreadyAnswered
            return list(turn.replies)


_CONVERSATION = (
    select(Conversation)
    .where(Conversation.channel == bindparam("channel"), Conversation.external_id == bindparam("external_id"))
    .with_for_update()
)
_CLOSE = (
    update(InboundMessage)
    .where(InboundMessage.id == bindparam("row_id"), InboundMessage.status.in_(WAITING_STATUSES))
    .values(status="processed", processed_at=bindparam("at"), error=None,
            attempts=InboundMessage.attempts + 1)
    .execution_options(synchronize_session=False)
)
_CLOSE_WITH_TICKET = _CLOSE.values(ticket_id=bindparam("ticket_id"))


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



"""One update in, replies out: Telegram -> Inbound -> dialogue engine -> sendMessage.

The adapter translates and delivers; every decision (what to answer, whether a file is
welcome, what a stale button means, how to refuse a group) belongs to the engine.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from telegram import Bot, Update
from telegram.error import BadRequest, TelegramError

from bot.messages import Inbound, InboundAttachment, Outbound
from bot.telegram.inbox import record_edit
from bot.telegram.sender import deliver, mark_unreachable
from bot.telegram.translate import (
    FileRef, IncomingMessage, membership_change, translate_update, with_attachments,
)
from desk.clock import utcnow
from domain.addresses import qualify
from handlers.notices import ReplyOutcome, ReplySettler, queue_for_retry, settle_replies
from desk.outbox import PermanentFailure, TemporaryFailure
from domain.vocabulary import Channel, InboundStatus
from handlers.requesters import is_agents_group, set_reachable

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

#: Said by the button itself when there is no conversation to hand the press to.
STALE_BUTTON = "Ce bouton n'est plus valable."


class Engine(Protocol):
    """What the adapter needs from bot.engine.DialogueEngine."""

    #: True when `handle` marks a message given with `stored_row` answered, in the turn's own
    #: transaction; otherwise the pipeline closes the update's row afterwards.
    closes_stored_rows: bool

    async def handle(self, inbound: Inbound) -> list[Outbound]: ...


@dataclass(frozen=True, slots=True)
class Delivery:
    sent: int
    queued: int


class TelegramAdapter:
    """Processes one Telegram update with the bot it came to and the dialogue engine."""

    def __init__(
        self, bot: Bot, engine: Engine, sessions: async_sessionmaker[AsyncSession],
        *, max_inline_wait: float = 2.0, settler: ReplySettler | None = None, namespace: str = "",
    ) -> None:
        self.bot = bot
        #: The bot's territory namespace of addresses ("" for the default territory's bot): the
        #: same chat id is another person's conversation on another territory's bot.
        self.namespace = namespace
        self.engine = engine
        self.sessions = sessions
        self.max_inline_wait = max_inline_wait
        #: Records deliveries in batches when given (the channel's start-up gives one).
        self.settler = settler

    async def process(self, update: Update, *, row_id: int | None = None) -> InboundStatus | None:
        """Handle one update; the status for its inbox row, or None when the dialogue engine
        already closed the row with its turn. Raises MalformedUpdate, before any I/O, when the
        update's fields have the wrong types; otherwise only on real failures."""
        if update.my_chat_member is not None:
            await self._membership(update)
            return InboundStatus.PROCESSED
        incoming = translate_update(update)
        if incoming is None:
            if update.callback_query is not None:
                # A button with no chat to answer in (inline mode, message gone): Telegram still
                # wants the query answered, or the button spins for everyone.
                await self.bot.answer_callback_query(update.callback_query.id, text=STALE_BUTTON)
            return InboundStatus.IGNORED
        if incoming.callback_query_id is not None:
            await self._acknowledge(incoming)
        if incoming.chat_is_group and await self._is_agents_group(incoming.chat_id):
            # The agents' group only receives notifications; chatter there is not for the desk.
            return InboundStatus.IGNORED
        if update.edited_message is not None:
            await record_edit(self.sessions, update.edited_message.to_dict(), namespace=self.namespace)
        inbound = with_attachments(incoming, await self._download(incoming.files))
        if self.namespace:
            inbound = replace(
                inbound, sender_id=qualify(self.namespace, inbound.sender_id),
                reply_to=qualify(self.namespace, inbound.reply_to) if inbound.reply_to else None,
                message_id=qualify(self.namespace, inbound.message_id))
        if row_id is not None and self.engine.closes_stored_rows:
            inbound = replace(inbound, stored_row=row_id)
        replies = await self.engine.handle(inbound)
        await self.send_replies(incoming.chat_id, replies, key=f"tg-reply:{row_id or inbound.message_id}")
        return None if inbound.stored_row is not None else InboundStatus.PROCESSED

    async def _acknowledge(self, incoming: IncomingMessage) -> None:
        """Stop the button's spinner at once, and take the keyboard away so it is pressed once."""
        assert incoming.callback_query_id is not None
        try:
            await self.bot.answer_callback_query(incoming.callback_query_id)
        except BadRequest as exc:  # too old (over 15 minutes) or already answered
            log.info("callback %s not answered: %s", incoming.callback_query_id, exc.message)
        if incoming.callback_message_id is not None and incoming.inbound.button:
            try:
                await self.bot.edit_message_reply_markup(
                    chat_id=incoming.chat_id, message_id=incoming.callback_message_id, reply_markup=None
                )
            except TelegramError as exc:  # unchanged or deleted message: harmless
                log.debug("keyboard of %s kept: %s", incoming.callback_message_id, exc)

    async def _is_agents_group(self, chat_id: int) -> bool:
        return await is_agents_group(self.sessions, chat_id)

    async def _membership(self, update: Update) -> None:
        """A person blocking (or unblocking) the bot in a private chat changes their reachability."""
        change = membership_change(update)
        if change is None:
            return
        if change.blocked:
            await mark_unreachable(self.sessions, change.chat_id, namespace=self.namespace)
            return
        await set_reachable(self.sessions, Channel.TELEGRAM, qualify(self.namespace, str(change.chat_id)), True)

    async def _download(self, files: Sequence[FileRef]) -> tuple[InboundAttachment, ...]:
        """Fetch the files Telegram lets bots download; larger ones arrive marked too_large."""
        attachments = []
        for ref in files:
            data: bytes | None = None
            too_large = ref.too_large
            if not too_large:
                try:
                    file = await self.bot.get_file(ref.file_id)
                    data = bytes(await file.download_as_bytearray())
                except BadRequest as exc:
                    # The size in the message can be missing; Telegram still refuses big files.
                    if "too big" not in exc.message.lower():
                        raise
                    too_large = True
            attachments.append(InboundAttachment(
                filename=ref.filename, content_type=ref.content_type, data=data,
                size=len(data) if data is not None else ref.size, too_large=too_large,
            ))
        return tuple(attachments)

    async def send_replies(self, chat_id: int, replies: Sequence[Outbound], *, key: str) -> Delivery:
        """Send now, in order; then record the outcome on the answers' outbox rows (the turn
        wrote them): what Telegram defers (flood control, network) is left to the dispatcher's
        retries, what it refuses for good is not retried. Answers said without a turn (no
        outbox row) that cannot go now are queued."""
        sent: list[int] = []
        outcome = ReplyOutcome()
        delivery = Delivery(sent=0, queued=0)
        for index, outbound in enumerate(replies):
            try:
                await deliver(self.bot, self.sessions, chat_id, outbound,
                              max_inline_wait=self.max_inline_wait, namespace=self.namespace)
            except TemporaryFailure as exc:
                log.info("reply to %s deferred to the outbox: %s", chat_id, exc)
                rest = replies[index:]
                outcome = ReplyOutcome(deferred=_ids(rest), error=f"{type(exc).__name__}: {exc}",
                                       retry_after=getattr(exc, "retry_after", None))
                await self._queue(chat_id, [r for r in rest if r.outbox_id is None], key=key, first=index)
                delivery = Delivery(sent=len(sent), queued=len(rest))
                break
            except PermanentFailure as exc:
                log.warning("reply to %s dropped: %s", chat_id, exc)
                outcome = ReplyOutcome(dropped=_ids(replies[index:]), error=f"{type(exc).__name__}: {exc}")
                delivery = Delivery(sent=len(sent), queued=0)
                break
            if outbound.outbox_id is not None:
                sent.append(outbound.outbox_id)
        else:
            delivery = Delivery(sent=len(replies), queued=0)
        outcome = replace(outcome, sent=tuple(sent))
        if self.settler is not None:
            self.settler.record(outcome)
        else:
            await settle_replies(self.sessions, outcome, now=utcnow())
        return delivery

    async def _queue(self, chat_id: int, replies: Sequence[Outbound], *, key: str, first: int) -> None:
        if not replies:
            return
        await queue_for_retry(self.sessions, Channel.TELEGRAM, qualify(self.namespace, str(chat_id)), [
            (outbound.text, {"outbound": outbound.to_json()}, f"{key}:{first + offset}")
            for offset, outbound in enumerate(replies)
        ])


def _ids(replies: Sequence[Outbound]) -> tuple[int, ...]:
    return tuple(r.outbox_id for r in replies if r.outbox_id is not None)

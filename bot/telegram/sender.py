"""Delivers outbox rows of channel "telegram" (ticket updates, agents' group notices)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncio
import logging
import warnings
from datetime import timedelta

from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.messages import Outbound
from bot.notifications import render as render_notice
from bot.telegram.translate import render
from handlers.notices import ticket_status
from handlers.requesters import mark_unreachable as mark_identity_unreachable
from desk.outbox import Outgoing, PermanentFailure, TemporaryFailure
from domain.addresses import qualify, split
from domain.vocabulary import Channel

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)


class TelegramRetryAfter(TemporaryFailure):
    """Telegram asked to wait `retry_after` seconds before sending again (HTTP 429)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"flood control: retry after {retry_after:g} s")
        self.retry_after = retry_after


class Blocked(PermanentFailure):
    """The person blocked the bot (HTTP 403): nothing can reach them on Telegram any more."""


def retry_after_seconds(exc: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds, whatever PTB's int/timedelta transition says."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def mark_unreachable(sessions: async_sessionmaker[AsyncSession], chat_id: int | str, *,
                           namespace: str = "") -> None:
    """Flag the Telegram identity behind `chat_id` (of the bot of `namespace`) so nobody waits
    for a reply on it."""
    await mark_identity_unreachable(sessions, Channel.TELEGRAM, qualify(namespace, str(chat_id)))


async def deliver(
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    chat_id: int,
    outbound: Outbound,
    *,
    max_inline_wait: float = 5.0,
    namespace: str = "",
) -> None:
    """Send one outbound message; raises TemporaryFailure or PermanentFailure (desk.outbox).
    `namespace` is the bot's territory's, for the identity a refusal marks unreachable."""
    pieces = render(outbound)
    index, waited, migrated = 0, False, False
    while index < len(pieces):
        piece = pieces[index]
        try:
            await bot.send_message(chat_id, piece.text, reply_markup=piece.keyboard)
        except RetryAfter as exc:
            seconds = retry_after_seconds(exc)
            if waited or seconds > max_inline_wait:
                raise TelegramRetryAfter(seconds) from exc
            # A short flood wait is cheaper to sit out here than a trip through the outbox.
            waited = True
            await asyncio.sleep(seconds)
            continue
        except Forbidden as exc:
            await mark_unreachable(sessions, chat_id, namespace=namespace)
            raise Blocked(f"chat {chat_id}: {exc.message}") from exc
        except ChatMigrated as exc:
            if migrated:
                raise PermanentFailure(f"chat {chat_id}: migrated again") from exc
            log.warning("chat %s became supergroup %s: update its telegram_chat_id", chat_id, exc.new_chat_id)
            chat_id, migrated = exc.new_chat_id, True
            continue
        except BadRequest as exc:
            raise PermanentFailure(f"chat {chat_id}: {exc.message}") from exc
        except (NetworkError, TelegramError) as exc:
            raise TemporaryFailure(f"chat {chat_id}: {type(exc).__name__}: {exc.message}") from exc
        index += 1


class TelegramSender:
    """The outbox sender of channel "telegram": the notice rendered as on every channel
    (`bot.notifications`), cut to Telegram's limits by `translate.render`."""

    def __init__(
        self, bot: Bot, sessions: async_sessionmaker[AsyncSession], *, max_inline_wait: float = 5.0,
        namespace: str = "",
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.max_inline_wait = max_inline_wait
        self.namespace = namespace

    async def send(self, message: Outgoing) -> None:
        try:
            chat_id = int(split(message.recipient)[1])
        except ValueError as exc:
            raise PermanentFailure(f"not a Telegram chat id: {message.recipient!r}") from exc
        outbound = render_notice(message, await ticket_status(self.sessions, message.ticket_id))
        await deliver(self.bot, self.sessions, chat_id, outbound, max_inline_wait=self.max_inline_wait,
                      namespace=self.namespace)


class TelegramSenders:
    """The outbox sender of channel "telegram" when several bots serve: each row goes out through
    the bot of its recipient's territory (`domain.addresses`: `slug/chat id`, or the bare chat id
    of the default territory's bot)."""

    def __init__(self, senders: dict[str, TelegramSender]) -> None:
        self.senders = senders

    async def send(self, message: Outgoing) -> None:
        namespace = split(message.recipient)[0]
        sender = self.senders.get(namespace)
        if sender is None:
            raise PermanentFailure(f"no Telegram bot serves {namespace or 'the default territory'}")
        await sender.send(message)

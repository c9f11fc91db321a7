"""Telegram's updates in the desk's inbox (`desk.inbox`): stored before Telegram gets its 200.

A row goes `received` -> `processed` or `ignored`. A message for the dialogue is closed by
the dialogue engine in the transaction of its turn, which ends with a conditional UPDATE of
the row (`desk.inbox.Inbox.close_in`): two workers, or two processes, never both answer the
same update. A failed attempt leaves the row `received` (one attempt more) until the
attempts run out, then `quarantined`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.telegram.translate import update_key
from desk.inbox import Inbox
from domain.addresses import qualify
from domain.vocabulary import Channel

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

__all__ = ["UPDATE_PREFIX", "chat_of", "record_edit", "store_update", "telegram_inbox"]

CHANNEL = Channel.TELEGRAM.value
#: External ids of stored updates (`update:<update_id>`); edits are stored as updates too.
UPDATE_PREFIX = "update:"


def telegram_inbox(sessions: async_sessionmaker[AsyncSession], *, max_attempts: int = 5) -> Inbox:
    return Inbox(sessions, Channel.TELEGRAM, max_attempts=max_attempts)


def _id_of(holder: object, key: str) -> str | None:
    """The integer id of `holder[key]`, as text; None when either is not what Telegram sends."""
    item = holder.get(key) if isinstance(holder, dict) else None
    value = item.get("id") if isinstance(item, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or not -2**63 < value < 2**63:
        return None  # Telegram's ids fit in 52 bits; a bigger number is not a chat
    return str(value)


def chat_of(data: dict[str, Any]) -> str | None:
    """The chat (or, failing that, the user) an update belongs to, as stored in `sender`."""
    for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
        if (chat := _id_of(data.get(key), "chat")) is not None:
            return chat
    query = data.get("callback_query")
    if isinstance(query, dict):
        if (chat := _id_of(query.get("message"), "chat") or _id_of(query, "from")) is not None:
            return chat
    return _id_of(data.get("my_chat_member"), "chat")


async def record_edit(sessions: async_sessionmaker[AsyncSession], edited: dict[str, Any], *,
                      namespace: str = "") -> bool:
    """Put the new version of an edited message into the stored update of the original one."""
    return await telegram_inbox(sessions).record_edit(qualify(namespace, str(edited["chat"]["id"])),
                                                      int(edited["message_id"]), edited)


async def store_update(sessions: async_sessionmaker[AsyncSession], data: dict[str, Any]) -> int | None:
    """Persist one raw update; its row id, or None for a redelivered update_id."""
    return await telegram_inbox(sessions).store(
        external_id=update_key(int(data["update_id"])), payload=data, sender=chat_of(data),
    )

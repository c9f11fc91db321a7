"""The raw updates, persisted before Telegram gets its 200, and their processing status.

A row goes `received` -> `processing` (claimed, one attempt more) -> `processed` or `ignored`;
a failed attempt puts it back to `received` until `max_attempts`, then `failed`. A claim is a
conditional UPDATE, so two workers (or two processes) never handle the same update.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram.translate import update_key
from desk import repositories as repo
from desk.clock import utcnow
from desk.models import InboundMessage
from guichet.vocabulary import Channel

CHANNEL = Channel.TELEGRAM.value


class UpdateStatus(StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"


def chat_of(data: dict[str, Any]) -> str | None:
    """The chat (or, failing that, the user) an update belongs to, as stored in `sender`."""
    for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
        message = data.get(key)
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            return str(message["chat"].get("id"))
    query = data.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message")
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            return str(message["chat"].get("id"))
        if isinstance(query.get("from"), dict):
            return str(query["from"].get("id"))
    member = data.get("my_chat_member")
    if isinstance(member, dict) and isinstance(member.get("chat"), dict):
        return str(member["chat"].get("id"))
    return None


async def take_write_lock(session: AsyncSession) -> None:
    """On SQLite, begin with a write: a transaction that reads first and writes later cannot
    wait for the write lock (SQLite answers « database is locked » at once to avoid a deadlock)."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("UPDATE inbound_messages SET attempts = attempts WHERE id = -1"))


async def store_update(
    sessions: async_sessionmaker[AsyncSession], data: dict[str, Any]
) -> tuple[int, bool]:
    """Persist a raw update; (row id, created) — created is False for a redelivered update_id."""
    async with sessions.begin() as session:
        await take_write_lock(session)
        row, created = await repo.record_inbound(
            session, channel=CHANNEL, external_id=update_key(int(data["update_id"])),
            payload=data, sender=chat_of(data),
        )
        return row.id, created


async def claim(
    sessions: async_sessionmaker[AsyncSession], row_id: int, *, lease: timedelta,
    now: datetime | None = None,
) -> dict[str, Any] | None:
    """Take the row for processing; its payload, or None when another worker has it or it is done."""
    now = now or utcnow()
    async with sessions.begin() as session:
        result = await session.execute(
            update(InboundMessage)
            .where(InboundMessage.id == row_id, _claimable(now, lease))
            .values(status=UpdateStatus.PROCESSING.value, attempts=InboundMessage.attempts + 1,
                    processed_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            return None
        return await session.scalar(select(InboundMessage.payload).where(InboundMessage.id == row_id))


def _claimable(now: datetime, lease: timedelta) -> Any:
    # While `processing`, processed_at holds the claim time: a claim older than the lease
    # belongs to a worker that died.
    return or_(
        InboundMessage.status == UpdateStatus.RECEIVED.value,
        and_(InboundMessage.status == UpdateStatus.PROCESSING.value,
             InboundMessage.processed_at < now - lease),
    )


async def finish(
    sessions: async_sessionmaker[AsyncSession], row_id: int, status: UpdateStatus,
    *, error: str | None = None,
) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(InboundMessage).where(InboundMessage.id == row_id)
            .values(status=status.value, processed_at=utcnow(), error=error)
            .execution_options(synchronize_session=False)
        )


async def release(
    sessions: async_sessionmaker[AsyncSession], row_id: int, error: str, *, max_attempts: int
) -> UpdateStatus:
    """After a failed attempt: back to `received` for another try, or `failed` for good."""
    async with sessions.begin() as session:
        await take_write_lock(session)
        attempts = await session.scalar(
            select(InboundMessage.attempts).where(InboundMessage.id == row_id)
        ) or 0
        status = UpdateStatus.FAILED if attempts >= max_attempts else UpdateStatus.RECEIVED
        await session.execute(
            update(InboundMessage).where(InboundMessage.id == row_id)
            .values(status=status.value, error=error[:2000])
            .execution_options(synchronize_session=False)
        )
    return status


async def unfinished(
    sessions: async_sessionmaker[AsyncSession], *, lease: timedelta, older_than: timedelta,
    limit: int = 500, now: datetime | None = None,
) -> Sequence[tuple[int, str | None]]:
    """(id, chat) of updates left behind (crash, full queue), oldest first."""
    now = now or utcnow()
    async with sessions() as session:
        result = await session.execute(
            select(InboundMessage.id, InboundMessage.sender)
            .where(
                InboundMessage.channel == CHANNEL,
                InboundMessage.external_id.startswith("update:"),
                InboundMessage.received_at <= now - older_than,
                _claimable(now, lease),
            )
            .order_by(InboundMessage.id)
            .limit(limit)
        )
        return [(row.id, row.sender) for row in result]


async def record_edit(
    sessions: async_sessionmaker[AsyncSession], edited: dict[str, Any]
) -> bool:
    """Put the new version of an edited message into the stored update of the original one.

    The first version is kept under `original_message`; False when the original is unknown
    (sent before the bot was installed, or purged).
    """
    chat_id = str(edited["chat"]["id"])
    message_id = int(edited["message_id"])
    async with sessions.begin() as session:
        await take_write_lock(session)
        row = await session.scalar(
            select(InboundMessage)
            .where(
                InboundMessage.channel == CHANNEL,
                InboundMessage.sender == chat_id,
                InboundMessage.payload["message"]["message_id"].as_integer() == message_id,
            )
            .order_by(InboundMessage.id.desc())
            .limit(1)
        )
        if row is None:
            return False
        payload = dict(row.payload)
        payload.setdefault("original_message", payload["message"])
        payload["message"] = edited
        row.payload = payload
        return True

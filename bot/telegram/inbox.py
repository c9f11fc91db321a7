"""The raw updates, persisted before Telegram gets its 200, and their processing status.

A row goes `received` -> `processed` or `ignored`. A message for the dialogue is closed by
the dialogue engine in the transaction of its turn, which ends with a conditional UPDATE of
the row (bot.engine): two workers, or two processes, never both answer the same update.
A failed attempt leaves the row `received` (one attempt more) until `max_attempts`, then
`failed`. Rows `processing` come from earlier versions, which claimed rows first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram.translate import update_key
from desk import repositories as repo
from desk.clock import utcnow
from desk.models import InboundMessage
from domain.vocabulary import Channel

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


async def store_update(
    sessions: async_sessionmaker[AsyncSession], data: dict[str, Any]
) -> int | None:
    """Persist a raw update; its row id, or None for a redelivered update_id."""
    async with sessions.begin() as session:
        return await repo.insert_inbound(
            session, channel=CHANNEL, external_id=update_key(int(data["update_id"])),
            payload=data, sender=chat_of(data),
        )


async def pending(sessions: async_sessionmaker[AsyncSession], row_id: int) -> dict[str, Any] | None:
    """The stored update if it still waits to be processed (the sweeper's path), else None."""
    async with sessions() as session:
        return await session.scalar(
            select(InboundMessage.payload).where(InboundMessage.id == row_id, _claimable(utcnow(), None))
        )


def _claimable(now: datetime, lease: timedelta | None) -> Any:
    # While `processing` (earlier versions), processed_at holds the claim time: a claim older
    # than the lease belongs to a worker that died. No lease: any row not closed yet.
    if lease is None:
        return InboundMessage.status.in_((UpdateStatus.RECEIVED.value, UpdateStatus.PROCESSING.value))
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
            .values(status=status.value, processed_at=utcnow(), error=error,
                    attempts=InboundMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )


async def release(
    sessions: async_sessionmaker[AsyncSession], row_id: int, error: str, *, max_attempts: int
) -> UpdateStatus:
    """After a failed attempt: back to `received` for another try, or `failed` for good."""
    async with sessions.begin() as session:
        attempts = (await session.scalar(
            select(InboundMessage.attempts).where(InboundMessage.id == row_id)
        ) or 0) + 1
        status = UpdateStatus.FAILED if attempts >= max_attempts else UpdateStatus.RECEIVED
        await session.execute(
            update(InboundMessage).where(InboundMessage.id == row_id)
            .values(status=status.value, error=error[:2000], attempts=attempts)
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

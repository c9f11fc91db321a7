"""A conversation's row and what a turn reads with it: the dialogue's state lives in the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from desk import repositories as repo
from desk.models import Attachment, Conversation, Requester, Territory

__all__ = ["IncomingFile", "conversation_for", "known_conversation", "requester_for", "store_files", "territory_row"]

#: Files larger than this are not stored (Telegram bots cannot download more than 20 MB).
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024

_CONVERSATION = (
    select(Conversation)
    .where(Conversation.channel == bindparam("channel"), Conversation.external_id == bindparam("external_id"))
    .with_for_update()
)


@dataclass(frozen=True, slots=True)
class IncomingFile:
    """A file a teacher sent, as the door received it (None data: not downloaded)."""

    filename: str | None
    content_type: str | None
    data: bytes | None
    too_large: bool = False


async def conversation_for(session: AsyncSession, channel: str, external_id: str, now: datetime) -> Conversation:
    """The conversation of this sender on this channel, locked for the turn; created when new."""
    params = {"channel": channel, "external_id": external_id}
    found = await session.scalar(_CONVERSATION, params)
    if found is not None:
        return found
    conversation = Conversation(channel=channel, external_id=external_id, state="idle", data={}, updated_at=now)
    try:
        async with session.begin_nested():
            session.add(conversation)
    except IntegrityError:
        found = await session.scalar(_CONVERSATION, params)
        assert found is not None
        return found
    return conversation


async def requester_for(session: AsyncSession, channel: str, external_id: str) -> Requester | None:
    return await repo.requester_by_identity(session, channel, external_id)


async def territory_row(
    session: AsyncSession, slug: str, cached: Territory | None
) -> tuple[Territory, Territory]:
    """The desk's territory row: (the detached copy to keep, the row attached to `session`).

    Read once per process, then attached without a query (a turn reads only its id and
    names, which change only with a new deployment).
    """
    if cached is None:
        cached = await repo.get_territory(session, slug)
        session.expunge(cached)
    return cached, await session.merge(cached, load=False)


async def store_files(session: AsyncSession, files: Sequence[IncomingFile], now: datetime) -> list[int]:
    """Keep the files of a message (not yet on a ticket); their ids. Oversized ones are skipped."""
    ids = []
    for item in files:
        if item.data is None or item.too_large or len(item.data) > MAX_ATTACHMENT_BYTES:
            continue
        attachment = Attachment(
            filename=(item.filename or "fichier")[:255],
            content_type=(item.content_type or "application/octet-stream")[:127],
            size=len(item.data), content=item.data, created_at=now,
        )
        session.add(attachment)
        await session.flush()
        ids.append(attachment.id)
    return ids


async def known_conversation(sessions: async_sessionmaker[AsyncSession], channel: str, external_id: str) -> bool:
    """True when this sender already talked to the desk on this channel (no greeting needed)."""
    async with sessions() as session:
        found = await session.scalar(
            select(Conversation.id).where(Conversation.channel == channel, Conversation.external_id == external_id)
        )
    return found is not None

"""Identities on a channel: what the doors learn about people and groups while delivering."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from desk.models import Organisation, RequesterIdentity
from domain.vocabulary import Channel

__all__ = ["is_agents_group", "mark_unreachable", "set_reachable"]


async def set_reachable(
    sessions: async_sessionmaker[AsyncSession], channel: Channel, external_id: str, reachable: bool
) -> None:
    """Record whether a message can reach this identity (a blocked bot, a dead address, or back)."""
    async with sessions.begin() as session:
        await session.execute(
            update(RequesterIdentity)
            .where(RequesterIdentity.channel == channel.value, RequesterIdentity.external_id == external_id)
            .values(unreachable=not reachable)
        )


async def mark_unreachable(
    sessions: async_sessionmaker[AsyncSession], channel: Channel, external_id: str
) -> None:
    """Flag the identity so nobody waits for a reply on it."""
    await set_reachable(sessions, channel, external_id, False)


async def is_agents_group(sessions: async_sessionmaker[AsyncSession], telegram_chat_id: int) -> bool:
    """True when this Telegram chat is an organisation's agents' group (notices only, no dialogue)."""
    async with sessions() as session:
        found = await session.scalar(
            select(Organisation.id).where(Organisation.telegram_chat_id == telegram_chat_id).limit(1)
        )
    return found is not None

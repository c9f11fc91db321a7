"""Recognising an agent: by e-mail and password at sign-in, by bearer token on the API."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from desk.models import Agent, ApiToken
from desk.security import hash_password, hash_token, verify_password
from handlers.agent_scope import Actor, load_actor

__all__ = ["SignIn", "actor_for_token", "authenticate", "end_sessions"]


@cache
def _dummy_hash() -> str:
    """A hash checked when the e-mail is unknown, so both failures take the same time."""
    return hash_password("guichet-dummy-password")


@dataclass(frozen=True, slots=True)
class SignIn:
    """An agent recognised at sign-in, and the session epoch their new session carries."""

    agent_id: int
    session_epoch: int


async def authenticate(sessions: async_sessionmaker[AsyncSession], email: str, password: str) -> SignIn | None:
    """The active agent with this e-mail and password, or None.

    Owns a short read; the hashing runs in an executor once the session is closed. An unknown
    or deactivated e-mail still checks a hash, so a wrong address and a wrong password cost
    the same time.
    """
    async with sessions() as session:
        row = (await session.execute(
            select(Agent.id, Agent.password_hash, Agent.session_epoch)
            .where(Agent.email == email, Agent.active.is_(True))
        )).first()
    loop = asyncio.get_running_loop()
    stored = row.password_hash if row is not None else await loop.run_in_executor(None, _dummy_hash)
    valid = await loop.run_in_executor(None, verify_password, stored, password)
    return SignIn(row.id, row.session_epoch) if row is not None and valid else None


async def end_sessions(sessions: async_sessionmaker[AsyncSession], agent_id: int) -> None:
    """Sign the agent out everywhere: every session opened before this call is refused."""
    async with sessions.begin() as session:
        await session.execute(
            update(Agent).where(Agent.id == agent_id).values(session_epoch=Agent.session_epoch + 1))


async def actor_for_token(session: AsyncSession, token: str, territory: str | None = None) -> Actor | None:
    """The active agent a non-revoked API token acts as, or None; runs in the caller's session.

    A national administrator's token works in `territory` (a slug) when given."""
    agent_id = await session.scalar(select(ApiToken.agent_id).where(
        ApiToken.token_hash == hash_token(token), ApiToken.revoked.is_(False)))
    return await load_actor(session, agent_id, territory) if agent_id is not None else None

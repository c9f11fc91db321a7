"""Named locks with an expiry, shared by every process on one database.

A lock is one row of `locks` (name, owner, expires_at). It is taken with one atomic
UPDATE (free, expired, or already ours) or, when the row does not exist yet, an INSERT
that the primary key lets only one process win. An owner that dies simply lets the lock
expire; a live owner renews it by taking it again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Column, String, Table, delete, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from desk.clock import utcnow
from desk.models import Base
from desk.types import UtcDateTime

__all__ = ["acquire", "locks", "release"]

locks = Table(
    "locks",
    Base.metadata,
    Column("name", String(200), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)


async def acquire(
    session: AsyncSession, name: str, owner: str, ttl: timedelta, *, now: datetime | None = None
) -> bool:
    """Take or renew `name` for `owner` until now + ttl; False when someone else holds it."""
    now = now or utcnow()
    expires = now + ttl
    result = await session.execute(
        update(locks)
        .where(locks.c.name == name, or_(locks.c.owner == owner, locks.c.expires_at <= now))
        .values(owner=owner, expires_at=expires)
    )
    if result.rowcount == 1:
        return True
    try:
        async with session.begin_nested():
            await session.execute(insert(locks).values(name=name, owner=owner, expires_at=expires))
    except IntegrityError:
        return False
    return True


async def release(session: AsyncSession, name: str, owner: str) -> None:
    """Give the lock back (only if still ours)."""
    await session.execute(delete(locks).where(locks.c.name == name, locks.c.owner == owner))

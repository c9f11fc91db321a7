"""Named locks with expiry: one holder at a time, taken over once expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from desk import locks

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TTL = timedelta(minutes=5)


async def test_one_holder_until_expiry(db) -> None:
    """A held lock refuses others, is renewed by its owner, and is free again once expired or released."""
    async with db.sessions.begin() as session:
        assert await locks.acquire(session, "imap:box", "a", TTL, now=T0)
        assert not await locks.acquire(session, "imap:box", "b", TTL, now=T0 + timedelta(minutes=1))
        assert await locks.acquire(session, "imap:box", "a", TTL, now=T0 + timedelta(minutes=4))
        assert not await locks.acquire(session, "imap:box", "b", TTL, now=T0 + timedelta(minutes=8))
        assert await locks.acquire(session, "imap:box", "b", TTL, now=T0 + timedelta(minutes=10))
        await locks.release(session, "imap:box", "a")  # not a's any more: no effect
        assert not await locks.acquire(session, "imap:box", "a", TTL, now=T0 + timedelta(minutes=11))
        await locks.release(session, "imap:box", "b")
        assert await locks.acquire(session, "imap:box", "a", TTL, now=T0 + timedelta(minutes=11))

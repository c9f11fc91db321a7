"""SQLite run on the event loop's thread: locks held by another process are waited for with
asyncio.sleep (the loop keeps serving), and given up after the busy timeout."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from desk import sqlite_inline
from desk.db import create_engine


async def _prepare(path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    await engine.dispose()


async def test_a_lock_held_elsewhere_is_waited_for_without_blocking_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    await _prepare(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing: `guichet import`, say
    other.execute("INSERT INTO notes (body) VALUES ('import')")

    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def write() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO notes (body) VALUES ('desk')"))

    ticking = asyncio.create_task(ticker())
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not writing.done()  # still waiting for the lock…
    assert ticks >= 10  # …while the loop went on serving
    other.execute("COMMIT")
    await asyncio.wait_for(writing, 5)
    ticking.cancel()
    async with engine.connect() as conn:
        bodies = (await conn.execute(text("SELECT body FROM notes ORDER BY id"))).scalars().all()
    assert bodies == ["import", "desk"]
    await engine.dispose()
    other.close()


async def test_a_lock_never_released_fails_after_the_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "stuck.db"
    await _prepare(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    engine = create_engine(
        f"sqlite+aiosqlite:///{path}", async_creator=sqlite_inline.connector(str(path), busy_timeout=0.2)
    )
    start = time.monotonic()
    with pytest.raises(OperationalError, match="locked"):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO notes (body) VALUES ('desk')"))
    assert 0.2 <= time.monotonic() - start < 2
    await engine.dispose()
    other.execute("ROLLBACK")
    other.close()


async def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    await _prepare(path)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    start = time.monotonic()
    with pytest.raises(OperationalError, match="no such table"):
        async with engine.begin() as conn:
            await conn.execute(text("SELECT * FROM missing"))
    assert time.monotonic() - start < 0.5
    async with engine.begin() as conn:  # the connection is still usable
        await conn.execute(text("INSERT INTO notes (body) VALUES ('ok')"))
    await engine.dispose()


async def test_case_insensitive_search_folds_accented_capitals(tmp_path: Path) -> None:
    """« école » finds « École » on SQLite as on PostgreSQL (ILIKE is lower() LIKE lower())."""
    from sqlalchemy import column, select, table

    await _prepare(tmp_path / "search.db")
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'search.db'}")
    notes = table("notes", column("body"))
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO notes (body) VALUES ('ÉCOLE ÉMILE ZOLA'), ('Collège')"))
        found = (await conn.execute(select(notes.c.body).where(notes.c.body.ilike("%école émile%")))).scalars().all()
        assert found == ["ÉCOLE ÉMILE ZOLA"]
        assert (await conn.execute(text("SELECT lower(NULL), lower(42)"))).one() == (None, 42)
    await engine.dispose()

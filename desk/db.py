"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from desk import sqlite_inline

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL for concurrent readers, foreign keys enforced.

    The driver's implicit BEGIN is off (`sqlite_inline.connector`): `_sqlite_begin` starts
    every transaction. SQLite's busy timeout stays 0: the driver waits for a lock held by
    another process with `asyncio.sleep`, never inside SQLite (that would block the loop).
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    """BEGIN IMMEDIATE: a transaction that reads then writes takes the write lock up front.

    With SQLite's default deferred BEGIN, two such transactions that both read first cannot
    both upgrade to a write: one fails at once with « database is locked », whatever the busy
    timeout. Taking the lock at BEGIN makes them wait their turn instead (busy_timeout).
    """
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Build the async engine; for SQLite, create the file's folder, run SQLite on the event
    loop's thread (`desk.sqlite_inline`) and set the pragmas."""
    if url.startswith("sqlite"):
        database = make_url(url).database or ":memory:"
        if database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("async_creator", sqlite_inline.connector(database))
        # One connection, shared in turn: SQLite has a single writer anyway, and waiting for
        # the connection in asyncio is far cheaper than SQLite's busy handler, which sleeps up
        # to 100 ms per retry (webhook bench: p99 at 50 updates/s fell from 1 s to 68 ms).
        kwargs.setdefault("pool_size", 1)
        kwargs.setdefault("max_overflow", 0)
        kwargs.setdefault("pool_timeout", 60)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_async_engine(url, **kwargs)
    # A connection handed out (after its pre-ping) proves the server is back.
    event.listen(engine.sync_engine, "checkout", lambda *_: storage.succeeded())
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    """One round trip to the database; raises when it does not answer."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


#: What a failing database raises to its callers (the doors answer « try again later » on these).
STORAGE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError)


def failure_reason(exc: BaseException) -> str:
    """The database's own words for a failure, on one short line (« database or disk is full »,
    « attempt to write a readonly database », « connection refused »…), for a log line that
    says what is wrong without a traceback."""
    orig = getattr(exc, "orig", None) or exc
    words = " ".join(str(orig).split()) or type(orig).__name__
    return f"{type(orig).__name__}: {words[:200]}"


def is_transient(exc: BaseException) -> bool:
    """True for a failure of the database itself (down, restarting, unreachable, a dropped
    connection), which the same work may survive when tried again; False for a bug or bad data."""
    if isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, PoolTimeout, ConnectionError, OSError)):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    # SQLSTATE class 08 (connection exception) and 57P0x (server shutting down or starting).
    state = str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")
    return bool(exc.connection_invalidated) or state.startswith(("08", "57P0"))


class StorageHealth:
    """The database as this process sees it, logged once per change of state.

    The code that meets a transient failure (`is_transient`) reports it with `failed` instead
    of logging a traceback: the first one logs « database unavailable », the others are
    silent; the next connection handed out by the pool (PostgreSQL, after its pre-ping) or the
    next piece of work that succeeds (the webhook's intake, a turn, a loop's pass) logs
    « database available again ».
    """

    def __init__(self) -> None:
        self.down_since: float | None = None
        self.failures = 0

    @property
    def up(self) -> bool:
        return self.down_since is None

    def failed(self, exc: BaseException, where: str) -> bool:
        """Note a failure met by `where`; True when it is the database's (transient), which the
        caller then handles without a traceback; False for any other error."""
        if not is_transient(exc):
            return False
        self.failures += 1
        if self.down_since is None:
            self.down_since = time.monotonic()
            log.warning("database unavailable (%s, met by %s): work waits for it and is retried",
                        failure_reason(exc), where)
        return True

    def reset(self) -> None:
        """Forget the state without a log line (tests: each starts with the database up)."""
        self.down_since, self.failures = None, 0

    def succeeded(self) -> None:
        if self.down_since is not None:
            log.warning("database available again after %.1f s (%d failed operations meanwhile)",
                        time.monotonic() - self.down_since, self.failures)
            self.down_since = None
            self.failures = 0


#: The one instance of the process (every engine it opens reports to it).
storage = StorageHealth()


async def wait_until_up(sessions: async_sessionmaker[AsyncSession], *, first_delay: float = 0.2,
                        max_delay: float = 1.0) -> None:
    """Return once the database answers a probe again, probing with a growing delay.

    For work that met an outage and will be tried again: trying it at once would fail the
    same way (and count an attempt, or a message against a teacher's flood limit)."""
    delay = first_delay
    while True:
        await asyncio.sleep(delay)
        try:
            async with sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:
            if not is_transient(exc):
                raise
            delay = min(delay * 2, max_delay)
            continue
        # Not `storage.succeeded()`: a database that reads but cannot write (SQLite on a full
        # disk, read-only) answers the probe; the work that succeeds says it is back.
        return

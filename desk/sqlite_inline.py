"""SQLite for SQLAlchemy's asyncio engine, run on the event loop's own thread.

aiosqlite sends every call (execute, fetch, commit…) to a worker thread and back. Each hop
costs a thread wake-up and a GIL hand-over; on a busy event loop the hand-over waits for the
loop's current step, and a two-statement transaction took 23 ms of wall time and 28 ms of CPU
instead of 0.06 ms run directly (see docs/BENCHMARKS-history.md, « Telegram webhook »). SQLite answers
the desk's short statements in microseconds, so running them inline is both faster and
cheaper; a long statement (a report over years of tickets) holds the loop for its duration,
which is the embedded default's trade-off — PostgreSQL is the production database.

The one thing that must never block the loop is waiting for another process's write lock
(a `guichet import` running beside `guichet serve`). The connection's busy timeout is 0: a
statement that meets a lock fails at once with SQLITE_BUSY, and is retried after an
`asyncio.sleep` with exponential backoff until `busy_timeout` seconds have passed. Retrying
is what SQLite's own busy handler does; a statement refused with SQLITE_BUSY changed nothing.

The objects below implement the part of aiosqlite's interface that SQLAlchemy's `aiosqlite`
dialect uses; `connect` is given to `create_async_engine(async_creator=...)`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

#: First pause after SQLITE_BUSY; doubled each time up to MAX_PAUSE.
FIRST_PAUSE = 0.001
MAX_PAUSE = 0.05


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF == sqlite3.SQLITE_BUSY
    return "database is locked" in str(error)


async def _retry_busy(call: Callable[[], Any], deadline: float) -> Any:
    pause = FIRST_PAUSE
    while True:
        try:
            return call()
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, MAX_PAUSE)


class InlineCursor:
    """aiosqlite.Cursor's interface over a sqlite3 cursor, without the thread."""

    def __init__(self, connection: InlineConnection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._rows()

    async def _rows(self) -> AsyncIterator[Any]:
        for row in self._cursor:
            yield row

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> InlineCursor:
        await self._connection.retrying(lambda: self._cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        rows = list(parameters)
        await self._connection.retrying(lambda: self._cursor.executemany(sql, rows))
        return self

    async def executescript(self, script: str) -> InlineCursor:
        await self._connection.retrying(lambda: self._cursor.executescript(script))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class InlineConnection:
    """aiosqlite.Connection's interface over a sqlite3 connection, without the thread."""

    def __init__(self, connection: sqlite3.Connection, *, busy_timeout: float) -> None:
        self._connection: sqlite3.Connection | None = connection
        self.busy_timeout = busy_timeout

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    async def retrying(self, call: Callable[[], Any]) -> Any:
        return await _retry_busy(call, time.monotonic() + self.busy_timeout)

    def cursor(self) -> InlineCursor:
        """A cursor; SQLAlchemy enters it with `async with` (`__aenter__`)."""
        return InlineCursor(self, self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        await self.retrying(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def stop(self) -> None:
        """What SQLAlchemy calls to terminate a connection it gave up on."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def create_function(self, name: str, num_params: int, func: Callable[..., Any],
                              deterministic: bool = False) -> None:
        self._conn.create_function(name, num_params, func, deterministic=deterministic)

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @property
    def total_changes(self) -> int:
        return self._conn.total_changes


def _lower(value: Any) -> Any:
    """Python's lower(): SQLite's own folds ASCII letters only (« École » stayed « École »)."""
    return value.lower() if isinstance(value, str) else value


def connector(database: str, *, busy_timeout: float = 10.0) -> Callable[[], Any]:
    """The `async_creator` for a database file (or ":memory:")."""

    async def connect() -> InlineConnection:
        # isolation_level=None: no implicit BEGIN from the driver; desk.db issues BEGIN IMMEDIATE.
        # timeout=0: never wait for a lock inside SQLite, which would block the event loop.
        raw = sqlite3.connect(database or ":memory:", timeout=0, isolation_level=None,
                              check_same_thread=False)
        # Replaces the built-in: ILIKE compiles to lower(x) LIKE lower(y) on SQLite, so searches
        # for « école » find « École » as they do on PostgreSQL. No index uses lower().
        raw.create_function("lower", 1, _lower, deterministic=True)
        return InlineConnection(raw, busy_timeout=busy_timeout)

    return connect

"""Background processing of stored updates: sharded bounded queues, a sweeper, a recovery pass.

The webhook answers as soon as an update is stored; a worker then processes it. Updates of
one chat always land on the same shard, so a conversation's messages are handled in the
order they arrived. When a queue is full the update simply waits in the database: the
sweeper resubmits rows still `received` (and rows whose worker died) every
`sweep_interval` seconds, and once at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TYPE_CHECKING

import structlog
from telegram import Bot

from bot.telegram.inbox import UPDATE_PREFIX, telegram_inbox
from bot.telegram.translate import MalformedUpdate, parse_update
from desk.db import storage, wait_until_up
from desk.inbox import Inbox
from domain.addresses import qualify
from domain.vocabulary import InboundStatus
from bot.telegram.adapter import TelegramAdapter

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineOptions:
    shards: int = 16
    #: Per shard; a burst beyond it waits in the database for the sweeper.
    queue_size: int = 1024
    sweep_interval: float = 30.0
    #: A `processing` claim older than this belongs to a dead worker.
    lease: timedelta = timedelta(minutes=5)
    #: Rows younger than this are probably still queued in memory: the sweeper leaves them.
    sweep_grace: timedelta = timedelta(seconds=10)
    max_attempts: int = 5


class UpdatePipeline:
    """Feeds stored updates to the adapter, one worker per shard."""

    def __init__(
        self, adapter: TelegramAdapter, bot: Bot, sessions: async_sessionmaker[AsyncSession],
        options: PipelineOptions | None = None, *, namespace: str = "",
    ) -> None:
        self.adapter = adapter
        #: Only this bot's stored updates are recovered (`domain.addresses`).
        self.namespace = namespace
        self.bot = bot
        self.sessions = sessions
        self.options = options or PipelineOptions()
        self.inbox: Inbox = telegram_inbox(sessions, max_attempts=self.options.max_attempts)
        self.inbox.lease = self.options.lease
        self._queues: list[asyncio.Queue[tuple[int, dict[str, Any] | None]]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()
        self._queued: set[int] = set()
        self.processed = 0

    async def start(self) -> None:
        self._stop.clear()
        self._queues = [asyncio.Queue(self.options.queue_size) for _ in range(self.options.shards)]
        self._tasks = [
            asyncio.create_task(self._work(queue), name=f"telegram-shard-{i}")
            for i, queue in enumerate(self._queues)
        ]
        self._tasks.append(asyncio.create_task(self._sweep(), name="telegram-sweeper"))

    async def stop(self) -> None:
        """Stop taking work; rows still queued stay `received` and are recovered at next start."""
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def submit(self, row_id: int, chat: str | None, data: dict[str, Any] | None = None) -> bool:
        """Queue a stored update (with its payload when at hand, which saves reading it back);
        False when its shard is full (the sweeper will bring it back)."""
        if row_id in self._queued:
            return True
        shard = zlib.crc32((chat or str(row_id)).encode()) % len(self._queues)
        try:
            self._queues[shard].put_nowait((row_id, data))
        except asyncio.QueueFull:
            log.warning("telegram shard %s full: update row %s left to the sweeper", shard, row_id)
            return False
        self._queued.add(row_id)
        return True

    async def recover(self, *, older_than: timedelta = timedelta(0)) -> int:
        """Resubmit updates never finished (a crash, a full queue); the number resubmitted."""
        rows = await self.inbox.unfinished(
            older_than=older_than, limit=self.options.queue_size, external_prefix=qualify(self.namespace, UPDATE_PREFIX),
        )
        count = sum(1 for row_id, chat in rows if self.submit(row_id, chat))
        if count:
            log.info("resubmitted %s stored Telegram update(s)", count)
        return count

    async def drain(self) -> None:
        """Wait until every queued update was handled (tests, benchmark)."""
        for queue in self._queues:
            await queue.join()
        if self.adapter.settler is not None:
            await self.adapter.settler.drain()

    async def _sweep(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                await self.recover(older_than=timedelta(0) if first else self.options.sweep_grace)
            except Exception as exc:
                if not storage.failed(exc, "the Telegram sweeper"):
                    log.exception("telegram sweeper failed")
            first = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.options.sweep_interval)

    async def _work(self, queue: asyncio.Queue[tuple[int, dict[str, Any] | None]]) -> None:
        while True:
            row_id, data = await queue.get()
            try:
                await self.run(row_id, data)
            except Exception:
                log.exception("telegram update row %s: unexpected failure", row_id)
            finally:
                self._queued.discard(row_id)
                queue.task_done()

    async def run(self, row_id: int, data: dict[str, Any] | None = None) -> InboundStatus | None:
        """Process and close one stored update; None when it was already closed.

        A message for the dialogue is closed by the engine's own transaction, whose last
        statement is a conditional UPDATE of the row (so a row handled here and by another
        process is answered once); other updates are closed here.

        When the database fails under the update (down, restarting, a connection cut), the
        turn rolled back: nothing was said and the row was not closed. The worker waits until
        the database answers again and tries the same update once more — it does not move to
        the chat's next update meanwhile, so a conversation stays in order — without counting
        an attempt (the update is fine) and without a traceback (`storage` logs the outage once).
        The row is read again first: a turn whose commit went through before the connection
        was cut is not answered twice.
        """
        backoff = 0.0
        while True:
            try:
                status = await self._attempt(row_id, data)
            except Exception as exc:
                if not storage.failed(exc, "the Telegram pipeline"):
                    raise
            else:
                storage.succeeded()
                return status
            await wait_until_up(self.sessions)
            # A database that answers reads but refuses writes (SQLite on a full disk) passes
            # the probe at once: later tries of the same update wait longer each time.
            await asyncio.sleep(backoff)
            backoff = min(max(backoff * 2, 0.5), 30.0)
            data = None

    async def _attempt(self, row_id: int, data: dict[str, Any] | None) -> InboundStatus | None:
        if data is None:
            data = await self.inbox.pending_payload(row_id)
            if data is None:
                return None
        try:
            update = parse_update(data, self.bot)
            with structlog.contextvars.bound_contextvars(update_id=data.get("update_id"), inbound_id=row_id):
                status = await self.adapter.process(update, row_id=row_id)
        except MalformedUpdate as exc:
            # No attempt can read it: kept for an operator with the reason, never retried.
            log.warning("telegram update row %s quarantined, unreadable update: %s", row_id, exc)
            return await self.inbox.quarantine(row_id, f"Mise à jour Telegram illisible : {exc}")
        except Exception as exc:
            if storage.failed(exc, "the Telegram pipeline"):
                raise  # retried by `run` once the database is back
            log.exception("telegram update row %s failed", row_id)
            return await self.inbox.release(row_id, f"{type(exc).__name__}: {exc}")
        if status is not None:
            await self.inbox.finish(row_id, status)
        self.processed += 1
        return status or InboundStatus.PROCESSED

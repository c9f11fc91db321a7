"""Group commit of incoming updates: every update is stored before its webhook answers 200,
and the updates that arrive while a write is in flight share the next one.

Telegram keeps up to 40 connections open to a webhook. Stored one by one, each update costs a
transaction (on PostgreSQL a pool check-out, BEGIN, INSERT and COMMIT round trips); here a
single writer task takes whatever is waiting, inserts it in one transaction (one multi-row
INSERT … ON CONFLICT DO NOTHING RETURNING) and wakes every waiting request. A lone update is
written at once (no timer, no added latency); under load the batches grow by themselves.
A write the database fails (down, restarting, locked) fails every request of its batch with a
503, and Telegram delivers those updates again. A write it refuses for one update's data (a value
PostgreSQL cannot store) is tried again update by update, so that one update alone is refused —
with a 400 and one log line, since no redelivery can store it — and the others are stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, TYPE_CHECKING


from bot.telegram.inbox import chat_of, telegram_inbox
from domain.addresses import qualify
from bot.telegram.translate import update_key
from desk.clock import utcnow
from desk.db import failure_reason, storage

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

#: At most this many updates per transaction.
MAX_BATCH = 200


@dataclass
class _Waiting:
    data: dict[str, Any]
    done: asyncio.Future[int | None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


def _qualified(namespace: str, chat: str | None) -> str | None:
    return qualify(namespace, chat) if chat is not None else None


class UnstorableUpdate(ValueError):
    """The database refuses this update's data (not its own state): no redelivery can store it."""


class UpdateIntake:
    """Stores updates in batches; `store(data)` returns the row id, or None for a redelivery."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, namespace: str = "") -> None:
        self.sessions = sessions
        #: The bot's territory namespace of stored keys ("" for the default territory's bot).
        self.namespace = namespace
        self._inbox = telegram_inbox(sessions)
        self._waiting: list[_Waiting] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0

    async def store(self, data: dict[str, Any]) -> int | None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._write(), name="telegram-intake")
        item = _Waiting(data)
        self._waiting.append(item)
        self._wake.set()
        return await item.done

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for item in self._waiting:
            if not item.done.done():
                item.done.set_exception(RuntimeError("the Telegram intake is stopped"))
        self._waiting = []

    async def _write(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
                try:
                    ids = await self._insert([item.data for item in batch])
                except Exception as exc:
                    if storage.failed(exc, "the Telegram webhook"):
                        # The webhook answers 503 and Telegram delivers them again; the outage
                        # is logged once (`storage`).
                        for item in batch:
                            if not item.done.done():
                                item.done.set_exception(exc)
                        continue
                    await self._one_by_one(batch, exc)
                    continue
                self.batches += 1
                storage.succeeded()
                self._settle(batch, ids)

    def _settle(self, batch: list[_Waiting], ids: dict[str, int]) -> None:
        for item in batch:
            # pop: an update_id twice in one batch is new once, then a redelivery
            row_id = ids.pop(qualify(self.namespace, update_key(int(item.data["update_id"]))), None)
            if not item.done.done():
                item.done.set_result(row_id)

    async def _one_by_one(self, batch: list[_Waiting], first: Exception) -> None:
        """The database refused the batch for its data: each update alone, so only the one it
        cannot store is refused."""
        for item in batch:
            try:
                ids = await self._insert([item.data]) if len(batch) > 1 else None
                if ids is None:
                    raise first
            except Exception as exc:
                if storage.failed(exc, "the Telegram webhook"):
                    failure: Exception = exc
                else:
                    log.warning("Telegram update %s refused: the database cannot store it (%s)",
                                item.data.get("update_id"), failure_reason(exc))
                    failure = UnstorableUpdate(failure_reason(exc))
                if not item.done.done():
                    item.done.set_exception(failure)
                continue
            self.batches += 1
            storage.succeeded()
            self._settle([item], ids)

    async def _insert(self, updates: list[dict[str, Any]]) -> dict[str, int]:
        now = utcnow()
        return await self._inbox.store_many([
            {"external_id": qualify(self.namespace, update_key(int(data["update_id"]))), "payload": data,
             "sender": _qualified(self.namespace, chat_of(data)), "received_at": now}
            for data in updates
        ])

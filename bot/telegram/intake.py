"""Group commit of incoming updates: every update is stored before its webhook answers 200,
and the updates that arrive while a write is in flight share the next one.

Telegram keeps up to 40 connections open to a webhook. Stored one by one, each update costs a
transaction (on PostgreSQL a pool check-out, BEGIN, INSERT and COMMIT round trips); here a
single writer task takes whatever is waiting, inserts it in one transaction (one multi-row
INSERT … ON CONFLICT DO NOTHING RETURNING) and wakes every waiting request. A lone update is
written at once (no timer, no added latency); under load the batches grow by themselves.
A failed write fails every request of its batch, and Telegram delivers those updates again.
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
from desk.db import storage

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
                    # The webhook answers 503 and Telegram delivers them again; a database
                    # outage is logged once (`storage`), anything else with its traceback.
                    if not storage.failed(exc, "the Telegram webhook"):
                        log.exception("could not store %s Telegram update(s)", len(batch))
                    for item in batch:
                        if not item.done.done():
                            item.done.set_exception(exc)
                    continue
                self.batches += 1
                storage.succeeded()
                for item in batch:
                    # pop: an update_id twice in one batch is new once, then a redelivery
                    row_id = ids.pop(qualify(self.namespace, update_key(int(item.data["update_id"]))), None)
                    if not item.done.done():
                        item.done.set_result(row_id)

    async def _insert(self, updates: list[dict[str, Any]]) -> dict[str, int]:
        now = utcnow()
        return await self._inbox.store_many([
            {"external_id": qualify(self.namespace, update_key(int(data["update_id"]))), "payload": data,
             "sender": _qualified(self.namespace, chat_of(data)), "received_at": now}
            for data in updates
        ])

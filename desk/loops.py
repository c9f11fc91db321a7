"""The loop shape every background worker shares: passes at once while busy, else at an interval."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from desk.db import storage

log = logging.getLogger(__name__)


async def run_passes(
    one_pass: Callable[[], Awaitable[int]],
    stop: asyncio.Event,
    *,
    interval: float,
    batch_size: int,
    name: str,
) -> None:
    """Call `one_pass` (returning how many rows it claimed) until `stop` is set.

    A full batch means more work is waiting, so the next pass starts at once; otherwise the
    loop sleeps `interval` seconds or until stopped. A failing pass is logged, never fatal.
    """
    while not stop.is_set():
        busy = False
        try:
            busy = await one_pass() >= batch_size
            storage.succeeded()
        except Exception as exc:
            if not storage.failed(exc, name):  # an outage is logged once, not every pass
                log.exception("%s pass failed; retrying in %s s", name, interval)
        if busy:
            await asyncio.sleep(0)
            continue
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass

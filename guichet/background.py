"""The background loops of `guichet serve`: the outbox dispatcher, the SLA watcher, the automatic
closure of quiet resolved tickets and the daily privacy purge.

Each loop lives in one async generator registered with `app.cleanup_ctx`: started with the
app, asked to stop at cleanup, given time to finish the pass in flight. Both are safe to run
in every process sharing one PostgreSQL (row claims with SKIP LOCKED, unique dedupe keys).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from desk.clock import utcnow
from desk.outbox import OutboxDispatcher
from desk.sla_watcher import SlaWatcher
from web.keys import dispatcher_key, loops_key, sessions_key, settings_key, watcher_key

__all__ = ["dispatcher_key", "setup_background", "start_background", "watcher_key"]

log = logging.getLogger(__name__)

#: Seconds given to a loop to finish its current pass at shutdown before it is cancelled.
_STOP_GRACE = 10.0


def loop_context(
    name: str, run: Callable[[asyncio.Event], Awaitable[None]]
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context running `run(stop)` as a task for the life of the app."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(run(stop), name=name)
        if loops_key in app:
            app[loops_key].add(name, task)
        log.info("%s started", name)
        yield
        stop.set()
        try:
            await asyncio.wait_for(task, _STOP_GRACE)
        except TimeoutError:
            log.warning("%s did not stop within %s s: cancelled", name, _STOP_GRACE)
        log.info("%s stopped", name)

    return ctx


def setup_background(
    app: web.Application,
    *,
    calendar_for: Callable[[str], Any],
    operator_for: Callable[[str], str | None] | None = None,
    now: Callable[[], datetime] = utcnow,
    defer_loops: bool = False,
    telegram_address_for: Callable[[str, str], str] | None = None,
) -> None:
    """Create the dispatcher and the watcher under `dispatcher_key` / `watcher_key`; run them when settings.background.

    `calendar_for(territory_slug)` returns the territory's routing Calendar and
    `operator_for(territory_slug)` the slug of its operator organisation (the plan's
    coordinator, told of every breach). It runs first: every channel then registers its
    sender with `app[dispatcher_key].register(channel, sender)` — the one way to add one.
    """
    sessions = app[sessions_key]
    settings = app[settings_key]
    dispatcher = OutboxDispatcher(sessions, now=now, interval=settings.outbox_interval_seconds,
                                  lease=timedelta(seconds=settings.outbox_lease_seconds))
    watcher = SlaWatcher(sessions, calendar_for=calendar_for, operator_for=operator_for, now=now,
                         telegram_address_for=telegram_address_for)
    app[dispatcher_key] = dispatcher
    app[watcher_key] = watcher
    if not defer_loops:
        start_background(app)


def start_background(app: web.Application) -> None:
    """Run the dispatcher and the watcher while the app runs (when settings.background).

    The composition root adds this after the channels, so every channel's sender is
    registered before the dispatcher's first pass.
    """
    if not app[settings_key].background:
        return
    app.cleanup_ctx.append(loop_context("outbox dispatcher", app[dispatcher_key].run))
    app.cleanup_ctx.append(loop_context("SLA watcher", app[watcher_key].run))
    from handlers.auto_close import AutoCloser
    from handlers.privacy import PrivacyPurger, retention_for

    territory = app[settings_key].territory
    app.cleanup_ctx.append(loop_context("auto-close", AutoCloser(app[sessions_key], default_territory=territory).run))
    purger = PrivacyPurger(app[sessions_key], retention_for(territory))
    app.cleanup_ctx.append(loop_context("privacy purge", purger.run))

"""The background loops of `guichet serve`: the outbox dispatcher and the SLA watcher.

Each loop lives in one async generator registered with `app.cleanup_ctx`: started with the
app, asked to stop at cleanup, given time to finish the pass in flight. Both are safe to run
in every process sharing one PostgreSQL (row claims with SKIP LOCKED, unique dedupe keys).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from desk.clock import utcnow
from desk.outbox import EmailSender, OutboxDispatcher
from desk.sla_watcher import SlaWatcher
from web.app import services_key, sessions_key, settings_key

__all__ = ["dispatcher_key", "setup_background", "watcher_key"]

log = logging.getLogger(__name__)

dispatcher_key = web.AppKey("outbox_dispatcher", OutboxDispatcher)
watcher_key = web.AppKey("sla_watcher", SlaWatcher)

#: Name of the dispatcher in `app[services_key]`, and prefix of senders published there.
DISPATCHER_SERVICE = "outbox_dispatcher"
SENDER_PREFIX = "sender:"

#: Seconds given to a loop to finish its current pass at shutdown before it is cancelled.
_STOP_GRACE = 10.0


def loop_context(
    name: str, run: Callable[[asyncio.Event], Awaitable[None]]
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context running `run(stop)` as a task for the life of the app."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(run(stop), name=name)
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
) -> None:
    """Create the dispatcher and the watcher under `dispatcher_key` / `watcher_key`; run them when settings.background.

    `calendar_for(territory_slug)` returns the territory's routing Calendar and
    `operator_for(territory_slug)` the slug of its operator organisation (the plan's
    coordinator, told of every breach). Senders for other channels are added with
    `app[dispatcher_key].register(channel, sender)` (or `app[services_key]["outbox_dispatcher"]`),
    or published as `app[services_key]["sender:<channel>"]` before the dispatcher starts.
    """
    settings = app[settings_key]
    sessions = app[sessions_key]
    dispatcher = OutboxDispatcher(sessions, now=now)
    if settings.smtp_url:
        dispatcher.register("email", EmailSender(settings.smtp_url, settings.mail_from, now=now))
    watcher = SlaWatcher(sessions, calendar_for=calendar_for, operator_for=operator_for, now=now)
    app[dispatcher_key] = dispatcher
    app[watcher_key] = watcher
    services = app[services_key]
    services[DISPATCHER_SERVICE] = dispatcher  # channels look it up by name to register their sender
    if not settings.background:
        return

    async def published_senders(app: web.Application) -> AsyncIterator[None]:
        """Register senders that channels published as services instead of registering them."""
        for name, sender in list(services.items()):
            channel = name.removeprefix(SENDER_PREFIX)
            if name.startswith(SENDER_PREFIX) and channel not in dispatcher.channels:
                dispatcher.register(channel, sender)
        yield

    app.cleanup_ctx.append(published_senders)
    app.cleanup_ctx.append(loop_context("outbox dispatcher", dispatcher.run))
    app.cleanup_ctx.append(loop_context("SLA watcher", watcher.run))

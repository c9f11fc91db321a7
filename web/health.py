"""Probes: `/healthz` (the process is alive) and `/readyz` (it can do its work)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from desk.db import ping
from handlers.observability import head_revision, schema_revision
from web.keys import engine_key, loops_key, settings_key

__all__ = ["Loops", "healthz", "readyz"]

log = logging.getLogger(__name__)


class Loops:
    """The background loops this process runs, by name, so `/readyz` can tell a dead one."""

    def __init__(self) -> None:
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def add(self, name: str, task: asyncio.Task[None]) -> None:
        self.tasks[name] = task

    def dead(self) -> list[str]:
        """Loops whose task ended while the app runs (a loop only ends when asked to stop)."""
        return sorted(name for name, task in self.tasks.items() if task.done())


async def healthz(request: web.Request) -> web.Response:
    """200 while the process answers and its database does; 503 otherwise."""
    try:
        await ping(request.app[engine_key])
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        log.warning("health check failed: %s", type(exc).__name__)
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """200 when the database answers at the code's migration and every background loop runs; else 503 naming what failed."""
    app = request.app
    failed: dict[str, str] = {}
    checks: dict[str, str] = {}
    engine = app[engine_key]
    try:
        await ping(engine)
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        failed["database"] = f"injoignable ({type(exc).__name__})"
    if "database" not in failed:
        head = head_revision()
        try:
            at = await schema_revision(engine)
        except Exception as exc:  # noqa: BLE001
            failed["migrations"] = f"révision illisible ({type(exc).__name__})"
        else:
            if at != head:
                failed["migrations"] = f"base à la révision {at}, code à la révision {head}"
            else:
                checks["migrations"] = "ok"
    if app[settings_key].background:
        dead = app[loops_key].dead()
        if dead:
            failed["background"] = "arrêtées : " + ", ".join(dead)
        else:
            checks["background"] = "ok"
    if failed:
        log.warning("not ready: %s", ", ".join(sorted(failed)))
        return web.json_response({"status": "unavailable", "failed": failed, "ok": checks}, status=503)
    return web.json_response({"status": "ok", "ok": checks})

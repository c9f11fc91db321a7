"""The aiohttp application factory: one app, shared objects under typed keys."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from desk.db import ping
from web.inputs import InvalidInput
from web.keys import engine_key, sessions_key, settings_key

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from guichet.settings import Settings

__all__ = ["Extension", "database_context", "engine_key", "init_app", "sessions_key", "settings_key"]

log = logging.getLogger(__name__)

Extension = Callable[[web.Application], Awaitable[None] | None]


async def healthz(request: web.Request) -> web.Response:
    """200 once the database answers; 503 otherwise."""
    try:
        await ping(request.app[engine_key])
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        log.warning("health check failed: %s", exc)
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Never leak a traceback: unreadable input is a 400 in French, unexpected errors a logged,
    polite 500 page."""
    try:
        if "\x00" in request.path or "\x00" in request.query_string or "%00" in request.raw_path:
            # PostgreSQL stores no NUL character: such an address can only be a client's error.
            raise InvalidInput("Cette adresse contient un caractère invalide.", "NUL in the path or query")
        return await handler(request)
    except web.HTTPException:
        raise
    except InvalidInput as exc:  # the client's mistake, not ours: one line, no traceback
        log.warning("rejected %s %s: %s %s", request.method, request.path, exc.message, exc.detail)
        return web.Response(status=400, text=exc.message)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            return web.json_response({"error": "erreur interne"}, status=500)
        return web.Response(
            status=500,
            text="Une erreur inattendue s'est produite. L'équipe du guichet a été prévenue.",
        )


def database_context(engine: AsyncEngine) -> Callable[[web.Application], AsyncIterator[None]]:
    """The engine's life: shared while the app runs, disposed at cleanup."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    return ctx


def init_app(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    extensions: list[Extension] | None = None,
) -> web.Application:
    """Build the web application; `extensions` plug in routes and background loops."""
    app = web.Application(middlewares=[error_middleware], client_max_size=25 * 1024 * 1024)
    app[settings_key] = settings
    app[engine_key] = engine
    app[sessions_key] = sessions
    app.router.add_get("/healthz", healthz)
    for extend in extensions or []:
        extend(app)
    return app

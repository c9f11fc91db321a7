"""The aiohttp application factory: one app, shared objects under typed keys."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import structlog
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from web.health import Loops, healthz, readyz
from web.inputs import InvalidInput
from web.keys import engine_key, loops_key, sessions_key, settings_key
from web.metrics import metrics

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from guichet.settings import Settings

__all__ = [
    "AccessLogger", "DEFAULT_SECURITY_HEADERS", "Extension", "PUBLIC_PROBES", "database_context", "engine_key",
    "init_app", "sessions_key", "settings_key",
]

log = logging.getLogger(__name__)

Extension = Callable[[web.Application], Awaitable[None] | None]


#: The operators' probes: public by design (no personal data; keep them on the monitoring network).
PUBLIC_PROBES = ("/healthz", "/readyz", "/metrics")

#: Every answer's defaults; a part of the site with its own policy (agents, KB, label sheets) sets
#: its headers first and these fill only what it left out. No inline script anywhere.
DEFAULT_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

#: A client's request id is kept when it looks like one (a proxy's), never copied blindly.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
request_id_key = web.RequestKey("request_id", str)


@web.middleware
async def request_id_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Bind a request id to every log line written while the request is handled, and return it."""
    given = request.headers.get("X-Request-ID", "")
    request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex[:16]
    request[request_id_key] = request_id
    ids: dict[str, str] = {"request_id": request_id}
    reference = request.match_info.get("reference")
    if reference:  # an agent's page or API call about one ticket
        ids["ticket"] = reference[:32]
    with structlog.contextvars.bound_contextvars(**ids):
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers["X-Request-ID"] = request_id
            raise
        if not response.prepared:  # a websocket or a stream has sent its headers already
            response.headers["X-Request-ID"] = request_id
        return response


async def _default_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in DEFAULT_SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


class AccessLogger(AbstractAccessLogger):
    """One line a request: method, path without its query (it may hold a chat's session token),
    status, duration and request id."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time_taken: float) -> None:
        # The probes are called every few seconds: their successes only at DEBUG.
        quiet = request.path in PUBLIC_PROBES and response.status < 400
        self.logger.log(
            logging.DEBUG if quiet else logging.INFO,
            "%s %s %s %.1f ms", request.method, request.path, response.status, time_taken * 1000,
            extra={"request_id": request.get(request_id_key)},
        )


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
    app = web.Application(middlewares=[request_id_middleware, error_middleware],
                          client_max_size=25 * 1024 * 1024)
    app[settings_key] = settings
    app[engine_key] = engine
    app[sessions_key] = sessions
    app[loops_key] = Loops()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    for extend in extensions or []:
        extend(app)
    # Last, so that each part's own headers are set first.
    app.on_response_prepare.append(_default_security_headers)
    return app

"""Bearer-token authentication of /api/v1 and JSON errors for the whole API."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from handlers.agent_auth import actor_for_token
from handlers.agent_scope import Actor
from web.app import sessions_key
from web.inputs import InvalidInput

log = logging.getLogger(__name__)

api_actor_key = web.RequestKey("api_actor", Actor)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MESSAGES = {
    400: "Requête invalide.",
    401: "Jeton d'accès manquant ou invalide.",
    404: "Ressource introuvable.",
    405: "Méthode non autorisée sur cette ressource.",
    409: "Conflit avec l'état actuel de la ressource.",
    413: "Requête trop volumineuse.",
    422: "Contenu de la requête invalide.",
}
CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 422: "invalid_body"}


def api_error(status: int, message: str | None = None, details: object = None) -> web.Response:
    """The API's one error shape: {"error": {"code", "message", "details"?}} with a French message."""
    error: dict[str, object] = {"code": CODES.get(status, "error"), "message": message or MESSAGES.get(status, "Erreur.")}
    if details is not None:
        error["details"] = details
    headers = {"WWW-Authenticate": 'Bearer realm="guichet"'} if status == 401 else None
    return web.json_response({"error": error}, status=status, headers=headers)


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


@web.middleware
async def api_errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """HTTP errors and unreadable input under /api/ answer JSON, never an HTML or text page."""
    if not is_api_path(request.path):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return api_error(exc.status)
    except InvalidInput as exc:
        log.warning("API: rejected %s %s: %s %s", request.method, request.path, exc.message, exc.detail)
        return api_error(400, exc.message)


@web.middleware
async def token_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """`Authorization: Bearer <token>` on /api/v1 acts as the token's agent, else 401."""
    if not request.path.startswith("/api/v1/"):
        return await handler(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return api_error(401)
    async with request.app[sessions_key]() as db:
        # `?territoire=<slug>`: the territory a national administrator's call works in.
        actor = await actor_for_token(db, token.strip(), request.query.get("territoire"))
    if actor is None:
        return api_error(401)
    request[api_actor_key] = actor
    return await handler(request)

"""CSRF protection of the agents' forms: a per-session token and an Origin/Referer check."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from guichet.settings import Settings

import secrets
from collections.abc import Awaitable, Callable

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import Session

from web.inputs import read_form
from web.sessions import get_session
from yarl import URL

from web.agents.templating import jinja_key
from web.app import settings_key

FIELD = "_csrf"
HEADER = "X-CSRF-Token"
SESSION_FIELD = "csrf"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def session_token(session: Session) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get(SESSION_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[SESSION_FIELD] = token
    return token


def _origin(value: str) -> str | None:
    """The origin of an absolute URL, or None for anything else — a malformed one included."""
    try:
        url = URL(value)
        return str(url.origin()) if url.is_absolute() and url.host else None
    except ValueError:  # « …:50355.evil.example », « http://[::1 »: not an origin of ours
        return None


def _reached(request: web.Request) -> str | None:
    """The address this request reached, or None when its Host header makes no URL."""
    try:
        return _origin(str(request.url))
    except ValueError:
        return None


def trusted_origins(request: web.Request, settings: Settings) -> set[str]:
    """The public address, and the address this request reached (behind a proxy keeping Host)."""
    return {o for o in (_origin(settings.public_url), _reached(request)) if o}


def same_origin(request: web.Request, settings: Settings) -> bool:
    """The request comes from one of our pages: Origin, or failing that Referer, says so."""
    source = request.headers.get("Origin")
    if source is None or source == "null":
        source = request.headers.get("Referer")
    if not source:
        return False
    return _origin(source) in trusted_origins(request, settings)


def refused(request: web.Request) -> web.Response:
    """403 page in French: the form is stale or comes from elsewhere."""
    return aiohttp_jinja2.render_template(
        "agents/error.html", request,
        {"title": "Formulaire refusé", "actor": None, "csrf_token": "", "flash": None,
         "labels": None, "error": None,
         "message": "La vérification de sécurité du formulaire a échoué. "
                    "Rechargez la page puis recommencez votre action."},
        status=403, app_key=jinja_key)


def csrf_middleware(prefix_check: Callable[[str], bool]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Refuse unsafe requests on matching paths without a same-origin source and the session token."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method not in UNSAFE or not prefix_check(request.path):
            return await handler(request)
        if not same_origin(request, request.app[settings_key]):
            return refused(request)
        session = await get_session(request)
        expected = session.get(SESSION_FIELD)
        given = request.headers.get(HEADER)
        if given is None and request.content_type in (
            "application/x-www-form-urlencoded", "multipart/form-data"
        ):
            given = (await read_form(request)).get(FIELD)
        if not isinstance(expected, str) or not isinstance(given, str) or not secrets.compare_digest(
            expected.encode(), given.encode()
        ):
            return refused(request)
        return await handler(request)

    return middleware

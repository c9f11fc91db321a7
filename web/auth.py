"""Agents' sign-in: encrypted cookie sessions, the login rate limit, the auth middleware."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from guichet.settings import Settings

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

from handlers.agent_scope import Actor, load_actor, territory_choices
from web.app import sessions_key
from web.sessions import get_session

log = logging.getLogger(__name__)

SESSION_COOKIE = "guichet_agents"
SESSION_MAX_AGE = 12 * 3600
AGENT_ID = "agent_id"
#: The agent's session epoch at sign-in (`Agent.session_epoch`): signing out ends older sessions.
SESSION_EPOCH = "epoch"
#: The territory a national administrator chose to work in (a slug).
TERRITORY = "territory"
#: Paths under /agents reachable without being signed in.
PUBLIC_PATHS = ("/agents/login", "/agents/static/")

actor_key = web.RequestKey("agents_actor", Actor)
#: (slug, name) of the territories a national administrator may switch to (read with the actor).
territory_choices_key: web.RequestKey[list[tuple[str, str]]] = web.RequestKey("agents_territory_choices")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_agents_path(path: str) -> bool:
    return path == "/agents" or path.startswith("/agents/")


def session_storage(settings: Settings) -> EncryptedCookieStorage:
    """Cookie storage keyed by GUICHET_SESSION_SECRET, or by a key made at start.

    A generated key lives only as long as the process: a restart signs everyone out,
    which is acceptable for the embedded default; set the secret in production.
    """
    secret = settings.session_secret
    if not secret:
        # Expected on the embedded default (SQLite, one process); a server database means production.
        level = logging.INFO if settings.is_sqlite else logging.WARNING
        log.log(level, "GUICHET_SESSION_SECRET is unset: agents' sessions end at each restart")
        secret = Fernet.generate_key().decode()
    return EncryptedCookieStorage(
        Fernet(secret), cookie_name=SESSION_COOKIE, max_age=SESSION_MAX_AGE, httponly=True,
        samesite="Lax", secure=settings.public_url.startswith("https://"), path="/agents",
    )


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every /agents page needs an active agent; the others go to the sign-in page."""
    if not is_agents_path(request.path) or request.path.startswith(PUBLIC_PATHS):
        return await handler(request)
    session = await get_session(request)
    agent_id = session.get(AGENT_ID)
    epoch = session.get(SESSION_EPOCH)
    actor = None
    if isinstance(agent_id, int) and isinstance(epoch, int):
        async with request.app[sessions_key]() as db:
            chosen = session.get(TERRITORY)
            actor = await load_actor(db, agent_id, chosen if isinstance(chosen, str) else None,
                                     session_epoch=epoch)
            if actor is not None and actor.is_national:
                request[territory_choices_key] = await territory_choices(db, actor)
    if actor is None:
        if agent_id is not None:
            session.invalidate()
        if request.method == "GET" and request.path != "/agents/events":
            target = request.path_qs if request.path != "/agents/logout" else "/agents"
            raise web.HTTPSeeOther(
                request.app.router["agents_login"].url_for().with_query(suivant=target))
        raise web.HTTPUnauthorized(text="Votre session a expiré : reconnectez-vous.")
    request[actor_key] = actor
    return await handler(request)


@dataclass
class LoginLimiter:
    """At most `max_failures` failed sign-ins per (e-mail, address), and `max_address_failures`
    per address whatever the e-mails tried (no spraying of many accounts from one address), in a
    sliding window. A success clears its own (e-mail, address) count only.

    In-process: each `guichet serve` process counts its own failures.
    """

    max_failures: int = 5
    max_address_failures: int = 20
    window_seconds: float = 15 * 60
    clock: Callable[[], float] = time.monotonic
    max_keys: int = 50_000
    _failures: dict[tuple[str | None, str], deque[float]] = field(default_factory=dict)

    def _recent(self, key: tuple[str | None, str]) -> deque[float]:
        horizon = self.clock() - self.window_seconds
        stamps = self._failures.get(key, deque())
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        return stamps

    def blocked(self, email: str, address: str) -> bool:
        return (len(self._recent((email, address))) >= self.max_failures
                or len(self._recent((None, address))) >= self.max_address_failures)

    def failed(self, email: str, address: str) -> None:
        for key in ((email, address), (None, address)):  # None: the address, any e-mail
            stamps = self._recent(key)
            stamps.append(self.clock())
            self._failures[key] = stamps
        while len(self._failures) > self.max_keys:
            self._failures.pop(next(iter(self._failures)))

    def succeeded(self, email: str, address: str) -> None:
        self._failures.pop((email, address), None)


limiter_key = web.AppKey("agents_login_limiter", LoginLimiter)

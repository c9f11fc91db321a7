"""Agents' sessions on aiohttp-session's encrypted cookie storage, under typed request keys.

aiohttp-session's own middleware stores its objects under string request keys, which
aiohttp 3.14 warns about; this module keeps the storage and drives it with
`web.RequestKey`s, only for the /agents pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp_session import Session
from aiohttp_session.cookie_storage import EncryptedCookieStorage

storage_key = web.AppKey("agents_session_storage", EncryptedCookieStorage)
_session_key = web.RequestKey("agents_session", Session)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def get_session(request: web.Request) -> Session:
    """The request's session, read from its cookie once."""
    session = request.get(_session_key)
    if session is None:
        session = await request.app[storage_key].load_session(request)
        request[_session_key] = session
    return session


async def new_session(request: web.Request) -> Session:
    """A fresh, empty session replacing the current one (e.g. at sign-in, against fixation)."""
    session = await request.app[storage_key].new_session()
    request[_session_key] = session
    return session


def session_middleware(applies: Callable[[str], bool]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Save a changed session on the way out, on the paths `applies` accepts."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not applies(request.path):
            return await handler(request)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            await _save(request, exc)
            raise
        if isinstance(response, web.Response) and not response.prepared:
            await _save(request, response)
        return response

    return middleware


async def _save(request: web.Request, response: web.StreamResponse) -> None:
    session = request.get(_session_key)
    if session is not None and session._changed:  # noqa: SLF001 - aiohttp-session's own flag
        await request.app[storage_key].save_session(request, response, session)

"""Sign-in and sign-out of the agents."""

from __future__ import annotations

from aiohttp import web

from handlers.agent_auth import authenticate, end_sessions
from web.app import sessions_key
from web.agents.templating import render
from web.auth import AGENT_ID, SESSION_EPOCH, TERRITORY, actor_key, limiter_key, territory_choices_key
from web.agents.templating import flash
from web.inputs import read_form
from web.sessions import get_session, new_session

TOO_MANY = "Trop de tentatives, réessayez dans quelques minutes."
WRONG = "Adresse électronique ou mot de passe incorrect."


def _safe_next(raw: str | None) -> str:
    """Only our own pages as a destination after sign-in (no open redirect)."""
    if raw and raw.startswith("/agents") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return "/agents"


async def login_form(request: web.Request) -> web.Response:
    session = await get_session(request)
    if isinstance(session.get(AGENT_ID), int):
        raise web.HTTPSeeOther(_safe_next(request.query.get("suivant")))
    notice = "Vous êtes déconnecté·e. À bientôt !" if "sortie" in request.query else None
    return await render("agents/login.html", request, {
        "next": _safe_next(request.query.get("suivant")), "email": "", "notice": notice})


async def login(request: web.Request) -> web.Response:
    form = await read_form(request)
    email = str(form.get("email", "")).strip().lower()[:254]
    password = str(form.get("password", ""))[:1024]
    target = _safe_next(str(form.get("next", "")))
    address = request.remote or "inconnue"
    limiter = request.app[limiter_key]

    async def refuse(message: str, status: int) -> web.Response:
        return await render("agents/login.html", request, {
            "next": target, "email": email, "error": message, "notice": None}, status=status)

    if limiter.blocked(email, address):
        return await refuse(TOO_MANY, 429)
    signed_in = await authenticate(request.app[sessions_key], email, password)
    if signed_in is None:
        limiter.failed(email, address)
        if limiter.blocked(email, address):
            return await refuse(TOO_MANY, 429)
        return await refuse(WRONG, 401)
    limiter.succeeded(email, address)
    session = await new_session(request)  # a fresh session (and CSRF token) at sign-in
    session[AGENT_ID] = signed_in.agent_id
    session[SESSION_EPOCH] = signed_in.session_epoch
    raise web.HTTPSeeOther(target)


async def choose_territory(request: web.Request) -> web.Response:
    """A national administrator changes the territory they work in (404 for everyone else)."""
    form = await read_form(request)
    choices = dict(request.get(territory_choices_key, []))
    slug = str(form.get("territory", "")).strip()
    if not choices:
        raise web.HTTPNotFound(text="Page introuvable.")
    if slug not in choices:
        await flash(request, "Ce territoire n'existe pas.", "error")
        raise web.HTTPSeeOther("/agents")
    (await get_session(request))[TERRITORY] = slug
    await flash(request, f"Vous travaillez maintenant sur ce territoire : {choices[slug]}.")
    raise web.HTTPSeeOther("/agents")


async def logout(request: web.Request) -> web.Response:
    """Sign out: this cookie is cleared and every session of the agent ends, saved copies included."""
    await end_sessions(request.app[sessions_key], request[actor_key].id)
    (await get_session(request)).invalidate()
    raise web.HTTPSeeOther(request.app.router["agents_login"].url_for().with_query(sortie="1"))

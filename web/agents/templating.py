"""The agents' jinja2 environment: autoescaped, French filters, the shared page context."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web
from web.sessions import get_session

from domain.formats import format_phone
from domain.french import duration_fr, euros, of_organisation
from web import labels
from web.typography import FrenchLoader, finalize

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"
jinja_key = web.AppKey("agents_jinja", jinja2.Environment)


def _local(value: datetime | None, tz: str = "Europe/Paris", fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A UTC instant shown in the territory's time zone, French order."""
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


duration = duration_fr


def _filesize(size: int) -> str:
    if size < 1024:
        return f"{size} o"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} Ko"
    return f"{size / 1024 / 1024:.1f} Mo".replace(".", ",")




def setup_templates(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app, loader=FrenchLoader(TEMPLATES), app_key=jinja_key, autoescape=True, finalize=finalize,
        undefined=jinja2.StrictUndefined, auto_reload=False,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters.update(local=_local, duration=duration, filesize=_filesize, of_organisation=of_organisation,
                       euros=euros, phone=format_phone)
    versions = {p.name: f"{int(p.stat().st_mtime)}" for p in STATIC.glob("*.*")}
    env.globals.update(
        label=labels.label, event_label=labels.event_label,
        asset=lambda name: f"/agents/static/{name}?v={versions.get(name, '0')}",
    )


async def render(
    template: str, request: web.Request, context: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    """Render an agents' page with the shared context: actor, CSRF token, flash message."""
    from web.auth import actor_key
    from web.csrf import session_token

    session = await get_session(request)
    actor = request.get(actor_key)
    base: dict[str, Any] = {
        "labels": labels, "actor": actor, "csrf_token": session_token(session),
        "flash": session.pop("flash", None), "error": None, "territory_choices": [],
    }
    if actor is not None and actor.is_national:  # the territory switch in the header
        from web.auth import territory_choices_key

        base["territory_choices"] = request.get(territory_choices_key, [])
    base.update(context or {})
    response = aiohttp_jinja2.render_template(template, request, base, app_key=jinja_key, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


async def flash(request: web.Request, message: str, kind: str = "ok") -> None:
    """A one-time message shown on the next page (after a POST-redirect-GET)."""
    (await get_session(request))["flash"] = {"kind": kind, "text": message}

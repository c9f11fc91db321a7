"""Public knowledge-base pages: `/kb`, `/kb/search`, `/kb/{slug}` and the feedback form.

Public surface: `setup_kb(app)` for the `extensions` of `web.app.init_app`, and `kb_key`, under
which the loaded `KnowledgeBase` is shared (set it before `setup_kb` to pass one in).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from kb import KnowledgeBase
from web.typography import FrenchLoader, finalize
from web.app import settings_key
from web.kb import views
from web.kb.views import feedback_secret_key, kb_key

__all__ = ["kb_key", "setup_kb"]

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
CSS = Path(__file__).resolve().parent.parent / "static" / "kb.css"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _templates(app: web.Application) -> None:
    """Reuse the app's default jinja2 environment if one exists, else create it on web/templates."""
    if aiohttp_jinja2.APP_KEY not in app:
        aiohttp_jinja2.setup(app, loader=FrenchLoader(TEMPLATES), autoescape=True, finalize=finalize)
        return
    env = app[aiohttp_jinja2.APP_KEY]
    if not env.autoescape:
        raise RuntimeError("the knowledge-base pages need an autoescaping jinja2 environment")
    try:
        env.get_template("kb/base.html")
    except jinja2.TemplateNotFound:
        loaders = [env.loader, FrenchLoader(TEMPLATES)]
        env.loader = jinja2.ChoiceLoader([loader for loader in loaders if loader is not None])


async def _css(request: web.Request) -> web.FileResponse:
    return web.FileResponse(CSS, headers={"Cache-Control": "public, max-age=3600"})


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path == "/kb" or request.path.startswith("/kb/"):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)


def setup_kb(app: web.Application) -> None:
    """Load and validate the articles (a broken one stops the start) and add the pages."""
    if kb_key not in app:
        app[kb_key] = KnowledgeBase.from_directory()
    secret = app[settings_key].session_secret
    # Without a configured secret, forms stay valid only for this process's lifetime.
    app[feedback_secret_key] = secret.encode() if secret else secrets.token_bytes(32)
    _templates(app)
    app.on_response_prepare.append(_security_headers)
    r = app.router
    r.add_get("/kb", views.index, name="kb_index")
    r.add_get("/kb/search", views.search, name="kb_search")
    r.add_get("/kb/kb.css", _css, name="kb_css")
    r.add_get("/kb/{slug:[a-z0-9-]+}", views.article_page, name="kb_article")
    r.add_post("/kb/{slug:[a-z0-9-]+}/feedback", views.feedback, name="kb_feedback")

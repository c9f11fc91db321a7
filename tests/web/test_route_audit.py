"""Every route of the whole application is public by design or refuses a request without credentials,
and every answer carries the security headers (CSP without inline script, no framing, no sniffing)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp import web

from guichet.settings import load_settings
from guichet.wiring import build_app
from nlu import LocalNlu
from tests.email.conftest import free_port
from tests.telegram.conftest import TOKEN, bot_api, ptb_timedelta  # noqa: F401 - Bot API server on loopback
from tests.web.world import SESSION_SECRET

#: Reachable without credentials, on purpose: the teachers' doors, the tutorials, the sign-in page,
#: the static files and the operators' probes. Adding a route here is a security decision.
PUBLIC = {
    ("GET", "/"), ("GET", "/chat"), ("GET", "/chat/ws"), ("GET", "/chat/static"),
    ("GET", "/chat/api/messages"), ("POST", "/chat/api/messages"),
    # Each served territory's door to the same chat (tests/guichet/test_territories.py).
    ("GET", "/t/{territory}/chat"), ("GET", "/t/{territory}/chat/ws"),
    ("GET", "/t/{territory}/chat/api/messages"), ("POST", "/t/{territory}/chat/api/messages"),
    ("GET", "/kb"), ("GET", "/kb/search"), ("GET", "/kb/kb.css"), ("GET", "/kb/{slug}"),
    ("POST", "/kb/{slug}/feedback"),
    # The e-mailed rating link: its random token is the capability (tests/web/test_rating_page.py).
    ("GET", "/avis/{token}"), ("POST", "/avis/{token}"),
    ("GET", "/agents/login"), ("POST", "/agents/login"), ("GET", "/agents/static"),
    ("GET", "/api/openapi.json"),
    ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
}

_PLACEHOLDER = re.compile(r"\{(\w+)[^}]*\}")
_SAMPLES = {"reference": "SEM-2026-000001", "action": "claim", "id": "1", "uai": "0420001A", "slug": "imprimante", "territory": "sem"}

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"


@pytest.fixture
async def client(db, aiohttp_client, bot_api):  # noqa: F811 - the fixture imported above
    """The whole application with every door on: Telegram webhook, SMTP intake, HTTP chat."""
    settings = load_settings(
        database_url=db.url, territory="sem", background=False, public_url="http://guichet.test",
        session_secret=SESSION_SECRET, telegram_token=TOKEN, telegram_base_url=bot_api.base_url,
        telegram_webhook_secret="audit-secret", smtp_intake_port=free_port(), http_host="127.0.0.1")
    return await aiohttp_client(build_app(settings, db.engine, db.sessions, nlu=LocalNlu()))


def _routes(app: web.Application) -> set[tuple[str, str]]:
    return {(route.method, route.resource.canonical) for route in app.router.routes()
            if route.method != "HEAD" and route.resource is not None}


def _url(canonical: str) -> str:
    return _PLACEHOLDER.sub(lambda m: _SAMPLES.get(m.group(1), "1"), canonical)


async def test_every_route_is_public_by_design_or_protected(client) -> None:
    """A route outside PUBLIC must refuse an anonymous request (401, 403, or the sign-in page)."""
    routes = _routes(client.app)
    assert PUBLIC <= routes, f"stale entries in PUBLIC: {PUBLIC - routes}"
    unprotected = []
    for method, canonical in sorted(routes - PUBLIC):
        response = await client.request(method, _url(canonical), allow_redirects=False,
                                        headers={"Origin": "http://guichet.test"})
        to_login = response.status in (302, 303) and response.headers["Location"].startswith("/agents/login")
        if not (response.status in (401, 403) or to_login):
            unprotected.append(f"{method} {canonical} answered {response.status} without credentials")
    assert not unprotected, "\n".join(unprotected)
    assert len(routes - PUBLIC) >= 20  # the agents' pages, the API and the webhook were all tried


async def test_every_page_sends_the_security_headers(client) -> None:
    """Every GET answer — pages, probes, redirects, errors — forbids framing, sniffing and inline script."""
    paths = [_url(c) for m, c in sorted(_routes(client.app)) if m == "GET" and not c.endswith("/chat/ws")]
    paths += ["/no-such-page", "/kb/no-such-article"]
    for path in paths:
        response = await client.get(path, allow_redirects=False)
        csp = response.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp, (path, csp)
        directives = dict((d.split(" ", 1) + [""])[:2] for d in (p.strip() for p in csp.split(";")) if d)
        script = directives.get("script-src", directives.get("default-src", ""))
        assert "'unsafe-inline'" not in script and script, (path, csp)
        assert response.headers.get("X-Content-Type-Options") == "nosniff", path
        assert response.headers.get("Referrer-Policy"), path


def test_templates_hold_no_inline_script() -> None:
    """No template has a <script> without src, an on…= handler or a javascript: link (the CSP would block them)."""
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\son[a-z]+\s*=", r"javascript:"):
            if re.search(pattern, text, re.I):
                offenders.append(f"{template.relative_to(TEMPLATES)}: {pattern}")
    assert not offenders, offenders

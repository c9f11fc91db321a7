"""The agents' web application: sign-in, queue, ticket pages, reports and administration.

Public surface: `setup_agents(app)`, to pass in the `extensions` of `web.app.init_app`.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from kb import KnowledgeBase
from web.agents import (
    views_admin, views_assets, views_auth, views_calls, views_classes, views_labels, views_queue, views_reports,
    views_ticket,
)
from web.agents.templating import setup_templates
from web.agents.views_queue import LiveOptions, live_key
from web.app import settings_key
from web.auth import (
    LoginLimiter,
    auth_middleware,
    is_agents_path,
    limiter_key,
    session_storage,
)
from web.csrf import csrf_middleware
from web.kb import kb_key
from web.sessions import session_middleware, storage_key

STATIC = Path(__file__).resolve().parent.parent / "static"

#: Same-origin scripts and styles only; no inline code, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

__all__ = ["LiveOptions", "live_key", "setup_agents"]


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    if is_agents_path(request.path):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)


def setup_agents(app: web.Application) -> None:
    """Plug the agents' pages, their middlewares and their services into `app`."""
    setup_templates(app)
    if kb_key not in app:  # shared with the public /kb pages, whichever extension loads it first
        app[kb_key] = KnowledgeBase.from_directory()
    app[storage_key] = session_storage(app[settings_key])
    app[limiter_key] = LoginLimiter()
    app[live_key] = LiveOptions()
    app.middlewares.extend([
        session_middleware(is_agents_path),
        csrf_middleware(is_agents_path),
        auth_middleware,
    ])
    app.on_response_prepare.append(_security_headers)

    r = app.router
    r.add_get("/agents", views_queue.queue, name="agents_queue")
    r.add_get("/agents/login", views_auth.login_form, name="agents_login")
    r.add_post("/agents/login", views_auth.login)
    r.add_post("/agents/logout", views_auth.logout, name="agents_logout")
    r.add_post("/agents/territory", views_auth.choose_territory, name="agents_territory")
    r.add_get("/agents/events", views_queue.events, name="agents_events")
    views_calls.setup_calls(r)
    r.add_get("/agents/tickets/{reference}", views_ticket.ticket_page, name="agents_ticket")
    r.add_post("/agents/tickets/{reference}/{action}", views_ticket.ticket_action)
    r.add_get("/agents/tickets/{reference}/etat", views_reports.claim_statement, name="agents_claim_statement")
    r.add_get("/agents/attachments/{id}", views_ticket.attachment, name="agents_attachment")
    r.add_get("/agents/assets", views_assets.asset_list, name="agents_assets")
    r.add_get("/agents/assets/new", views_assets.asset_new)
    r.add_post("/agents/assets/new", views_assets.asset_new)
    r.add_get("/agents/assets/{tag}", views_assets.asset_page, name="agents_asset")
    r.add_post("/agents/assets/{tag}/{action}", views_assets.asset_action)
    r.add_get("/agents/admin/assets", views_assets.admin_assets)
    r.add_get("/agents/schools/{uai}/labels", views_labels.school_labels, name="agents_school_labels")
    views_classes.setup_classes(r)
    r.add_get("/agents/reports", views_reports.reports, name="agents_reports")
    r.add_get("/agents/reports/committee", views_reports.committee, name="agents_committee")
    r.add_get("/agents/reports/sla", views_reports.sla_compliance, name="agents_sla_report")
    r.add_get("/agents/reports/insurance", views_reports.insurance, name="agents_insurance")
    for kind, listing, form in (
        ("organisations", views_admin.organisations, views_admin.organisation_form),
        ("agents", views_admin.agents, views_admin.agent_form),
        ("schools", views_admin.schools, views_admin.school_form),
    ):
        r.add_get(f"/agents/admin/{kind}", listing, name=f"agents_admin_{kind}")
        r.add_get(f"/agents/admin/{kind}/{{id}}", form)
        r.add_post(f"/agents/admin/{kind}/{{id}}", form)
    r.add_static("/agents/static", STATIC, name="agents_static", append_version=True)

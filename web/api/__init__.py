"""The agents' REST API (/api/v1) and its OpenAPI document.

Public surface: `setup_api(app)`, to pass in the `extensions` of `web.app.init_app`.
"""

from __future__ import annotations

from aiohttp import web

from web.api import views
from web.api.auth import api_errors_middleware, token_middleware
from web.api.openapi import openapi_document

__all__ = ["setup_api"]


def setup_api(app: web.Application) -> None:
    """Plug /api/v1 (Bearer tokens, JSON errors) and /api/openapi.json into `app`."""
    document = openapi_document()

    async def openapi(request: web.Request) -> web.Response:
        return web.json_response(document)

    app.middlewares.extend([api_errors_middleware, token_middleware])
    r = app.router
    r.add_get("/api/openapi.json", openapi, name="api_openapi")
    r.add_get("/api/v1/tickets", views.list_tickets, name="api_tickets")
    r.add_post("/api/v1/tickets", views.create_ticket, name="api_create_ticket")
    r.add_get("/api/v1/tickets/{reference}", views.get_ticket, name="api_ticket")
    r.add_post("/api/v1/tickets/{reference}/actions/{action}", views.ticket_action, name="api_ticket_action")
    r.add_get("/api/v1/schools", views.list_schools, name="api_schools")
    r.add_get("/api/v1/assets", views.find_asset, name="api_assets")

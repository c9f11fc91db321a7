"""The label sheet of a school's devices, for the agents whose scope covers the school."""

from __future__ import annotations

from aiohttp import web

from desk.errors import RecordNotFound
from handlers.label_sheets import agent_school_labels
from web.agents.views_ticket import not_found
from web.app import sessions_key, settings_key
from web.auth import actor_key
from web.documents import pdf_response
from web.label_sheet import LabelLinks, content_security_policy, render_sheet


async def school_labels(request: web.Request) -> web.Response:
    """GET /agents/schools/{uai}/labels[?room=R][&tag=T][&format=pdf]: the printable sheet (HTML, or the
    same as an A4 PDF), of one room or one device when asked; 404 outside the agent's scope."""
    room = request.query.get("room") or None
    tag = request.query.get("tag") or None
    async with request.app[sessions_key]() as db:
        try:
            sheet = await agent_school_labels(db, request[actor_key], request.match_info["uai"], room, tag)
        except RecordNotFound:
            return await not_found(request, "Cette école est introuvable.")
    settings = request.app[settings_key]
    slug = request[actor_key].territory_slug or settings.served_territories[0]
    links = LabelLinks.for_territory(settings.public_url, settings.bot_username_of(slug), slug,
                                     settings.served_territories[0])
    html = render_sheet(sheet, links)
    if request.query.get("format") == "pdf":
        # A tag the inventory holds is letters, digits and dashes: safe in a file name.
        suffix = f"-{sheet.assets[0].tag}" if sheet.tag and sheet.assets else ""
        return pdf_response(html, f"etiquettes-{sheet.uai}{suffix}.pdf")
    # The sheet is one self-contained document: its own inline style sheet, allowed by its hash.
    return web.Response(text=html, content_type="text/html", charset="utf-8", headers={
        "Content-Security-Policy": content_security_policy(), "Cache-Control": "no-store"})

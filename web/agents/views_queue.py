"""The queue page and its live updates (server-sent events)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from domain.vocabulary import TICKET_INTENTS, Equipment, Intent, TicketStatus
from handlers.agent_directory import territory_communes
from handlers.agent_queue import QueueFilters, latest_event_id, list_queue, queue_changed_since
from web import labels
from web.agents.templating import render
from web.app import sessions_key
from web.auth import actor_key
from web.inputs import bounded_int

#: The « Catégorie » filter: what a ticket can be about, by French label (no chat intents).
QUEUE_INTENTS = sorted((i.value for i in TICKET_INTENTS if i.value in labels.INTENT),
                       key=lambda value: labels.INTENT[value].casefold())


@dataclass(frozen=True, slots=True)
class LiveOptions:
    """How often each open page's connection looks for changes, and keeps itself alive."""

    poll_seconds: float = 3.0
    heartbeat_seconds: float = 20.0


live_key = web.AppKey("agents_live_options", LiveOptions)


def _int(raw: str | None) -> int | None:
    """A number of the query string; None when absent, not a number or out of range."""
    return bounded_int(raw)


def filters_from(query: Any) -> QueueFilters:
    """Filters from the query string; unknown values are ignored, never an error."""
    status = query.get("statut") or None
    if status not in {*TicketStatus, "all", None}:
        status = None
    intent = query.get("categorie") or None
    equipment = query.get("materiel") or None
    assigned = query.get("attribution") or None
    return QueueFilters(
        status=status,
        intent=intent if intent in set(Intent) else None,
        commune_id=_int(query.get("commune")),
        school_uai=(query.get("ecole") or "").strip()[:8] or None,
        equipment=equipment if equipment in set(Equipment) else None,
        assigned=assigned if assigned in ("me", "none") else None,
        q=(query.get("q") or "").strip()[:200] or None,
        page=max(1, _int(query.get("page")) or 1),
        after=(query.get("apres") or query.get("after") or "").strip()[:80] or None,
    )


async def queue(request: web.Request) -> web.Response:
    actor = request[actor_key]
    filters = filters_from(request.query)
    async with request.app[sessions_key]() as db:
        page = await list_queue(db, actor, filters)
        communes = await territory_communes(db, actor.territory_id)
        last_event = await latest_event_id(db)
    params = {k: v for k, v in request.query.items() if k not in ("page", "apres", "after", "fragment") and v}

    def page_link(number: int) -> str:
        return "/agents?" + urlencode({**params, "page": number})

    def after_link(cursor: str) -> str:
        return "/agents?" + urlencode({**params, "apres": cursor})

    # The live refresh reloads the page the agent is reading (the same cursor, or the same page).
    here = {"apres": filters.after} if filters.after else {"page": page.page}

    context = {
        "page": page, "filters": filters, "communes": communes, "last_event": last_event,
        "statuses": list(TicketStatus), "intents": QUEUE_INTENTS, "equipment": list(Equipment),
        "page_link": page_link, "after_link": after_link, "first_link": "/agents?" + urlencode(params),
        "fragment_query": urlencode({**params, **here, "fragment": 1}), "open_total": sum(
            page.counts.get(s, 0) for s in labels.OPEN_STATUSES),
        "now_query": urlencode(params),
    }
    template = "agents/_queue_list.html" if request.query.get("fragment") else "agents/queue.html"
    return await render(template, request, context)


async def events(request: web.Request) -> web.StreamResponse:
    """Tell the page « la file a changé » whenever an event concerns the agent's queue."""
    actor = request[actor_key]
    options = request.app[live_key]
    sessions = request.app[sessions_key]
    last = _int(request.headers.get("Last-Event-ID")) or _int(request.query.get("depuis"))
    if last is None:
        async with sessions() as db:
            last = await latest_event_id(db)
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store",
        "X-Accel-Buffering": "no"})
    await response.prepare(request)
    with contextlib.suppress(ConnectionError):
        await response.write(b"retry: 5000\n\n")
        quiet = 0.0
        while True:
            await asyncio.sleep(options.poll_seconds)
            async with sessions() as db:
                changed, last = await queue_changed_since(db, actor, last)
            if changed:
                await response.write(f"id: {last}\nevent: queue\ndata: la file a changé\n\n".encode())
                quiet = 0.0
            else:
                quiet += options.poll_seconds
                if quiet >= options.heartbeat_seconds:
                    await response.write(b": keep-alive\n\n")
                    quiet = 0.0
    return response

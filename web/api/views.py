"""JSON endpoints of /api/v1: tickets, their actions, schools and assets."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from desk.errors import IllegalTransition, RecordNotFound
from handlers.agent_actions import ActionRefused, ActionResult, AgentActions
from handlers.agent_directory import asset_file, search_schools
from handlers.agent_queue import list_queue, ticket_file
from handlers.agent_scope import Actor
from handlers.assets import AssetQuery, search_assets
from handlers.logged_calls import CallRefused, CallRequest, NewRequester
from web.agent_services import agent_actions, logged_calls
from web.agents.tutorials import FindTutorial, find_tutorial
from web.agents.views_queue import filters_from
from web import labels
from web.api import schemas
from web.api.auth import api_actor_key, api_error
from web.app import sessions_key
from web.inputs import bounded_int

log = logging.getLogger(__name__)

MAX_PER_PAGE = 100
Body = TypeVar("Body", bound=BaseModel)

Run = Callable[[AgentActions, Actor, str, Any, FindTutorial], Awaitable[ActionResult]]
#: action name -> (body model, use case)
ACTIONS: dict[str, tuple[type[BaseModel], Run]] = {
    "claim": (schemas.EmptyBody, lambda a, actor, ref, b, t: a.claim(actor, ref)),
    "reply": (schemas.MessageBody, lambda a, actor, ref, b, t: a.reply(actor, ref, b.body, t(b.article))),
    "note": (schemas.TextBody, lambda a, actor, ref, b, t: a.note(actor, ref, b.body)),
    "ask": (schemas.MessageBody, lambda a, actor, ref, b, t: a.ask(actor, ref, b.body, t(b.article))),
    "reroute": (schemas.RerouteBody, lambda a, actor, ref, b, t: a.reroute(actor, ref, b.organisation, b.reason)),
    "resolve": (schemas.ResolveBody, lambda a, actor, ref, b, t: a.resolve(actor, ref, b.body or "", t(b.article))),
}


def _page(query: Any) -> tuple[int, int] | None:
    """(page, per_page) of the query string; None when either is not a number in range."""
    page = bounded_int(query.get("page", "1"), minimum=1)
    per_page = bounded_int(query.get("per_page", "50"), minimum=1, maximum=MAX_PER_PAGE)
    if page is None or per_page is None:
        return None
    return page, per_page


async def list_tickets(request: web.Request) -> web.Response:
    actor = request[api_actor_key]
    paging = _page(request.query)
    if paging is None:
        return api_error(422, f"page doit être ≥ 1 et per_page entre 1 et {MAX_PER_PAGE}.")
    filters = replace(filters_from(request.query), page=paging[0], per_page=paging[1])
    async with request.app[sessions_key]() as db:
        page = await list_queue(db, actor, filters)
    return web.json_response({
        "items": [schemas.row_json(r) for r in page.rows],
        "page": page.page, "per_page": paging[1],
        "next_page": page.page + 1 if page.has_next else None,
        "next_after": page.next_after,
        "counts": page.counts, "counts_capped_at": page.count_cap,
    })


async def get_ticket(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db:
        try:
            file = await ticket_file(db, request[api_actor_key], request.match_info["reference"])
        except RecordNotFound:
            return api_error(404, "Demande introuvable.")
    return web.json_response(schemas.file_json(file))


async def ticket_action(request: web.Request) -> web.Response:
    entry = ACTIONS.get(request.match_info["action"])
    if entry is None:
        return api_error(404, "Action inconnue.")
    model, run = entry
    body = await _body(request, model)
    if isinstance(body, web.Response):
        return body
    try:
        result = await run(agent_actions(request), request[api_actor_key], request.match_info["reference"], body,
                           partial(find_tutorial, request.app))
    except RecordNotFound:
        return api_error(404, "Demande introuvable.")
    except ActionRefused as refused:
        return api_error(422, refused.message)
    except IllegalTransition:
        return api_error(409, "Ce changement de statut n'est pas possible pour cette demande.")
    return web.json_response({"reference": result.reference, "status": result.status,
                              "message": result.message, "outbox_id": result.outbox_id})


async def _body(request: web.Request, model: type[Body]) -> Body | web.Response:
    """The request's JSON body as `model`, or the 422 answer in French (never a 500)."""
    raw = await request.read()
    try:
        payload = json.loads(raw) if raw.strip() else {}
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError; too deep a nesting
        log.warning("API: rejected a body that is not JSON on %s (%s)", request.path, type(exc).__name__)
        return api_error(422, "Le corps de la requête n'est pas du JSON valide.")
    if not isinstance(payload, dict):
        return api_error(422, "Le corps de la requête doit être un objet JSON.")
    if b"\x00" in raw or b"\\u0000" in raw:  # PostgreSQL stores no NUL character
        log.warning("API: rejected a body holding a NUL character on %s", request.path)
        return api_error(422, "Le corps de la requête contient un caractère invalide.")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        return api_error(422, "Champs manquants ou invalides.", schemas.french_details(exc))


async def create_ticket(request: web.Request) -> web.Response:
    """POST /api/v1/tickets: a call or visit recorded by the agent, opened like any other ticket
    (`dry_run`: only the triage's and routing's suggestion)."""
    body = await _body(request, schemas.NewTicketBody)
    if isinstance(body, web.Response):
        return body
    who = body.requester
    new = None
    if who.name or who.phone or who.email:
        new = NewRequester(who.name or "", who.role, who.phone or "", who.email or "")
    call = CallRequest(
        school=body.school, text=body.text, requester_id=who.id, new_requester=new,
        asset_tag=body.asset_tag or "", mode=body.mode, intent=body.intent or "",
        organisation=body.organisation or "", reason=body.reason or "",
    )
    calls = logged_calls(request)
    actor = request[api_actor_key]
    try:
        if body.dry_run:
            return web.json_response({"suggestion": schemas.suggestion_json(await calls.suggest(actor, call))})
        done = await calls.create(actor, call)
    except CallRefused as refused:
        return api_error(422, refused.message, [{"field": f, "message": m} for f, m in refused.errors.items()])
    return web.json_response(schemas.logged_call_json(done), status=201,
                             headers={"Location": f"/api/v1/tickets/{done.reference}"})


async def list_schools(request: web.Request) -> web.Response:
    actor = request[api_actor_key]
    paging = _page(request.query)
    if paging is None:
        return api_error(422, f"page doit être ≥ 1 et per_page entre 1 et {MAX_PER_PAGE}.")
    page, per_page = paging
    q = request.query.get("q", "").strip()[:100]
    async with request.app[sessions_key]() as db:
        found = await search_schools(db, actor.territory_id, q, page=page, per_page=per_page)
    return web.json_response({
        "items": [schemas.school_json(s) for s in found.schools], "page": page, "per_page": per_page,
        "next_page": page + 1 if found.has_next else None})


ASSET_FILTERS = ("q", "school", "room", "type", "status", "owner")


async def find_asset(request: web.Request) -> web.Response:
    """?tag=…: one device with its tickets; otherwise the devices in scope, filtered, by tag,
    in keyset pages (`after` = the last tag of the previous page, `per_page` up to 100)."""
    actor = request[api_actor_key]
    tag = request.query.get("tag", "").strip()
    if not tag:
        return await _list_assets(request, actor)
    async with request.app[sessions_key]() as db:
        found = await asset_file(db, actor, tag)
    if found is None:
        return api_error(404, "Aucun matériel ne porte cette étiquette.")
    data = schemas.asset_json(found.asset)
    data["tickets"] = [{"reference": t.reference, "opened_at": t.opened_at.isoformat(), "intent": t.intent,
                        "status": t.status} for t in found.tickets]
    return web.json_response(data)


async def _list_assets(request: web.Request, actor: Actor) -> web.Response:
    per_page = bounded_int(request.query.get("per_page", "50"), minimum=1, maximum=MAX_PER_PAGE)
    if per_page is None:
        return api_error(422, f"per_page doit être un nombre entre 1 et {MAX_PER_PAGE}.")
    values = {name: request.query.get(name, "").strip()[:120] for name in ASSET_FILTERS}
    for name, known in (("type", labels.EQUIPMENT), ("status", labels.ASSET_STATUS), ("owner", labels.ASSET_OWNER)):
        if values[name] and values[name] not in known:
            return api_error(422, f"Valeur inconnue pour {name} : {values[name]!r} (valeurs : {', '.join(known)}).")
    after = request.query.get("after", "").strip()[:32] or None
    async with request.app[sessions_key]() as db:
        found = await search_assets(db, actor, AssetQuery(**values), limit=per_page, after=after)
    return web.json_response({
        "items": [schemas.asset_row_json(row) for row in found.rows], "per_page": per_page,
        "next_after": found.rows[-1].tag if found.has_next and found.rows else None})

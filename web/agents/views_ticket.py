"""The ticket page, its action forms and attachment downloads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from urllib.parse import quote

from aiohttp import web
from multidict import MultiDictProxy

from desk.errors import IllegalTransition, RecordNotFound
from handlers.agent_actions import ActionRefused, ActionResult, AgentActions
from handlers.agent_queue import scoped_attachment, ticket_file
from handlers.agent_scope import Actor
from web.agent_services import agent_actions
from web.agents.templating import flash, render
from web.agents.tutorials import FindTutorial, find_tutorial, tutorial_choices
from web.app import sessions_key
from web.auth import actor_key
from web.inputs import bounded_int, read_form
from web.kb import kb_key

Form = MultiDictProxy
Action = Callable[[AgentActions, Actor, str, Form, FindTutorial], Awaitable[ActionResult]]

#: Form action name -> use case; the form's fields are read here and nowhere else.
ACTIONS: dict[str, Action] = {
    "claim": lambda a, actor, ref, f, t: a.claim(actor, ref),
    "assign": lambda a, actor, ref, f, t: a.assign(actor, ref, _int(f.get("agent"))),
    "reply": lambda a, actor, ref, f, t: a.reply(actor, ref, str(f.get("body", "")), t(f.get("article"))),
    "note": lambda a, actor, ref, f, t: a.note(actor, ref, str(f.get("body", ""))),
    "ask": lambda a, actor, ref, f, t: a.ask(actor, ref, str(f.get("body", "")), t(f.get("article"))),
    "reroute": lambda a, actor, ref, f, t: a.reroute(
        actor, ref, str(f.get("organisation", "")), str(f.get("reason", ""))),
    "resolve": lambda a, actor, ref, f, t: a.resolve(actor, ref, str(f.get("body", "")), t(f.get("article"))),
    "merge": lambda a, actor, ref, f, t: a.merge(actor, ref, str(f.get("into", ""))),
    "link-asset": lambda a, actor, ref, f, t: a.link_asset(actor, ref, str(f.get("tag", ""))),
    "claim-line": lambda a, actor, ref, f, t: a.claim_line(
        actor, ref, _int(f.get("line")), str(f.get("tag", "")), str(f.get("value", "")), str(f.get("acquired_on", ""))),
    "claim-install": lambda a, actor, ref, f, t: a.claim_install(
        actor, ref, _int(f.get("line")), str(f.get("tag", "")), str(f.get("value", "")), str(f.get("installed_on", ""))),
    "claim-stolen": lambda a, actor, ref, f, t: a.claim_mark_stolen(actor, ref, _int(f.get("line"))),
    "claim-step": lambda a, actor, ref, f, t: a.claim_step(
        actor, ref, str(f.get("step", "")), str(f.get("done_on", "")), str(f.get("note", "")),
        {key: str(value) for key, value in f.items() if key in ("amount", "payment_mode", "planned_on", "after_payment")}),
}

#: Content types shown as they are; anything else downloads as bytes.
SAFE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"})


def _int(raw: object) -> int:
    """An id from the form or the path; 0 (no such row) when it is not one."""
    return bounded_int(raw, minimum=0) or 0


async def not_found(request: web.Request, what: str = "Cette demande est introuvable.") -> web.Response:
    """The same answer for « does not exist » and « not yours »."""
    return await render("agents/error.html", request, {
        "title": "Introuvable", "message": what}, status=404)


async def ticket_page(request: web.Request) -> web.Response:
    actor = request[actor_key]
    async with request.app[sessions_key]() as db:
        try:
            file = await ticket_file(db, actor, request.match_info["reference"])
        except RecordNotFound:
            return await not_found(request)
    return await render("agents/ticket.html", request, {
        "f": file, "t": file.ticket, "tutorials": tutorial_choices(request.app[kb_key], file.ticket)})


async def ticket_action(request: web.Request) -> web.Response:
    actor = request[actor_key]
    reference = request.match_info["reference"]
    action = ACTIONS.get(request.match_info["action"])
    if action is None:
        return await not_found(request, "Cette action n'existe pas.")
    form = await read_form(request)
    page = f"/agents/tickets/{quote(reference)}"
    try:
        result = await action(agent_actions(request), actor, reference, form,
                              partial(find_tutorial, request.app))
    except RecordNotFound:
        return await not_found(request)
    except ActionRefused as refused:
        await flash(request, refused.message, "error")
        raise web.HTTPSeeOther(page) from None
    except IllegalTransition:
        await flash(request, "Ce changement de statut n'est pas possible pour cette demande.", "error")
        raise web.HTTPSeeOther(page) from None
    await flash(request, result.message)
    still_mine = actor.reads_territory or request.match_info["action"] != "reroute"
    raise web.HTTPSeeOther(page if still_mine else "/agents")


async def attachment(request: web.Request) -> web.Response:
    actor = request[actor_key]
    async with request.app[sessions_key]() as db:
        try:
            item = await scoped_attachment(db, actor, _int(request.match_info["id"]))
        except RecordNotFound:
            return await not_found(request, "Cette pièce jointe est introuvable.")
    content_type = item.content_type if item.content_type in SAFE_TYPES else "application/octet-stream"
    ascii_name = item.filename.encode("ascii", "replace").decode().replace('"', "").replace("?", "_")
    return web.Response(body=item.content, headers={
        "Content-Type": content_type,
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(item.filename)}",
        "Cache-Control": "private, no-store",
    })

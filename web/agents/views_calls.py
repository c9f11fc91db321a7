"""« Nouvelle demande »: an agent records a teacher's call (or visit) as a ticket.

GET shows the school search, then, once a school is chosen, the call's form; POST `action=suggest`
asks the desk's triage and routing for the category and organisation (with the rule's reason),
POST `action=create` opens the ticket with what the agent confirmed or corrected. Every refusal is
the form again with a French line per field (422), never an error page.
"""

from __future__ import annotations

import contextlib
from typing import Any

from aiohttp import web

from handlers.logged_calls import CALL_INTENTS, MODES, CallRefused, CallRequest, LoggedCalls, NewRequester, Suggestion
from web import labels
from web.agent_services import logged_calls
from web.agents.templating import flash, render
from web.auth import actor_key
from web.inputs import bounded_int, read_form

FIELDS = ("q", "school", "mode", "requester", "name", "role", "phone", "email", "text", "asset_tag", "intent",
          "organisation", "reason")
#: What one field of the form may hold (longer input is cut, then refused by the use case if needed).
MAX_FIELD = 20_000


def _values(source: Any) -> dict[str, str]:
    return {name: str(source.get(name, "") or "").strip()[:MAX_FIELD] for name in FIELDS}


def call_request(values: dict[str, str]) -> CallRequest:
    """The use case's request from the form's fields."""
    who = values["requester"]
    new = NewRequester(values["name"], values["role"], values["phone"], values["email"]) if who == "new" else None
    return CallRequest(
        school=values["school"], text=values["text"],
        requester_id=bounded_int(who, minimum=1) if who not in ("", "new") else None,
        new_requester=new, asset_tag=values["asset_tag"], mode=values["mode"] or "call",
        intent=values["intent"], organisation=values["organisation"], reason=values["reason"],
    )


async def call_form(request: web.Request) -> web.Response:
    actor = request[actor_key]
    calls = logged_calls(request)
    posted = request.method == "POST"
    values = _values(await read_form(request) if posted else request.query)
    values["mode"] = values["mode"] or "call"
    errors: dict[str, str] = {}
    suggestion: Suggestion | None = None
    school = await calls.school(actor, values["school"]) if values["school"] else None
    if values["school"] and school is None:
        errors["school"] = "Cette école est introuvable ou hors de votre périmètre."
    if posted and school is not None:
        action = str((await read_form(request)).get("action", "suggest"))
        try:
            if action == "create" and values["intent"]:
                done = await calls.create(actor, call_request(values))
                await flash(request, done.message)
                raise web.HTTPSeeOther(f"/agents/tickets/{done.reference}" if done.in_scope else "/agents")
            suggestion = await calls.suggest(actor, call_request(values))
            values["intent"], values["organisation"], values["reason"] = suggestion.intent.value, "", ""
        except CallRefused as refused:
            errors = refused.errors
            if values["intent"]:
                # The analysis stays on the page so the agent corrects only what was refused.
                with contextlib.suppress(CallRefused):
                    suggestion = await calls.suggest(actor, call_request({**values, "intent": ""}))
    found = await calls.schools(actor, values["q"]) if school is None and values["q"] else []
    context = {
        "values": values, "errors": errors, "school": school, "found": found,
        "callers": await calls.callers(actor, school.id) if school is not None else [],
        "suggestion": suggestion, "modes": MODES, "roles": labels.REQUESTER_ROLE,
        "intents": [(i.value, labels.INTENT[i.value]) for i in CALL_INTENTS],
        "organisations": await calls.organisations(actor) if suggestion is not None else [],
    }
    return await render("agents/call.html", request, context, status=422 if errors else 200)


def setup_calls(router: web.UrlDispatcher) -> None:
    router.add_get("/agents/calls/new", call_form, name="agents_call")
    router.add_post("/agents/calls/new", call_form)


__all__ = ["LoggedCalls", "call_form", "call_request", "setup_calls"]

"""Class closures and openings of a school (convention 2023-2027, art. 1): the pages and their forms."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from desk.clock import utcnow
from desk.errors import RecordNotFound
from handlers import class_changes as cc
from web.agents.templating import flash, render
from web.agents.views_ticket import not_found
from web.app import sessions_key
from web.auth import actor_key
from web.inputs import read_form


def setup_classes(r: web.UrlDispatcher) -> None:
    r.add_get("/agents/schools/{uai}/classes", school_classes, name="agents_school_classes")
    r.add_get("/agents/schools/{uai}/classes/fermeture", closure, name="agents_class_closure")
    r.add_post("/agents/schools/{uai}/classes/fermeture", closure)
    r.add_get("/agents/schools/{uai}/classes/ouverture", opening, name="agents_class_opening")
    r.add_post("/agents/schools/{uai}/classes/ouverture", opening)


def _base(uai: str) -> str:
    return f"/agents/schools/{quote(uai)}/classes"


async def school_classes(request: web.Request) -> web.Response:
    """GET /agents/schools/{uai}/classes: the school's rooms, the operator's devices in each, the operations."""
    async with request.app[sessions_key]() as db:
        try:
            classes = await cc.school_classes(db, request[actor_key], request.match_info["uai"])
        except RecordNotFound:
            return await not_found(request, "Cette école est introuvable.")
    base = _base(classes.uai)
    return await render("agents/classes.html", request, {
        "c": classes, "base": base, "article": cc.ARTICLE,
        "closure_url": lambda room: f"{base}/fermeture?" + urlencode({"salle": room})})


async def closure(request: web.Request) -> web.Response:
    """GET/POST /agents/schools/{uai}/classes/fermeture?salle=R: the room's devices, to collect or re-allocate."""
    actor = request[actor_key]
    uai = request.match_info["uai"]
    form: Any = await read_form(request) if request.method == "POST" else {}
    room = str(form.get("salle", "") if request.method == "POST" else request.query.get("salle", ""))[:120]
    async with request.app[sessions_key]() as db:
        try:
            plan = await cc.closure_plan(db, actor, uai, room)
        except RecordNotFound:
            return await not_found(request, "Cette classe est introuvable dans l'inventaire de l'école.")
    errors: dict[str, str] = {}
    if request.method == "POST":
        choices = [cc.DeviceChoice(d.tag, str(form.get(f"action-{d.tag}", "")), str(form.get(f"school-{d.tag}", "")),
                                   str(form.get(f"room-{d.tag}", ""))) for d in plan.devices]
        try:
            async with request.app[sessions_key].begin() as db:
                done = await cc.record_closure(db, actor, uai, plan.room, choices, str(form.get("why", "")), utcnow())
        except cc.ClassChangeRefused as refused:
            errors = refused.errors
        except RecordNotFound:
            return await not_found(request, "Cette classe est introuvable dans l'inventaire de l'école.")
        else:
            await flash(request, done.message)
            raise web.HTTPSeeOther(f"/agents/tickets/{quote(done.reference)}" if done.in_scope else _base(plan.uai))
    return await render("agents/class_closure.html", request, {
        "p": plan, "base": _base(plan.uai), "article": cc.ARTICLE, "errors": errors, "form": form,
        "COLLECT": cc.COLLECT, "REALLOCATE": cc.REALLOCATE}, status=422 if errors else 200)


async def opening(request: web.Request) -> web.Response:
    """GET/POST /agents/schools/{uai}/classes/ouverture: the new class, its needs, the devices it receives."""
    actor = request[actor_key]
    uai = request.match_info["uai"]
    async with request.app[sessions_key]() as db:
        try:
            plan = await cc.opening_plan(db, actor, uai)
        except RecordNotFound:
            return await not_found(request, "Cette école est introuvable.")
    form: Any = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await read_form(request)
        tags = [str(t) for t in form.getall("tag", [])] + cc.parse_tags(str(form.get("tags", "")))
        try:
            async with request.app[sessions_key].begin() as db:
                done = await cc.record_opening(db, actor, uai, str(form.get("room", "")), str(form.get("needs", "")),
                                               tags, str(form.get("why", "")), utcnow())
        except cc.ClassChangeRefused as refused:
            errors = refused.errors
        except RecordNotFound:
            return await not_found(request, "Cette école est introuvable.")
        else:
            await flash(request, done.message)
            raise web.HTTPSeeOther(f"/agents/tickets/{quote(done.reference)}" if done.in_scope else _base(plan.uai))
    chosen = set(form.getall("tag", [])) if form else set()
    return await render("agents/class_opening.html", request, {
        "p": plan, "base": _base(plan.uai), "article": cc.ARTICLE, "errors": errors, "form": form,
        "chosen": chosen}, status=422 if errors else 200)

"""Administration pages: organisations, agents and schools of the admin's territory."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from domain.uai import is_valid_uai, normalise_uai
from handlers import agent_admin as admin
from handlers.agent_directory import search_schools, territory_communes
from handlers.agent_scope import Actor
from web import labels
from web.agents import admin_forms as forms
from web.agents.templating import flash, render
from web.agents.views_ticket import not_found
from web.app import sessions_key
from web.auth import actor_key
from web.inputs import bounded_int, read_form

PAGE = 50
MAX_PAGE = 100_000
#: Telegram's chat ids fit in 52 bits; the column is a 64-bit integer.
MAX_CHAT_ID = 2**52
MIN_PASSWORD = 10


def _admin(request: web.Request) -> Actor | None:
    actor = request[actor_key]
    return actor if actor.is_admin else None


def _id(request: web.Request) -> int | None:
    raw = request.match_info.get("id", "new")
    return None if raw == "new" else bounded_int(raw, minimum=1) or -1


async def _form_page(request: web.Request, title: str, fields: list[forms.Field], back: str, status: int = 200) -> web.Response:
    return await render("agents/admin/form.html", request, {
        "title": title, "fields": fields, "back": back, "action": request.path}, status=status)


# --- organisations -------------------------------------------------------------------------


async def organisations(request: web.Request) -> web.Response:
    if (actor := _admin(request)) is None:
        return await not_found(request, "Cette page est introuvable.")
    async with request.app[sessions_key]() as db:
        rows = await admin.organisations(db, actor)
    return await render("agents/admin/list.html", request, {
        "title": "Organisations", "new_url": "/agents/admin/organisations/new",
        "new_label": "Ajouter une organisation",
        "columns": ["Nom", "Type", "Identifiant", "Agents"],
        "rows": [(f"/agents/admin/organisations/{o.id}",
                  [o.name, labels.label(labels.ORG_KIND, o.kind), o.slug, str(n)]) for o, n in rows],
        "search": False, "q": "", "prev_url": None, "next_url": None})


async def organisation_form(request: web.Request) -> web.Response:
    if (actor := _admin(request)) is None:
        return await not_found(request, "Cette page est introuvable.")
    org_id = _id(request)
    async with request.app[sessions_key].begin() as db:
        org = None
        if org_id is not None:
            org = await admin.organisation(db, actor, org_id)
            if org is None:
                return await not_found(request, "Cette organisation est introuvable.")
        fields = forms.organisation_fields()
        title = f"Modifier « {org.name} »" if org else "Nouvelle organisation"
        if request.method == "GET":
            data = {"name": org.name, "kind": org.kind, "slug": org.slug, "email": org.email or "",
                    "telegram_chat_id": str(org.telegram_chat_id or "")} if org else {}
            return await _form_page(request, title, forms.bind(fields, data), "/agents/admin/organisations")
        values = forms.read(fields, await read_form(request))
        errors = forms.check_required(fields, values)
        if values["slug"] and not forms.SLUG.match(values["slug"]):
            errors["slug"] = "Utilisez des minuscules, des chiffres et des tirets (2 caractères au moins)."
        if await admin.slug_taken(db, actor, values["slug"], org.id if org else None):
            errors["slug"] = "Une autre organisation porte déjà cet identifiant."
        group = (values.get("telegram_chat_id") or "").strip()
        if group and bounded_int(group, minimum=-MAX_CHAT_ID, maximum=MAX_CHAT_ID) is None:
            errors["telegram_chat_id"] = "Indiquez l'identifiant numérique du groupe, par exemple -1001234567890."
        if errors:
            return await _form_page(request, title, forms.with_errors(fields, values, errors),
                                    "/agents/admin/organisations", 422)
        await admin.save_organisation(
            db, actor, org, name=values["name"], kind=values["kind"], slug=values["slug"],
            email=values["email"] or None, telegram_chat_id=int(group) if group else None)
    await flash(request, f"Organisation « {values['name']} » enregistrée.")
    raise web.HTTPSeeOther("/agents/admin/organisations")


# --- agents --------------------------------------------------------------------------------


async def agents(request: web.Request) -> web.Response:
    if (actor := _admin(request)) is None:
        return await not_found(request, "Cette page est introuvable.")
    async with request.app[sessions_key]() as db:
        rows = await admin.agents(db, actor)
    return await render("agents/admin/list.html", request, {
        "title": "Agents", "new_url": "/agents/admin/agents/new", "new_label": "Ajouter un agent",
        "columns": ["Nom", "Adresse électronique", "Organisation", "Rôle", "État"],
        "rows": [(f"/agents/admin/agents/{a.id}",
                  [a.name, a.email, org, labels.label(labels.ROLE, a.role),
                   "Actif" if a.active else "Désactivé"]) for a, org in rows],
        "search": False, "q": "", "prev_url": None, "next_url": None})


async def agent_form(request: web.Request) -> web.Response:
    if (actor := _admin(request)) is None:
        return await not_found(request, "Cette page est introuvable.")
    agent_id = _id(request)
    async with request.app[sessions_key].begin() as db:
        agent = None
        if agent_id is not None:
            agent = await admin.agent(db, actor, agent_id)
            if agent is None:
                return await not_found(request, "Cet agent est introuvable.")
        options = [(str(i), n) for i, n in await admin.organisation_choices(db, actor)]
        fields = forms.agent_fields(options, creating=agent is None, roles=admin.role_choices(actor))
        title = f"Modifier « {agent.name} »" if agent else "Nouvel agent"
        if request.method == "GET":
            data: dict[str, Any] = {"name": agent.name, "email": agent.email, "role": agent.role,
                                    "organisation": str(agent.organisation_id), "active": agent.active} if agent else {}
            return await _form_page(request, title, forms.bind(fields, data), "/agents/admin/agents")
        values = forms.read(fields, await read_form(request))
        values["email"] = values["email"].lower()
        errors = forms.check_required(fields, values)
        if values["password"] and len(values["password"]) < MIN_PASSWORD:
            errors["password"] = f"Le mot de passe doit compter {MIN_PASSWORD} caractères au moins."
        if await admin.email_taken(db, values["email"], agent.id if agent else None):
            errors["email"] = "Un autre agent utilise déjà cette adresse."
        if agent is not None and agent.id == actor.id and (values["role"] not in ("admin", "national_admin") or not values["active"]):
            errors["role"] = "Vous ne pouvez pas retirer vos propres droits d'administration."
        if errors:
            values["password"] = ""
            return await _form_page(request, title, forms.with_errors(fields, values, errors),
                                    "/agents/admin/agents", 422)
        await admin.save_agent(
            db, actor, agent, name=values["name"], email=values["email"], role=values["role"],
            active=values["active"], organisation_id=int(values["organisation"]),
            password=values["password"] or None)
    await flash(request, f"Agent « {values['name']} » enregistré.")
    raise web.HTTPSeeOther("/agents/admin/agents")


# --- schools -------------------------------------------------------------------------------


async def schools(request: web.Request) -> web.Response:
    if (actor := _admin(request)) is None:
        return await not_found(request, "Cette page est introuvable.")
    q = request.query.get("q", "").strip()[:100]
    page = bounded_int(request.query.get("page"), minimum=1, maximum=MAX_PAGE) or 1
    async with request.app[sessions_key]() as db:
        found = await search_schools(db, actor.territory_id, q, page=page, per_page=PAGE, order="commune")

    def link(n: int) -> str:
        return f"/agents/admin/schools?page={n}" + (f"&q={q}" if q else "")

    return await render("agents/admin/list.html", request, {
        "title": "Écoles", "new_url": "/agents/admin/schools/new", "new_label": "Ajouter une école",
        "columns": ["UAI", "Nom", "Commune", "Statut"],
        "rows": [(f"/agents/admin/schools/{s.id}",
                  [s.uai, s.name, s.commune.name, labels.label(labels.SCHOOL_STATUS, s.status)])
                 for s in found.schools],
        "search": True, "q": q, "prev_url": link(page - 1) if page > 1 else None,
        "next_url": link(page + 1) if found.has_next else None})


async def school_form(request: web.Request) -> web.Response:
    if (actor := _admin(request)) is None:
        return await not_found(request, "Cette page est introuvable.")
    school_id = _id(request)
    async with request.app[sessions_key].begin() as db:
        school = None
        if school_id is not None:
            school = await admin.school(db, actor, school_id)
            if school is None:
                return await not_found(request, "Cette école est introuvable.")
        communes = [(str(i), n) for i, n in await territory_communes(db, actor.territory_id)]
        fields = forms.school_fields(communes)
        title = f"Modifier « {school.name} »" if school else "Nouvelle école"
        if request.method == "GET":
            data = {f.name: getattr(school, f.name if f.name != "commune" else "commune_id") for f in fields} if school else {}
            data = {k: "" if v is None else str(v) for k, v in data.items()}
            return await _form_page(request, title, forms.bind(fields, data), "/agents/admin/schools")
        values = forms.read(fields, await read_form(request))
        values["uai"] = normalise_uai(values["uai"])
        errors = forms.check_required(fields, values)
        if values["uai"] and not is_valid_uai(values["uai"]):
            errors["uai"] = "Code UAI invalide : 7 chiffres et la bonne lettre de contrôle."
        if await admin.uai_taken(db, values["uai"], school.id if school else None):
            errors["uai"] = "Une autre école porte déjà ce code UAI."
        if errors:
            return await _form_page(request, title, forms.with_errors(fields, values, errors),
                                    "/agents/admin/schools", 422)
        await admin.save_school(
            db, actor, school, uai=values["uai"], name=values["name"], kind=values["kind"],
            status=values["status"], commune_id=int(values["commune"]), address=values["address"] or None,
            postal_code=values["postal_code"] or None, email=values["email"] or None,
            phone=values["phone"] or None)
    await flash(request, f"École « {values['name']} » enregistrée.")
    raise web.HTTPSeeOther("/agents/admin/schools")

"""The inventory's pages: the devices of the agent's scope, one device's identity and logbook, its forms."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from aiohttp import web

from desk.clock import utcnow
from desk.errors import RecordNotFound
from domain.french import euros
from domain.vocabulary import AssetStatus, Equipment
from handlers import assets
from handlers.spreadsheet import french_csv
from web import labels
from web.agents import admin_forms as forms
from web.agents.templating import flash, render
from web.agents.views_ticket import not_found
from web.app import sessions_key
from web.auth import actor_key
from web.inputs import bounded_int, read_form

PAGE = 50
MAX_PAGE = 10_000
MAX_CSV_ROWS = 100_000
#: Status changes an agent may record from the page (« in repair » is read from the tickets).
SETTABLE = (AssetStatus.IN_SERVICE, AssetStatus.ON_LOAN, AssetStatus.STOLEN, AssetStatus.RETIRED)


def _query(request: web.Request) -> assets.AssetQuery:
    q = request.query
    kind = q.get("type", "")
    status = q.get("statut", "")
    owner = q.get("proprietaire", "")
    return assets.AssetQuery(
        q=q.get("q", "")[:100], school=q.get("ecole", "")[:100], room=q.get("salle", "")[:120],
        type=kind if kind in labels.EQUIPMENT else "", status=status if status in labels.ASSET_STATUS else "",
        owner=owner if owner in labels.ASSET_OWNER else "")


def _filters(query: assets.AssetQuery) -> dict[str, str]:
    raw = {"q": query.q, "ecole": query.school, "salle": query.room, "type": query.type, "statut": query.status,
           "proprietaire": query.owner}
    return {k: v for k, v in raw.items() if v}


async def asset_list(request: web.Request) -> web.StreamResponse:
    """GET /agents/assets: search and filters; `?format=csv` downloads every matching device."""
    actor = request[actor_key]
    query = _query(request)
    page = bounded_int(request.query.get("page"), minimum=1, maximum=MAX_PAGE) or 1
    as_csv = request.query.get("format") == "csv"
    async with request.app[sessions_key]() as db:
        found = await assets.search_assets(db, actor, query, limit=MAX_CSV_ROWS if as_csv else PAGE,
                                           offset=0 if as_csv else (page - 1) * PAGE, count=not as_csv)
    if as_csv:
        body = french_csv(
            ["Étiquette", "Type", "Modèle", "Numéro de série", "Propriétaire", "UAI", "École", "Commune", "Salle",
             "Date d'acquisition", "Valeur (€)", "Statut"],
            [(r.tag, labels.label(labels.EQUIPMENT, r.type), r.model or "", r.serial or "",
              labels.label(labels.ASSET_OWNER, r.owner), r.school_uai or "", r.school_name or "", r.commune or "",
              r.room or "", r.acquired_on.strftime("%d/%m/%Y") if r.acquired_on else "",
              f"{r.value_cents / 100:.2f}".replace(".", ",") if r.value_cents is not None else "",
              labels.label(labels.ASSET_STATUS, r.status)) for r in found.rows])
        return web.Response(body=body.encode("utf-8"), headers={
            "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
            "Content-Disposition": 'attachment; filename="inventaire.csv"'})
    params = _filters(query)

    def link(n: int) -> str:
        return "/agents/assets?" + urlencode({**params, "page": n})

    return await render("agents/assets.html", request, {
        "rows": found.rows, "total": found.total, "filters": query,
        "types": [e.value for e in Equipment], "csv_url": "/agents/assets?" + urlencode({**params, "format": "csv"}),
        "prev_url": link(page - 1) if page > 1 else None, "next_url": link(page + 1) if found.has_next else None})


def _asset_fields(*, creating: bool) -> list[forms.Field]:
    fields = [forms.Field("tag", "Étiquette", hint="Trois lettres, un tiret et six chiffres, par exemple SEM-000123.")] if creating else []
    fields += [
        forms.Field("type", "Type de matériel", "select", options=tuple(labels.EQUIPMENT.items())),
        forms.Field("owner", "Propriétaire", "select", options=tuple(labels.ASSET_OWNER.items())),
        forms.Field("model", "Modèle", required=False),
        forms.Field("serial", "Numéro de série", required=False),
        forms.Field("acquired_on", "Date d'acquisition", required=False, hint="JJ/MM/AAAA."),
        forms.Field("value", "Valeur (€)", required=False, hint="Par exemple 450,00."),
    ]
    if creating:
        fields += [forms.Field("school", "École (code UAI)", hint="Par exemple 0421001K."),
                   forms.Field("room", "Salle", required=False)]
    fields.append(forms.Field("why", "Raison", required=False))
    return fields


def _changes(values: dict[str, str]) -> assets.AssetChanges:
    return assets.AssetChanges(type=values["type"], owner=values["owner"], model=values["model"],
                               serial=values["serial"], acquired_on=values["acquired_on"], value=values["value"])


async def asset_new(request: web.Request) -> web.Response:
    """GET/POST /agents/assets/new: a device enters the inventory."""
    actor = request[actor_key]
    fields = _asset_fields(creating=True)
    if request.method == "GET":
        return await render("agents/admin/form.html", request, {
            "title": "Nouveau matériel", "fields": forms.bind(fields, {"owner": "sem"}), "back": "/agents/assets",
            "action": request.path})
    values = forms.read(fields, await read_form(request))
    errors = forms.check_required(fields, values)
    if not errors:
        try:
            async with request.app[sessions_key].begin() as db:
                await assets.create_asset(db, actor, values["tag"], _changes(values), school_uai=values["school"],
                                          room=values["room"], why=values["why"], now=utcnow())
        except assets.AssetRefused as refused:
            errors[refused.field or "tag"] = refused.message
    if errors:
        return await render("agents/admin/form.html", request, {
            "title": "Nouveau matériel", "fields": forms.with_errors(fields, values, errors), "back": "/agents/assets",
            "action": request.path}, status=422)
    await flash(request, f"Matériel {values['tag'].upper()} inscrit à l'inventaire.")
    raise web.HTTPSeeOther(f"/agents/assets/{quote(values['tag'].strip().upper())}")


def _change_lines(data: dict | None) -> list[str]:
    """« Salle : CM2 → CE1 » for each detail an event changed."""
    if not data or "before" not in data or "after" not in data:
        return []
    lines = []
    for key, after in data["after"].items():
        if key == "school":
            continue
        before = data["before"].get(key)
        lines.append(f"{labels.ASSET_FIELD.get(key, key)} : {_shown(key, before)} → {_shown(key, after)}")
    return lines


def _shown(key: str, value: object) -> str:
    if value is None or value == "":
        return "—"
    if key == "value_cents" and isinstance(value, int):
        return euros(value)
    if key == "status":
        return labels.label(labels.ASSET_STATUS, str(value))
    if key == "owner":
        return labels.label(labels.ASSET_OWNER, str(value))
    if key == "type":
        return labels.label(labels.EQUIPMENT, str(value))
    if key == "acquired_on":
        year, month, day = str(value).split("-")
        return f"{day}/{month}/{year}"
    return str(value)


async def asset_page(request: web.Request) -> web.Response:
    """GET /agents/assets/{tag}: identity, age and refund rate today, the logbook; 404 outside the scope."""
    actor = request[actor_key]
    async with request.app[sessions_key]() as db:
        try:
            file = await assets.asset_file(db, actor, request.match_info["tag"], utcnow())
        except RecordNotFound:
            return await not_found(request, "Ce matériel est introuvable.")
    row = file.row
    edit = forms.bind(_asset_fields(creating=False), {
        "type": row.type, "owner": row.owner, "model": row.model or "", "serial": row.serial or "",
        "acquired_on": row.acquired_on.strftime("%d/%m/%Y") if row.acquired_on else "",
        "value": f"{row.value_cents / 100:.2f}".replace(".", ",") if row.value_cents is not None else ""})
    labels_url = label_pdf_url = room_labels_pdf_url = closure_url = opening_url = None
    if row.school_uai:
        sheet = f"/agents/schools/{quote(row.school_uai)}/labels"
        labels_url = sheet + (f"?{urlencode({'room': row.room})}" if row.room else "")
        label_pdf_url = sheet + "?" + urlencode({"tag": row.tag, "format": "pdf"})
        if row.room:
            room_labels_pdf_url = sheet + "?" + urlencode({"room": row.room, "format": "pdf"})
            closure_url = f"/agents/schools/{quote(row.school_uai)}/classes/fermeture?" + urlencode({"salle": row.room})
        opening_url = f"/agents/schools/{quote(row.school_uai)}/classes/ouverture"
    return await render("agents/asset.html", request, {
        "file": file, "a": row, "edit_fields": edit, "labels_url": labels_url, "label_pdf_url": label_pdf_url,
        "room_labels_pdf_url": room_labels_pdf_url, "closure_url": closure_url, "opening_url": opening_url,
        "changes": _change_lines,
        "settable": [s.value for s in SETTABLE if s.value != row.status],
        "base": f"/agents/assets/{quote(row.tag)}", "tz": actor.timezone})


async def asset_action(request: web.Request) -> web.Response:
    """POST /agents/assets/{tag}/{action}: edit, move, status, note."""
    actor = request[actor_key]
    tag = request.match_info["tag"]
    action = request.match_info["action"]
    page = f"/agents/assets/{quote(tag.strip().upper())}"
    form = await read_form(request)

    def text(name: str) -> str:
        return str(form.get(name, "")).strip()

    messages = {"edit": "Fiche du matériel enregistrée.", "move": "Déplacement enregistré.",
                "status": "Statut enregistré.", "note": "Note ajoutée au carnet de bord."}
    if action not in messages:
        return await not_found(request, "Cette action n'existe pas.")
    try:
        async with request.app[sessions_key].begin() as db:
            now = utcnow()
            if action == "edit":
                values = {f.name: text(f.name) for f in _asset_fields(creating=False)}
                await assets.edit_asset(db, actor, tag, _changes(values), why=values["why"], now=now)
            elif action == "move":
                await assets.move_asset(db, actor, tag, school_uai=text("school"), room=text("room"),
                                        why=text("why"), now=now)
            elif action == "status":
                status = text("status")
                if status not in {s.value for s in SETTABLE}:
                    raise assets.AssetRefused("Choisissez un statut de la liste.", "status")
                await assets.set_status(db, actor, tag, AssetStatus(status), why=text("why"), now=now,
                                        ticket_reference=text("ticket") or None)
            else:
                await assets.add_note(db, actor, tag, text("body"), now=now)
    except RecordNotFound:
        return await not_found(request, "Ce matériel est introuvable.")
    except assets.AssetRefused as refused:
        await flash(request, refused.message, "error")
        raise web.HTTPSeeOther(page) from None
    await flash(request, messages[action])
    raise web.HTTPSeeOther(page)


async def admin_assets(request: web.Request) -> web.Response:
    """GET /agents/admin/assets: the inventory lives at /agents/assets."""
    raise web.HTTPSeeOther("/agents/assets")

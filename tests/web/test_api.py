"""The REST API: token authentication, listing, detail, actions, JSON errors, OpenAPI."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from desk.models import Agent, ApiToken, OutboxMessage
from desk.security import hash_token
from tests.web.test_scoping import _token


@pytest.fixture
async def api(aiohttp_client, app, db, world):
    client = await aiohttp_client(app)
    token = await _token(db, world.agents["a"])
    client.headers = {"Authorization": f"Bearer {token}"}
    return client


async def test_no_or_bad_token_is_401_in_french(aiohttp_client, app, db, world) -> None:
    """Without a valid, unrevoked token of an active agent the API answers 401 JSON."""
    client = await aiohttp_client(app)
    for headers in ({}, {"Authorization": "Bearer faux"}, {"Authorization": "Basic abc"}):
        response = await client.get("/api/v1/tickets", headers=headers)
        assert response.status == 401
        assert (await response.json())["error"]["message"] == "Jeton d'accès manquant ou invalide."
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    token = await _token(db, world.agents["a"])
    async with db.sessions.begin() as s:
        (await s.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))).revoked = True
    assert (await client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"})).status == 401
    token = await _token(db, world.agents["a2"])
    async with db.sessions.begin() as s:
        (await s.get(Agent, world.agents["a2"])).active = False
    assert (await client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"})).status == 401


async def test_list_filters_and_pagination(api, world) -> None:
    """The list is the queue: urgency order, filters, per_page and next_page."""
    body = await (await api.get("/api/v1/tickets", headers=api.headers)).json()
    assert [t["reference"] for t in body["items"]] == [world.refs["a"], world.refs["a2"], world.refs["a3"]]
    assert body["items"][0]["urgency"] == "breached" and body["items"][0]["urgency_label"] == "En retard"
    assert body["counts"] == {"new": 3}
    page = await (await api.get("/api/v1/tickets?per_page=2", headers=api.headers)).json()
    assert len(page["items"]) == 2 and page["next_page"] == 2
    assert (await (await api.get("/api/v1/tickets?q=toner", headers=api.headers)).json())["items"][0]["reference"] == world.refs["a3"]
    bad = await api.get("/api/v1/tickets?per_page=1000", headers=api.headers)
    assert bad.status == 422


async def test_detail_has_timeline_and_asset(api, world) -> None:
    """A ticket's JSON carries its events, attachments and asset."""
    body = await (await api.get(f"/api/v1/tickets/{world.refs['a']}", headers=api.headers)).json()
    assert body["asset"]["tag"] == "SEM-000001"
    assert [e["kind"] for e in body["events"]][:2] == ["created", "message"]
    assert body["attachments"][0]["filename"] == "photo écran a.png"


async def test_actions_and_outbox(api, db, world) -> None:
    """claim, reply, note, ask, reroute and resolve work through the API with the same rules."""
    ref = world.refs["a"]

    async def act(name: str, payload: object) -> tuple[int, dict]:
        r = await api.post(f"/api/v1/tickets/{ref}/actions/{name}", json=payload, headers=api.headers)
        return r.status, await r.json()

    assert (await act("claim", {}))[1]["status"] == "assigned"
    status, body = await act("reply", {"body": "Nous arrivons"})
    assert status == 200 and body["outbox_id"] is not None
    assert (await act("note", {"body": "interne"}))[0] == 200
    assert (await act("ask", {"body": "Quel modèle ?"}))[1]["status"] == "waiting"
    assert (await act("resolve", {}))[1]["status"] == "resolved"
    status, body = await act("resolve", {})
    assert status == 422 and "plus ouverte" in body["error"]["message"]
    async with db.sessions() as s:
        channels = [o.channel for o in await s.scalars(select(OutboxMessage))]
    assert channels == ["telegram", "telegram", "telegram"]
    status, body = await act("reroute", {"organisation": "sem"})
    assert status == 422 and body["error"]["details"][0]["field"] == "reason"


async def test_reroute_through_the_api(api, world) -> None:
    """A re-route answers 200, then the ticket is out of scope (404)."""
    r = await api.post(f"/api/v1/tickets/{world.refs['a2']}/actions/reroute",
                       json={"organisation": "rectorat", "reason": "Messagerie académique"}, headers=api.headers)
    assert r.status == 200 and (await r.json())["status"] == "new"
    assert (await api.get(f"/api/v1/tickets/{world.refs['a2']}", headers=api.headers)).status == 404


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"texte"', "\udcff".encode("utf-8", "surrogatepass"),
                                 b'{"body": 3}', b'{"body": ""}', b'{"body": "ok", "extra": 1}'])
async def test_invalid_bodies_are_422_never_500(api, world, raw) -> None:
    """Malformed JSON, wrong shapes and wrong types answer 422 with a French message."""
    r = await api.post(f"/api/v1/tickets/{world.refs['a']}/actions/reply", data=raw,
                       headers={**api.headers, "Content-Type": "application/json"})
    assert r.status == 422
    assert (await r.json())["error"]["code"] == "invalid_body"


async def test_unknown_action_and_route_are_json_404(api, world) -> None:
    """Unknown actions and paths under /api answer JSON 404."""
    r = await api.post(f"/api/v1/tickets/{world.refs['a']}/actions/explode", json={}, headers=api.headers)
    assert r.status == 404 and (await r.json())["error"]["message"] == "Action inconnue."
    r = await api.get("/api/v1/nope", headers=api.headers)
    assert r.status == 404 and r.content_type == "application/json"


async def test_schools_and_assets(api, world) -> None:
    """Schools of the territory; an asset by tag (422 without tag, 404 when unknown)."""
    schools = await (await api.get("/api/v1/schools?q=hugo", headers=api.headers)).json()
    assert [s["uai"] for s in schools["items"]] == [world.schools["b"]]
    asset = await (await api.get("/api/v1/assets?tag=sem-000001", headers=api.headers)).json()
    assert asset["type"] == "projector" and asset["tickets"][0]["reference"] == world.refs["a"]
    assert (await api.get("/api/v1/assets?tag=NOPE", headers=api.headers)).status == 404


async def test_the_inventory_lists_in_scope_with_filters_and_keyset_pages(api, db, world) -> None:
    """Without `tag`: the devices the token's agent sees (its commune's schools), filtered, by tag,
    page after page; another commune's device is not listed; bad filters are French 422s."""
    from desk.models import Asset, School, Territory

    async with db.sessions.begin() as s:
        territory = await s.scalar(select(Territory))
        a = await s.scalar(select(School).where(School.uai == world.schools["a"]))
        b = await s.scalar(select(School).where(School.uai == world.schools["b"]))
        s.add_all([Asset(territory_id=territory.id, tag="SEM-000002", type="tablet", school_id=a.id, owner="sem"),
                   Asset(territory_id=territory.id, tag="SEM-000003", type="tablet", school_id=a.id, owner="sem",
                         serial="TAB-42"),
                   Asset(territory_id=territory.id, tag="SEM-000009", type="tablet", school_id=b.id, owner="sem")])
    everything = await (await api.get("/api/v1/assets", headers=api.headers)).json()
    assert [i["tag"] for i in everything["items"]] == ["SEM-000001", "SEM-000002", "SEM-000003"]
    assert everything["next_after"] is None and everything["items"][0]["status"] == "in_repair"  # ticket a is open
    first = await (await api.get("/api/v1/assets?type=tablet&per_page=1", headers=api.headers)).json()
    assert [i["tag"] for i in first["items"]] == ["SEM-000002"] and first["next_after"] == "SEM-000002"
    second = await (await api.get(f"/api/v1/assets?type=tablet&per_page=1&after={first['next_after']}",
                                  headers=api.headers)).json()
    assert [i["tag"] for i in second["items"]] == ["SEM-000003"] and second["next_after"] is None
    found = await (await api.get("/api/v1/assets?q=tab-4", headers=api.headers)).json()
    assert [i["tag"] for i in found["items"]] == ["SEM-000003"] and found["items"][0]["type_label"] == "Tablette"
    by_school = await (await api.get(f"/api/v1/assets?school={world.schools['b']}", headers=api.headers)).json()
    assert by_school["items"] == []  # commune B's school: not in this agent's scope
    for bad in ("type=fusee", "status=perdu", "owner=moi", "per_page=0", "per_page=500"):
        response = await api.get(f"/api/v1/assets?{bad}", headers=api.headers)
        assert response.status == 422 and (await response.json())["error"]["message"], bad


async def test_openapi_document_lists_every_path(aiohttp_client, app) -> None:
    """/api/openapi.json is public, valid JSON, OpenAPI 3.1, and lists each route of /api/v1."""
    client = await aiohttp_client(app)
    response = await client.get("/api/openapi.json")
    document = json.loads(await response.text())
    assert document["openapi"] == "3.1.0"
    routes = {r.resource.canonical for r in app.router.routes() if r.resource and r.resource.canonical.startswith("/api/v1")}
    for route in routes:
        if "{action}" in route:
            for action in ("claim", "reply", "note", "ask", "reroute", "resolve"):
                assert route.replace("{action}", action) in document["paths"]
        else:
            assert route in document["paths"], route

    def refs(node: object) -> set[str]:
        if isinstance(node, dict):
            return {node["$ref"]} if "$ref" in node else set().union(*(refs(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(refs(v) for v in node)) if node else set()
        return set()

    for ref in refs(document):
        assert ref.split("/")[-1] in document["components"]["schemas"], ref

"""The scoping matrix: an agent of commune A gets 404 on commune B's ticket, by page and by API."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from desk.models import ApiToken, OutboxMessage, Ticket, TicketEvent
from desk.security import new_token

PAGE_ACTIONS = {
    "claim": {}, "assign": {"agent": "1"}, "reply": {"body": "x"}, "note": {"body": "x"}, "ask": {"body": "x"},
    "reroute": {"organisation": "sem", "reason": "x"}, "resolve": {"body": "x"}, "merge": {"into": "2026-00001"},
    "link-asset": {"tag": "SEM-000001"},
}
API_ACTIONS = {
    "claim": {}, "reply": {"body": "x"}, "note": {"body": "x"}, "ask": {"body": "x"},
    "reroute": {"organisation": "sem", "reason": "x"}, "resolve": {"body": "x"},
}


async def _token(db, agent_id: int) -> str:
    token, digest = new_token()
    async with db.sessions.begin() as s:
        s.add(ApiToken(agent_id=agent_id, token_hash=digest))
    return token


async def _fingerprint(db) -> tuple:
    """Everything an action could change on ticket B: its row, its events, the outbox."""
    async with db.sessions() as s:
        ticket = await s.scalar(select(Ticket).where(Ticket.reference == "2026-00004"))
        events = await s.scalar(select(func.count()).select_from(TicketEvent))
        outbox = await s.scalar(select(func.count()).select_from(OutboxMessage))
    return (ticket.status, ticket.organisation_id, ticket.assignee_id, ticket.asset_id, ticket.merged_into_id, events, outbox)


async def test_page_matrix_commune_a_cannot_touch_commune_b(signed_in, db, world) -> None:
    """Page, attachment and every page action on B's ticket answer 404 to A, and change nothing."""
    assert world.refs["b"] == "2026-00004"
    client = await signed_in("agent.a@guichet.test")
    before = await _fingerprint(db)
    page = await client.get(f"/agents/tickets/{world.refs['b']}")
    assert page.status == 404 and "introuvable" in await page.text()
    assert (await client.get(f"/agents/attachments/{world.attachments['b']}")).status == 404
    for action, form in PAGE_ACTIONS.items():
        response = await client.post(f"/agents/tickets/{world.refs['b']}/{action}", form, allow_redirects=False)
        assert response.status == 404, action
    assert await _fingerprint(db) == before
    missing = await client.get("/agents/tickets/2026-99999")
    assert missing.status == 404 and await missing.text() == await page.text()


async def test_api_matrix_commune_a_cannot_touch_commune_b(aiohttp_client, app, db, world) -> None:
    """GET and every API action on B's ticket answer 404 to A's token, like a missing ticket."""
    client = await aiohttp_client(app)
    headers = {"Authorization": f"Bearer {await _token(db, world.agents['a'])}"}
    before = await _fingerprint(db)
    response = await client.get(f"/api/v1/tickets/{world.refs['b']}", headers=headers)
    assert response.status == 404
    body = await response.json()
    assert body == {"error": {"code": "not_found", "message": "Demande introuvable."}}
    for action, payload in API_ACTIONS.items():
        r = await client.post(f"/api/v1/tickets/{world.refs['b']}/actions/{action}", json=payload, headers=headers)
        assert r.status == 404, action
        assert await r.json() == body
    listed = await (await client.get("/api/v1/tickets?statut=all", headers=headers)).json()
    assert world.refs["b"] not in {t["reference"] for t in listed["items"]}
    asset = await (await client.get("/api/v1/assets?tag=SEM-000001", headers=headers)).json()
    assert {t["reference"] for t in asset["tickets"]} == {world.refs["a"]}
    assert await _fingerprint(db) == before


@pytest.mark.parametrize("who", ["b", "sem", "sup_a", "admin"])
async def test_each_role_sees_its_scope(signed_in, world, who) -> None:
    """B and SEM see only their own; A's supervisor sees A's; the admin sees everything."""
    client = await signed_in({"b": "agent.b@guichet.test", "sem": "agent.sem@guichet.test",
                              "sup_a": "chef.a@guichet.test", "admin": "admin@guichet.test"}[who])
    visible = {key for key, ref in world.refs.items()
               if (await client.get(f"/agents/tickets/{ref}")).status == 200}
    expected = {"b": {"b"}, "sem": {"sem"}, "sup_a": {"a", "a2", "a3"}, "admin": set(world.refs)}[who]
    assert visible == expected


async def test_reports_and_admin_pages_by_role(signed_in, world) -> None:
    """Reports are for supervisors and admins; administration pages only for admins (404 otherwise)."""
    agent = await signed_in("agent.a@guichet.test")
    supervisor = await signed_in("chef.a@guichet.test")
    admin = await signed_in("admin@guichet.test")
    assert (await agent.get("/agents/reports")).status == 404
    assert (await supervisor.get("/agents/reports")).status == 200
    assert (await admin.get("/agents/reports")).status == 200
    for path in ("/agents/admin/organisations", "/agents/admin/agents", "/agents/admin/schools",
                 "/agents/admin/agents/new"):
        assert (await agent.get(path)).status == 404, path
        assert (await supervisor.get(path)).status == 404, path
        assert (await admin.get(path)).status == 200, path
    assert (await agent.post("/agents/admin/agents/new", {"name": "x"})).status == 404


async def test_the_coordinator_reads_every_organisation_and_acts_only_on_the_operators(signed_in, db, world) -> None:
    """DOMAIN.md §9 `coordinator`: the plan's chargée de mission reads the territory's tickets and
    reports; she claims an operator's ticket, not a commune's (its file is read-only to her)."""
    from desk.models import Agent, Organisation
    from sqlalchemy import select

    from tests.web.world import password_hash

    async with db.sessions.begin() as s:
        sem = await s.scalar(select(Organisation).where(Organisation.slug == "sem"))
        s.add(Agent(organisation_id=sem.id, email="mission@guichet.test", name="Chargée de mission",
                    password_hash=password_hash(), role="coordinator"))
    client = await signed_in("mission@guichet.test")
    queue = await (await client.get("/agents")).text()
    assert "Toutes les demandes du territoire" in queue
    assert all(world.refs[k] in queue for k in ("a", "b", "sem"))
    page = await client.get(f"/agents/tickets/{world.refs['b']}")
    assert page.status == 200
    refused = await client.post(f"/agents/tickets/{world.refs['b']}/claim")
    assert refused.status == 404 and "introuvable" in await refused.text()
    claimed = await client.post(f"/agents/tickets/{world.refs['sem']}/claim")
    assert claimed.status == 200 and "Chargée de mission" in await claimed.text()
    assert (await client.get("/agents/reports")).status == 200
    assert (await client.get("/agents/reports/committee")).status == 200

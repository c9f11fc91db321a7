"""Hostile text from teachers, schools and agents is shown as text, never run."""

from __future__ import annotations

from sqlalchemy import select

from desk import repositories as repo
from desk.models import Organisation, Requester, School, Territory
from tests.web.world import seed

PAYLOAD = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


async def test_payloads_are_rendered_inert(aiohttp_client, db) -> None:
    """Script tags in a school name, a ticket's subject and text, and a note come out escaped."""
    from tests.web.conftest import AgentClient
    from tests.web.world import agents_app, make_settings

    world = await seed(db.sessions, school_name_a=f"École {PAYLOAD}")
    async with db.sessions.begin() as s:
        territory = await s.scalar(select(Territory))
        org = await s.scalar(select(Organisation).where(Organisation.slug == "commune-firminy"))
        school = await s.scalar(select(School).where(School.uai == world.schools["a"]))
        requester = await s.scalar(select(Requester).where(Requester.name == "Mme Martin"))
        requester.name = PAYLOAD
        ticket = await repo.create_ticket(
            s, territory=territory, organisation=org, intent="hardware_failure", role="school_authority",
            subject=f"Panne {PAYLOAD}", description=f"Bonjour {PAYLOAD} {IMG}", school=school,
            requester=requester, channel="telegram", reason=IMG)
        reference = ticket.reference
    client = AgentClient(await aiohttp_client(agents_app(make_settings(), db.engine, db.sessions)))
    await client.login("agent.a@guichet.test")
    await client.post(f"/agents/tickets/{reference}/note", {"body": f"note {PAYLOAD}"})
    for path in ("/agents", f"/agents/tickets/{reference}", "/agents?q=%3Cscript%3E", "/agents?fragment=1"):
        html = await (await client.get(path)).text()
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
    page = await (await client.get(f"/agents/tickets/{reference}")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "note &lt;script&gt;" in page
    search = await (await client.get("/agents?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E")).text()
    assert 'value="&#34;&gt;&lt;script&gt;' in search


async def test_api_returns_json_not_html(aiohttp_client, app, db, world) -> None:
    """The API answers JSON with the right type, so a payload cannot be interpreted as a page."""
    from tests.web.test_scoping import _token

    client = await aiohttp_client(app)
    headers = {"Authorization": f"Bearer {await _token(db, world.agents['a'])}"}
    await client.post(f"/api/v1/tickets/{world.refs['a']}/actions/note", json={"body": PAYLOAD}, headers=headers)
    response = await client.get(f"/api/v1/tickets/{world.refs['a']}", headers=headers)
    assert response.content_type == "application/json"
    assert (await response.json())["events"][-1]["body"] == PAYLOAD

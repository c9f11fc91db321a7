"""The queue page: scope, urgency order, badges, filters, search, pagination, live updates."""

from __future__ import annotations

import asyncio
import re
from html import unescape as html_unescape
from datetime import timedelta

from desk import repositories as repo
from desk.clock import utcnow
from desk.models import Organisation, School, Territory
from sqlalchemy import select


def _refs(html: str) -> list[str]:
    return re.findall(r'href="/agents/tickets/(\d{4}-\d{5})"', html)


async def test_queue_shows_only_the_organisation_most_urgent_first(signed_in, world) -> None:
    """Commune A sees its three tickets: breached, then soonest due, then later; never B's or SEM's."""
    client = await signed_in("agent.a@guichet.test")
    html = await (await client.get("/agents")).text()
    assert _refs(html) == [world.refs["a"], world.refs["a2"], world.refs["a3"]]
    for label in ("En retard", "Bientôt dû", "Dans les temps"):
        assert label in html
    assert world.refs["b"] not in html and world.refs["sem"] not in html


async def test_admin_sees_the_whole_territory(signed_in, world) -> None:
    """An administrator's queue lists every organisation's tickets."""
    client = await signed_in("admin@guichet.test")
    refs = _refs(await (await client.get("/agents")).text())
    assert set(refs) == set(world.refs.values())


async def test_counts_per_status(signed_in, world) -> None:
    """Counts per status follow the scope."""
    client = await signed_in("agent.a@guichet.test")
    html = await (await client.get("/agents")).text()
    assert re.search(r"Nouvelle</span> <strong>3</strong>", html)


async def test_filters_and_search(signed_in, world) -> None:
    """Status, assignment, commune, school, equipment filters and the text search narrow the list."""
    client = await signed_in("agent.a@guichet.test")
    await client.post(f"/agents/tickets/{world.refs['a2']}/claim")

    async def refs(query: str) -> list[str]:
        return _refs(await (await client.get("/agents?" + query)).text())

    assert await refs("attribution=me") == [world.refs["a2"]]
    assert await refs("attribution=none") == [world.refs["a"], world.refs["a3"]]
    assert await refs("statut=assigned") == [world.refs["a2"]]
    assert await refs("materiel=projector") == [world.refs["a"]]
    assert await refs("q=toner") == [world.refs["a3"]]
    assert await refs("q=" + world.refs["a2"]) == [world.refs["a2"]]
    # The claim set a2's own deadlines (on the territory's calendar, so their place depends on the
    # weekday): the search keeps the whole queue's order, whatever it is today.
    queue = await refs("")
    assert sorted(queue) == [world.refs["a"], world.refs["a2"], world.refs["a3"]]
    assert await refs("q=Jules") == queue
    assert await refs(f"ecole={world.schools['b']}") == []
    assert await refs("q=100%25_") == []
    assert await refs("statut=nimporte&page=abc") == queue


async def test_category_filter_lists_ticket_categories_only(signed_in, world) -> None:
    """« Catégorie » offers what a ticket is about, never chat intents such as « Salutation »."""
    client = await signed_in("agent.a@guichet.test")
    html = await (await client.get("/agents")).text()
    select = html.split('<select id="categorie"', 1)[1].split("</select>", 1)[0]
    values = [part.split('"', 1)[0] for part in select.split('<option value="')[2:]]
    assert "hardware_failure" in values and "network_outage" in values and "theft" in values
    assert not {"greet", "thanks", "goodbye", "affirm", "deny", "help", "ticket_status"} & set(values)


async def test_pagination_fifty_per_page(signed_in, db, world) -> None:
    """More than fifty open tickets spread over pages with next/previous links."""
    async with db.sessions.begin() as s:
        territory = await s.scalar(select(Territory))
        org = await s.scalar(select(Organisation).where(Organisation.slug == "commune-firminy"))
        school = await s.scalar(select(School).where(School.uai == world.schools["a"]))
        for n in range(55):
            await repo.create_ticket(s, territory=territory, organisation=org, intent="consumables",
                                     role="school_authority", subject=f"Cartouches {n}", school=school,
                                     opened_at=utcnow() - timedelta(minutes=n))
    client = await signed_in("agent.a@guichet.test")
    first = await (await client.get("/agents")).text()
    assert len(_refs(first)) == 50 and "Suivantes" in first
    after = html_unescape(re.search(r'href="(/agents\?apres=[^"]+)" rel="next"', first).group(1))
    second = await (await client.get(after)).text()
    assert len(_refs(second)) == 8 and "Les plus urgentes" in second and "Suivantes" not in second
    assert not set(_refs(first)) & set(_refs(second))
    # The page numbers of the API still work, from the same order.
    numbered = await (await client.get("/agents?page=2")).text()
    assert _refs(numbered) == _refs(second) and "Page précédente" in numbered


async def test_fragment_is_the_list_only(signed_in, world) -> None:
    """The live refresh fetches the list without the page around it."""
    client = await signed_in("agent.a@guichet.test")
    html = await (await client.get("/agents?fragment=1")).text()
    assert "<html" not in html and world.refs["a"] in html


async def test_events_stream_says_the_queue_changed(signed_in, world) -> None:
    """The SSE stream tells commune A's page when a ticket is re-routed to it, not B's unrelated changes."""
    watcher = await signed_in("agent.a@guichet.test")
    other = await signed_in("agent.b@guichet.test")
    response = await watcher.get("/agents/events")
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert await response.content.readline() == b"retry: 5000\n"
    await response.content.readline()
    await other.post(f"/agents/tickets/{world.refs['b']}/note", {"body": "rien pour A"})
    await other.post(f"/agents/tickets/{world.refs['b']}/reroute",
                     {"organisation": "commune-firminy", "reason": "École de Firminy"})

    async def next_event() -> bytes:
        while True:
            line = await response.content.readline()
            if line.startswith(b"event:"):
                return line + await response.content.readline()

    event = await asyncio.wait_for(next_event(), timeout=5)
    assert event == "event: queue\ndata: la file a changé\n".encode()
    response.close()
    refs = _refs(await (await watcher.get("/agents")).text())
    assert world.refs["b"] in refs


async def test_within_an_urgency_band_a_whole_school_comes_first(signed_in, db, world) -> None:
    """A whole school without network, due later, comes before one device of the same band (on time);
    it never jumps above a breached or at-risk ticket; the queue says why it is first."""
    from desk.models import SlaClock
    from desk.sla_store import refresh_queue_deadlines

    async with db.sessions.begin() as s:
        territory = await s.scalar(select(Territory))
        org = await s.scalar(select(Organisation).where(Organisation.slug == "commune-firminy"))
        school = await s.scalar(select(School).where(School.uai == world.schools["a"]))
        ticket = await repo.create_ticket(s, territory=territory, organisation=org, intent="network_outage",
                                          role="school_authority", subject="Plus d'internet dans toute l'école",
                                          school=school, priority=1, sla_policy="replacement")
        due = utcnow() + timedelta(days=4)
        s.add(SlaClock(ticket_id=ticket.id, policy="replacement", threshold="breach", due_at=due, deadline=due))
        await s.flush()
        await refresh_queue_deadlines(s, [ticket.id])
    client = await signed_in("agent.a@guichet.test")
    html = await (await client.get("/agents")).text()
    assert _refs(html) == [world.refs["a"], world.refs["a2"], ticket.reference, world.refs["a3"]]
    assert '<span class="priority priority-1">Toute l&#39;école</span>' in html
    page = await (await client.get(f"/agents/tickets/{ticket.reference}")).text()
    assert "<dt>Priorité</dt><dd>Haute — toute l&#39;école</dd>" in page

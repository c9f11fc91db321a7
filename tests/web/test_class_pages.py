"""The class closure and opening pages (convention art. 1): scoped like the inventory (another commune
gets 404), forms with CSRF and French errors, the ticket they open, the devices' logbooks."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desk.models import Asset, AssetEvent, Room, School, Ticket
from tests.typo import plain


async def _rooms(db, uai: str) -> None:
    async with db.sessions.begin() as s:
        school = await s.scalar(select(School).where(School.uai == uai))
        cm2, ce1 = Room(school_id=school.id, name="CM2"), Room(school_id=school.id, name="CE1")
        s.add_all([cm2, ce1])
        await s.flush()
        s.add_all([
            Asset(territory_id=school.territory_id, tag="SEM-000201", type="projector", school_id=school.id,
                  room_id=cm2.id, owner="sem"),
            Asset(territory_id=school.territory_id, tag="SEM-000202", type="tablet", school_id=school.id,
                  room_id=cm2.id, owner="sem"),
            Asset(territory_id=school.territory_id, tag="FIR-000203", type="printer", school_id=school.id,
                  room_id=cm2.id, owner="commune"),
            Asset(territory_id=school.territory_id, tag="SEM-000204", type="laptop", school_id=school.id,
                  room_id=ce1.id, owner="sem"),
        ])


@pytest.mark.parametrize(("email", "status"), [
    ("agent.sem@guichet.test", 200), ("agent.a@guichet.test", 200), ("admin@guichet.test", 200),
    ("agent.b@guichet.test", 404),
])
async def test_class_pages_are_scoped_like_the_inventory(db, world, signed_in, email: str, status: int) -> None:
    await _rooms(db, world.schools["a"])
    agent = await signed_in(email)
    uai = world.schools["a"]
    for path, params in ((f"/agents/schools/{uai}/classes", {}), (f"/agents/schools/{uai}/classes/fermeture",
                         {"salle": "CM2"}), (f"/agents/schools/{uai}/classes/ouverture", {})):
        response = await agent.get(path, params=params)
        assert response.status == status, path
        assert ("introuvable" in plain(await response.text())) is (status == 404)
    if status == 404:
        return
    listing = plain(await (await agent.get(f"/agents/schools/{uai}/classes")).text())
    assert "Fermer la classe CM2" in listing and "convention 2023-2027, art. 1" in listing
    unknown = await agent.get(f"/agents/schools/{uai}/classes/fermeture", params={"salle": "Salle 99"})
    assert unknown.status == 404


async def test_a_commune_closes_a_class_from_the_asset_page(db, world, signed_in) -> None:
    """From SEM-000201's page to the closure form; a missing reason is answered in French (422); then
    the closure: the ticket goes to SEM (not Firminy's queue: back to the school's classes with its
    reference), each SEM device's logbook shows it with the ticket's link; a forged post is 403."""
    await _rooms(db, world.schools["a"])
    uai = world.schools["a"]
    agent = await signed_in("agent.a@guichet.test")
    asset_page = await (await agent.get("/agents/assets/SEM-000201")).text()
    assert f'href="/agents/schools/{uai}/classes/fermeture?salle=CM2">Fermeture de la classe CM2</a>' in asset_page
    page = plain(await (await agent.get(f"/agents/schools/{uai}/classes/fermeture", params={"salle": "CM2"})).text())
    assert "SEM-000201" in page and "SEM-000202" in page and "À récupérer par Saint-Étienne Métropole" in page
    assert "Autre matériel de la salle" in page and "FIR-000203" in page and "SEM-000204" not in page
    form = {"salle": "CM2", "action-SEM-000201": "collect", "action-SEM-000202": "reallocate",
            "school-SEM-000202": uai, "room-SEM-000202": "CE1", "why": ""}
    refused = await agent.post(f"/agents/schools/{uai}/classes/fermeture", form)
    assert refused.status == 422
    assert "Indiquez la raison de la fermeture" in plain(await refused.text())
    forged = await agent.post(f"/agents/schools/{uai}/classes/fermeture", {**form, "why": "x"}, token=False,
                              allow_redirects=False)
    assert forged.status == 403
    response = await agent.post(f"/agents/schools/{uai}/classes/fermeture",
                                {**form, "why": "Fermeture à la rentrée 2027"}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == f"/agents/schools/{uai}/classes"
    async with db.sessions() as s:
        ticket = await s.scalar(select(Ticket).where(Ticket.intent == "class_change"))
        assert await s.scalar(select(AssetEvent.kind).where(AssetEvent.kind == "class_closure").limit(1))
    back = plain(await (await agent.get(response.headers["Location"])).text())
    assert f"Fermeture de la classe CM2 enregistrée : demande {ticket.reference} transmise à Saint-Étienne Métropole." in back
    logbook = plain(await (await agent.get("/agents/assets/SEM-000202")).text())
    assert "Fermeture de classe" in logbook and "à réaffecter à École Jules Ferry, salle CE1" in logbook
    assert f'<a href="/agents/tickets/{ticket.reference}">{ticket.reference}</a>' in logbook
    sem = await signed_in("agent.sem@guichet.test")
    task = plain(await (await sem.get(f"/agents/tickets/{ticket.reference}")).text())
    assert "Fermeture de la classe CM2 (École Jules Ferry)" in task and "Fermeture ou ouverture de classe" in task
    assert "SEM-000201 — Vidéoprojecteur : à récupérer" in task


async def test_sem_opens_a_class_and_moves_a_device_into_it(db, world, signed_in) -> None:
    """SEM ticks the laptop of CE1 for the new « CP 2 »: moved with the ticket named, to the ticket's page;
    Firminy's form has no device list, and moving a tag it types is refused in French."""
    await _rooms(db, world.schools["a"])
    uai = world.schools["a"]
    sem = await signed_in("agent.sem@guichet.test")
    page = await (await sem.get(f"/agents/schools/{uai}/classes/ouverture")).text()
    assert 'name="tag" value="SEM-000204"' in page and 'name="tag" value="FIR-000203"' not in page
    response = await sem.post(f"/agents/schools/{uai}/classes/ouverture", {
        "room": "CP 2", "needs": "Un vidéoprojecteur interactif", "tag": "SEM-000204",
        "why": "Ouverture à la rentrée 2027"}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/agents/tickets/")
    ticket_page = plain(await (await sem.get(response.headers["Location"])).text())
    assert "Ouverture de la classe CP 2 enregistrée" in ticket_page and "Un vidéoprojecteur interactif" in ticket_page
    logbook = plain(await (await sem.get("/agents/assets/SEM-000204")).text())
    assert "Déplacement" in logbook and "Salle : CE1 → CP 2" in logbook
    firminy = await signed_in("agent.a@guichet.test")
    page = await (await firminy.get(f"/agents/schools/{uai}/classes/ouverture")).text()
    assert 'name="tag"' not in page
    refused = await firminy.post(f"/agents/schools/{uai}/classes/ouverture", {
        "room": "CP 3", "needs": "", "tags": "SEM-000201", "why": "Ouverture"})
    assert refused.status == 422 and "déplacé par ses agents" in plain(await refused.text())
    async with db.sessions() as s:
        laptop = await s.scalar(select(Asset).where(Asset.tag == "SEM-000201"))
        assert (await s.get(Room, laptop.room_id)).name == "CM2"

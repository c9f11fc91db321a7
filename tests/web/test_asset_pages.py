"""The inventory's pages: scoped like tickets (another commune gets 404), the logbook, the forms with CSRF, CSV."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desk.models import AssetEvent
from tests.typo import plain


@pytest.mark.parametrize(("email", "status"), [
    ("agent.sem@guichet.test", 200),  # the owner organisation
    ("agent.a@guichet.test", 200),  # the school's commune
    ("admin@guichet.test", 200),
    ("agent.b@guichet.test", 404),  # another commune
])
async def test_asset_page_scoping(db, world, signed_in, email: str, status: int) -> None:
    """SEM-000001 is SEM's projector in Firminy's school: Saint-Étienne's agent reads « introuvable »."""
    agent = await signed_in(email)
    response = await agent.get("/agents/assets/SEM-000001")
    assert response.status == status
    html = plain(await response.text())
    if status == 200:
        assert "Carnet de bord" in html and "Epson EB-W51" in html and "Taux de remboursement" in html
        assert "Demande ouverte" in html  # the ticket about it, read from the tickets
    else:
        assert "introuvable" in html
    listing = plain(await (await agent.get("/agents/assets", params={"q": "SEM-0000"})).text())
    assert ("SEM-000001" in listing) is (status == 200)


async def test_move_and_note_forms_write_the_logbook(db, world, signed_in) -> None:
    """The SEM agent moves its projector and adds a note; both are in the logbook with who and why."""
    agent = await signed_in("agent.sem@guichet.test")
    await agent.refresh_token("/agents/assets/SEM-000001")
    response = await agent.post("/agents/assets/SEM-000001/move", {
        "school": world.schools["a"], "room": "CE2", "why": "Ouverture d'une classe"}, allow_redirects=False)
    assert response.status == 303
    response = await agent.post("/agents/assets/SEM-000001/note", {"body": "Lampe changée sur place"},
                                allow_redirects=False)
    assert response.status == 303
    html = plain(await (await agent.get("/agents/assets/SEM-000001")).text())
    assert "Déplacement" in html and "Ouverture d" in html and "Salle : — → CE2" in html
    assert "Lampe changée sur place" in html and "Agent SEM" in html
    forged = await agent.post("/agents/assets/SEM-000001/note", {"body": "x"}, token=False, allow_redirects=False)
    assert forged.status == 403
    async with db.sessions() as session:
        kinds = [e.kind for e in (await session.scalars(select(AssetEvent).order_by(AssetEvent.id))).all()]
    assert kinds == ["moved", "note"]


async def test_a_commune_cannot_move_sem_equipment(db, world, signed_in) -> None:
    """Firminy sees SEM's projector but the move is refused with a French reason."""
    agent = await signed_in("agent.a@guichet.test")
    await agent.refresh_token("/agents/assets/SEM-000001")
    response = await agent.post("/agents/assets/SEM-000001/move", {
        "school": world.schools["a"], "room": "CP", "why": "Essai"})
    assert response.status == 200
    assert "propriétaire" in plain(await response.text())


async def test_create_a_device_and_export_csv(db, world, signed_in) -> None:
    """An admin creates a device; the CSV export lists it the French Excel way."""
    agent = await signed_in("admin@guichet.test")
    await agent.refresh_token("/agents/assets/new")
    response = await agent.post("/agents/assets/new", {
        "tag": "sem-000777", "type": "tablet", "owner": "sem", "model": "Galaxy Tab", "serial": "R9X",
        "acquired_on": "01/09/2025", "value": "290", "school": world.schools["a"], "room": "CP", "why": ""},
        allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/agents/assets/SEM-000777"
    bad = await agent.post("/agents/assets/new", {"tag": "X", "type": "tablet", "owner": "sem",
                                                  "school": world.schools["a"]})
    assert bad.status == 422 and "Étiquette invalide" in plain(await bad.text())
    csv = await agent.get("/agents/assets", params={"format": "csv", "type": "tablet"})
    body = (await csv.read()).decode("utf-8")
    assert body.startswith("\ufeffÉtiquette;Type;")
    assert "SEM-000777;Tablette" in body and "290,00" in body


async def test_admin_assets_leads_to_the_inventory(db, world, signed_in) -> None:
    """The old administration address is no longer a 404."""
    agent = await signed_in("admin@guichet.test")
    response = await agent.get("/agents/admin/assets", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/agents/assets"

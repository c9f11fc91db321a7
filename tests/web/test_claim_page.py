"""The claim file on the ticket page: the steps with their dates and delays, the lines and their
refund, the form that dates a step (convention 2023-2027 art. 6)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from desk import repositories as repo
from desk.models import ClaimLine, Organisation, School, Territory
from tests.typo import plain


async def _declaration(db, world) -> str:
    async with db.sessions.begin() as s:
        territory = await s.scalar(select(Territory))
        org = await s.scalar(select(Organisation).where(Organisation.slug == "commune-firminy"))
        school = await s.scalar(select(School).where(School.uai == world.schools["a"]))
        ticket = await repo.create_ticket(s, territory=territory, organisation=org, intent="theft",
                                          role="school_authority", subject="Vol de deux tablettes", school=school,
                                          sla_policy="declaration", equipment="tablet", quantity=2,
                                          opened_at=datetime.now(UTC) - timedelta(days=4))
        s.add_all([
            ClaimLine(ticket_id=ticket.id, equipment="tablet", acquired_on=date(2025, 9, 1), value_cents=29_000,
                      rate=80, refund_cents=23_200, replaced=True),
            ClaimLine(ticket_id=ticket.id, equipment="tablet", replaced=True),
        ])
        return ticket.reference


async def test_the_claim_file_shows_where_it_stands_and_records_a_step(signed_in, db, world) -> None:
    reference = await _declaration(db, world)
    client = await signed_in("agent.a@guichet.test")
    html = plain(await (await client.get(f"/agents/tickets/{reference}")).text())
    assert "Dossier de sinistre" in html
    assert "En retard : Déclaration à l&#39;assureur, Déclaration à la police ou à la gendarmerie, Plainte déposée." in html
    assert "232,00 €" in html and "À calculer" in html and "(+ 1 à calculer)" in html
    page = await client.get(f"/agents/tickets/{reference}")
    token = (await page.text()).split('name="_csrf" value="', 1)[1].split('"', 1)[0]
    today = datetime.now(UTC).date().isoformat()
    response = await client.post(f"/agents/tickets/{reference}/claim-step", data={
        "_csrf": token, "step": "insurer_declared", "done_on": today, "note": "Déclaration n° 42"})
    html = plain(await response.text())
    assert "Étape du dossier enregistrée : Déclaration à l&#39;assureur." in html
    assert "Déclaration n° 42" in html and "En retard : Déclaration à la police" in html
    refused = plain(await (await client.post(f"/agents/tickets/{reference}/claim-step", data={
        "_csrf": token, "step": "commitment_form", "done_on": today, "amount": "", "payment_mode": ""})).text())
    assert "Indiquez le montant estimé du remboursement (en euros)." in refused


async def test_a_ticket_without_claim_has_no_claim_section(signed_in, world) -> None:
    client = await signed_in("agent.a@guichet.test")
    html = await (await client.get(f"/agents/tickets/{world.refs['a']}")).text()
    assert "Dossier de sinistre" not in html


async def test_the_committee_review_page_and_its_csv(signed_in, db, world) -> None:
    """A supervisor reads the bimonthly review, chooses a period, downloads the communes' table;
    an agent does not see it; a malformed period is answered in French."""
    reference = await _declaration(db, world)
    client = await signed_in("chef.a@guichet.test")
    today = datetime.now(UTC).date()
    from handlers.committee import Period

    period = Period.containing(today - timedelta(days=4))
    html = plain(await (await client.get("/agents/reports/committee", params={"periode": period.key})).text())
    assert f"Bilan des vols et dégradations — {period.label}" in html and "Firminy" in html
    assert reference in html  # its declarations are late
    csv = await client.get("/agents/reports/committee", params={"periode": period.key, "format": "csv"})
    assert csv.headers["Content-Type"].startswith("text/csv")
    body = (await csv.read()).decode("utf-8")
    assert body.startswith("\ufeffPériode;Commune;Vols;") and ";Firminy;1;0;1;" in body
    bad = await client.get("/agents/reports/committee", params={"periode": "2026-10/2026-11"})
    assert bad.status == 400 and "deux mois civils" in await bad.text()
    agent = await signed_in("agent.a@guichet.test")
    assert (await agent.get("/agents/reports/committee")).status == 404


async def test_a_line_is_completed_from_the_page_and_the_review_has_its_chart(signed_in, db, world) -> None:
    reference = await _declaration(db, world)
    client = await signed_in("agent.a@guichet.test")
    page = await (await client.get(f"/agents/tickets/{reference}")).text()
    assert page.count('action="/agents/tickets/' + reference + '/claim-line"') == 1  # the unknown line only
    token = page.split('name="_csrf" value="', 1)[1].split('"', 1)[0]
    line = page.split('/claim-line"', 1)[1].split('name="line" value="', 1)[1].split('"', 1)[0]
    html = plain(await (await client.post(f"/agents/tickets/{reference}/claim-line", data={
        "_csrf": token, "line": line, "value": "300", "acquired_on": "2024-05-02"})).text())
    assert "Ligne du dossier complétée" in html and "60 %" in html and "180,00 €" in html and "À calculer" not in html
    supervisor = await signed_in("chef.a@guichet.test")
    review = await (await supervisor.get("/agents/reports/committee")).text()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in review and "Vols et dégradations par commune" in review


async def test_the_commitments_report_page_and_csv(signed_in, world) -> None:
    """A supervisor reads the commitments kept per month, with its chart and its CSV; an agent does not."""
    client = await signed_in("chef.a@guichet.test")
    response = await client.get("/agents/reports/sla", params={"mois": "12"})
    html = plain(await response.text())
    assert response.status == 200 and "Engagements de service tenus" in html and "<svg" in html
    assert "Remplacement (48 h, 72 h au plus)" in html and "Commune de Firminy" in html
    assert "Par commune des écoles" in html and "<tr><td>Firminy</td>" in html  # art. 8 indicators per commune
    body = (await (await client.get("/agents/reports/sla", params={"mois": "12", "format": "csv"})).read()).decode()
    assert body.startswith("\ufeffMois;Engagement;Organisation;") and ";Commune de Firminy;" in body
    assert (await client.get("/agents/reports/sla", params={"mois": "beaucoup"})).status == 200  # default period
    agent = await signed_in("agent.a@guichet.test")
    assert (await agent.get("/agents/reports/sla")).status == 404


async def test_the_yearly_list_of_new_equipment_for_the_insurers(signed_in, db, world) -> None:
    """Art. 6: a commune's supervisor lists the devices installed this year in its schools (not the
    other commune's, not last year's), as a page and as CSV; the administrator lists every commune."""
    from desk.models import Asset

    year = datetime.now(UTC).year
    async with db.sessions.begin() as s:
        territory = await s.scalar(select(Territory))
        a = await s.scalar(select(School).where(School.uai == world.schools["a"]))
        b = await s.scalar(select(School).where(School.uai == world.schools["b"]))
        s.add_all([
            Asset(territory_id=territory.id, tag="SEM-100001", type="tablet", model="Galaxy Tab A9+", school_id=a.id,
                  acquired_on=date(year, 1, 15), value_cents=29_000),
            Asset(territory_id=territory.id, tag="SEM-100002", type="projector", school_id=a.id,
                  acquired_on=date(year - 1, 12, 31), value_cents=52_000),
            Asset(territory_id=territory.id, tag="SEM-100003", type="printer", school_id=b.id,
                  acquired_on=date(year, 3, 1), value_cents=31_000),
        ])
    client = await signed_in("chef.a@guichet.test")
    html = plain(await (await client.get("/agents/reports/insurance")).text())
    assert f"Nouveaux équipements installés en {year}" in html
    assert "SEM-100001" in html and "290,00 €" in html and "SEM-100002" not in html and "SEM-100003" not in html
    body = (await (await client.get("/agents/reports/insurance", params={"format": "csv"})).read()).decode()
    assert body.startswith("\ufeffCommune;École;UAI;Étiquette;Matériel;")
    assert body.count("\r\n") == 2 and f"Firminy;École Jules Ferry;{world.schools['a']};SEM-100001;Tablette;Galaxy Tab A9+;;15/01/{year};290,00\r\n" in body
    last = plain(await (await client.get("/agents/reports/insurance", params={"annee": str(year - 1)})).text())
    assert "SEM-100002" in last and "SEM-100001" not in last
    admin = await signed_in("admin@guichet.test")
    everything = await (await admin.get("/agents/reports/insurance")).text()
    assert "SEM-100001" in everything and "SEM-100003" in everything


async def test_the_committee_pack_and_the_insurance_list_print_as_pdf(signed_in, db, world) -> None:
    """The committee's pack (review, chart, commitments) and the insurers' list, as A4 PDFs drawn
    from the same HTML: each page rendered to pixels is not blank and reads what the page reads."""
    from desk.models import Asset
    from handlers.committee import Period
    from tests.pdf_pages import INKED, pdf_pages, pdf_text

    reference = await _declaration(db, world)
    year = datetime.now(UTC).year
    async with db.sessions.begin() as s:
        territory = await s.scalar(select(Territory))
        a = await s.scalar(select(School).where(School.uai == world.schools["a"]))
        b = await s.scalar(select(School).where(School.uai == world.schools["b"]))
        s.add_all([Asset(territory_id=territory.id, tag="SEM-100001", type="tablet", school_id=a.id,
                         acquired_on=date(year, 1, 15), value_cents=29_000),
                   Asset(territory_id=territory.id, tag="SEM-100003", type="printer", school_id=b.id,
                         acquired_on=date(year, 3, 1), value_cents=31_000)])
    client = await signed_in("chef.a@guichet.test")
    period = Period.containing(datetime.now(UTC).date() - timedelta(days=4))
    page = await (await client.get("/agents/reports/committee", params={"periode": period.key})).text()
    assert f'href="/agents/reports/committee?periode={period.key}&amp;format=pdf"' in page
    response = await client.get("/agents/reports/committee", params={"periode": period.key, "format": "pdf"})
    assert response.status == 200 and response.headers["Content-Type"] == "application/pdf"
    assert f'filename="comite-{period.key.replace("/", "_")}.pdf"' in response.headers["Content-Disposition"]
    data = await response.read()
    pages = pdf_pages(data)
    assert all(ink > INKED for _, ink in pages), [ink for _, ink in pages]
    text = pdf_text(data)
    assert f"Bilan des vols et dégradations — {period.label}" in text and "Firminy" in text and reference in text
    assert "Engagements de service (convention, art. 8)" in text and "Déclaration" in text
    assert f"page 1 sur {len(pages)}" in text

    listing = await client.get("/agents/reports/insurance", params={"format": "pdf"})
    assert listing.status == 200 and listing.headers["Content-Type"] == "application/pdf"
    text = pdf_text(await listing.read())
    assert f"Nouveaux équipements installés en {year}" in text and "SEM-100001" in text and "290,00 €" in text
    assert "SEM-100003" not in text  # the other commune's school
    agent = await signed_in("agent.a@guichet.test")
    assert (await agent.get("/agents/reports/committee", params={"format": "pdf"})).status == 404


async def test_a_claim_file_with_a_late_step_says_so_in_the_queue(signed_in, db, world) -> None:
    """Art. 6: the declarations and the complaint are due within 48 h; four days on, the queue
    names them on the file's row, and no longer once they are recorded (other rows say nothing)."""
    from desk.models import ClaimStepRecord, Ticket

    reference = await _declaration(db, world)
    client = await signed_in("agent.a@guichet.test")
    html = plain(await (await client.get("/agents")).text())
    row = html.split(f">{reference}</a>", 1)[1].split("</tr>", 1)[0]
    assert ("Dossier de sinistre en retard : Déclaration à l&#39;assureur, Déclaration à la police ou à la "
            "gendarmerie, Plainte déposée") in row
    assert html.count("Dossier de sinistre en retard") == 1
    async with db.sessions.begin() as s:
        ticket = await s.scalar(select(Ticket).where(Ticket.reference == reference))
        day = datetime.now(UTC).date() - timedelta(days=3)
        s.add_all([ClaimStepRecord(ticket_id=ticket.id, step=step, done_on=day)
                   for step in ("insurer_declared", "police_declared")])
    row = plain(await (await client.get("/agents")).text()).split(f">{reference}</a>", 1)[1].split("</tr>", 1)[0]
    assert "Dossier de sinistre en retard : Plainte déposée" in row and "assureur" not in row


async def test_installed_equipment_makes_the_statement_for_the_commune(signed_in, db, world) -> None:
    """Art. 6: SEM records what it installed in place of each device, and prints « un état des
    équipements installés précisant la nouvelle valeur » — page, PDF and CSV; the other commune's
    agent does not reach it."""
    from desk.models import Asset
    from tests.pdf_pages import INKED, pdf_pages, pdf_text

    reference = await _declaration(db, world)
    async with db.sessions.begin() as s:
        territory = await s.scalar(select(Territory))
        a = await s.scalar(select(School).where(School.uai == world.schools["a"]))
        s.add(Asset(territory_id=territory.id, tag="SEM-200001", type="tablet", school_id=a.id,
                    acquired_on=datetime.now(UTC).date(), value_cents=31_900))
    client = await signed_in("agent.a@guichet.test")
    page = await (await client.get(f"/agents/tickets/{reference}")).text()
    assert page.count(f'action="/agents/tickets/{reference}/claim-install"') == 2  # both tablets
    token = page.split('name="_csrf" value="', 1)[1].split('"', 1)[0]
    first = page.split('/claim-install"', 1)[1].split('name="line" value="', 1)[1].split('"', 1)[0]
    today = datetime.now(UTC).date().isoformat()
    html = plain(await (await client.post(f"/agents/tickets/{reference}/claim-install", data={
        "_csrf": token, "line": first, "tag": "sem-200001", "value": "", "installed_on": today})).text())
    assert "Matériel installé enregistré" in html and "SEM-200001, 319,00 €, le" in html
    refused = plain(await (await client.post(f"/agents/tickets/{reference}/claim-install", data={
        "_csrf": token, "line": first, "tag": "", "value": "", "installed_on": today})).text())
    assert "Indiquez la nouvelle valeur du matériel installé (en euros)." in refused

    statement = plain(await (await client.get(f"/agents/tickets/{reference}/etat")).text())
    assert "État des équipements installés" in statement and "SEM-200001" in statement
    assert "319,00 €" in statement and "État provisoire" in statement  # the second tablet is not installed yet
    csv = (await (await client.get(f"/agents/tickets/{reference}/etat", params={"format": "csv"})).read()).decode()
    assert csv.startswith("\ufeffDossier;École;UAI;Matériel;Étiquette;") and ";SEM-200001;" in csv and ";319,00\r\n" in csv
    data = await (await client.get(f"/agents/tickets/{reference}/etat", params={"format": "pdf"})).read()
    assert all(ink > INKED for _, ink in pdf_pages(data))
    text = pdf_text(data)
    assert "État des équipements installés" in text and "SEM-200001" in text and "319,00 €" in text
    assert "232,00 € (80 %)" in text and "Reçu par Commune de Firminy" in text
    other = await signed_in("agent.b@guichet.test")
    assert (await other.get(f"/agents/tickets/{reference}/etat")).status == 404
    assert (await client.get(f"/agents/tickets/{world.refs['a']}/etat")).status == 404  # no claim file


async def test_a_stolen_device_is_marked_from_the_claim_file(signed_in, db, world) -> None:
    """A theft's line names SEM-000001: the commune's agent presses « Marquer volé »; the inventory says
    stolen with the file's reference as the reason, the line shows it and offers the button no more."""
    from desk.models import Asset, AssetEvent

    reference = await _declaration(db, world)
    async with db.sessions.begin() as s:
        asset = await s.scalar(select(Asset).where(Asset.tag == "SEM-000001"))
        line = await s.scalar(select(ClaimLine).where(ClaimLine.refund_cents.is_(None)))
        line.asset_id = asset.id
        line_id = line.id
    client = await signed_in("agent.a@guichet.test")
    page = await (await client.get(f"/agents/tickets/{reference}")).text()
    assert page.count(f'action="/agents/tickets/{reference}/claim-stolen"') == 1  # the line with a tag only
    assert 'aria-label="Marquer volé le matériel SEM-000001"' in page
    forged = await client.post(f"/agents/tickets/{reference}/claim-stolen", {"line": str(line_id)}, token=False,
                               allow_redirects=False)
    assert forged.status == 403
    response = await client.post(f"/agents/tickets/{reference}/claim-stolen", {"line": str(line_id)})
    html = plain(await response.text())
    assert f"Matériel SEM-000001 déclaré volé : son carnet de bord renvoie au dossier {reference}." in html
    assert "Déclaré volé" in html and "/claim-stolen" not in html
    async with db.sessions() as s:
        asset = await s.scalar(select(Asset).where(Asset.tag == "SEM-000001"))
        event = await s.scalar(select(AssetEvent).where(AssetEvent.asset_id == asset.id))
    assert asset.status == "stolen"
    assert (event.kind, event.body, event.actor_name) == ("stolen", f"Dossier de sinistre {reference}", "Agent A")
    assert event.data["ticket"] == reference
    logbook = plain(await (await client.get("/agents/assets/SEM-000001")).text())
    assert "Déclaré volé" in logbook and f"Dossier de sinistre {reference}" in logbook
    again = plain(await (await client.post(f"/agents/tickets/{reference}/claim-stolen",
                                           {"line": str(line_id)})).text())
    assert "SEM-000001 : Le matériel a déjà ce statut." in again
    other = await signed_in("agent.b@guichet.test")
    assert (await other.post(f"/agents/tickets/{reference}/claim-stolen", {"line": str(line_id)})).status == 404

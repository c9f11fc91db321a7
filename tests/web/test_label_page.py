"""The agents' label sheet page: the school's devices for the agents whose scope covers it, 404 otherwise."""

from __future__ import annotations

from sqlalchemy import select

from desk.models import Asset, Room, School
from tests.qr_decode import decode_svgs
from tests.web.world import agents_app, make_settings


async def _add_room_assets(db, uai: str) -> None:
    """Two devices in « CM2 <b> » (a hostile name) and one in the hall, for school `uai`."""
    async with db.sessions.begin() as s:
        school = await s.scalar(select(School).where(School.uai == uai))
        cm2 = Room(school_id=school.id, name="CM2 <b>")
        hall = Room(school_id=school.id, name="Hall")
        s.add_all([cm2, hall])
        await s.flush()
        s.add_all([
            Asset(territory_id=school.territory_id, tag="SEM-004512", type="interactive_display", school_id=school.id,
                  room_id=cm2.id, owner="sem"),
            Asset(territory_id=school.territory_id, tag="FIR-000002", type="tablet", school_id=school.id,
                  room_id=cm2.id, owner="commune"),
            Asset(territory_id=school.territory_id, tag="SEM-000003", type="printer", school_id=school.id,
                  room_id=hall.id, owner="sem"),
        ])


async def test_an_agent_of_the_school_commune_prints_its_labels(db, world, signed_in) -> None:
    """The commune's agent gets the whole sheet: every device, its owner's name, its self-contained policy."""
    await _add_room_assets(db, world.schools["a"])
    agent = await signed_in("agent.a@guichet.test")
    response = await agent.get(f"/agents/schools/{world.schools['a']}/labels")
    assert response.status == 200 and response.content_type == "text/html"
    html = await response.text()
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'; style-src 'sha256-")
    assert [tag for tag in ("SEM-000001", "SEM-000003", "FIR-000002", "SEM-004512") if tag in html] == [
        "SEM-000001", "SEM-000003", "FIR-000002", "SEM-004512"]
    assert '<div class="owner">Commune de Firminy</div>' in html
    assert '<div class="owner">Saint-Étienne Métropole</div>' in html
    assert "CM2 &lt;b&gt;" in html and "CM2 <b>" not in html
    assert ("qr qr-main", "http://guichet.test/chat?asset=SEM-004512") in decode_svgs(html)


async def test_one_room_only(db, world, signed_in) -> None:
    """?room= keeps that room's devices, whatever its case and spacing."""
    await _add_room_assets(db, world.schools["a"])
    agent = await signed_in("agent.sem@guichet.test")
    response = await agent.get(f"/agents/schools/{world.schools['a']}/labels", params={"room": " cm2  <B> "})
    html = await response.text()
    assert response.status == 200
    assert html.count('<article class="label"') == 2 and "SEM-000003" not in html
    assert "Étiquettes du matériel — École Jules Ferry, CM2 &lt;b&gt;" in html


async def test_the_bot_username_makes_the_main_code_telegram(aiohttp_client, db, world, signed_in) -> None:
    """With GUICHET_TELEGRAM_BOT_USERNAME set, the main code is the bot's deep link, the web chat the small one."""
    from tests.web.conftest import AgentClient

    app = agents_app(make_settings(telegram_bot_username="@GuichetEcolesBot"), db.engine, db.sessions)
    agent = AgentClient(await aiohttp_client(app))
    assert (await agent.login("admin@guichet.test")).status == 303
    html = await (await agent.get(f"/agents/schools/{world.schools['b']}/labels")).text()
    assert '<section class="page"' not in html  # school B has no device
    html = await (await agent.get(f"/agents/schools/{world.schools['a']}/labels")).text()
    assert decode_svgs(html) == [("qr qr-main", "https://t.me/GuichetEcolesBot?start=asset-SEM-000001"),
                                 ("qr qr-web", "http://guichet.test/chat?asset=SEM-000001")]


async def test_outside_the_scope_is_not_found(db, world, signed_in) -> None:
    """Another commune's agent, with no ticket at the school, gets the same 404 as for an unknown UAI."""
    agent = await signed_in("agent.b@guichet.test")
    outside = await agent.get(f"/agents/schools/{world.schools['a']}/labels")
    unknown = await agent.get("/agents/schools/0000000A/labels")
    assert outside.status == unknown.status == 404
    assert "Cette école est introuvable." in await outside.text()
    own = await agent.get(f"/agents/schools/{world.schools['b'].lower()}/labels")
    assert own.status == 200


async def test_the_operator_and_the_admin_see_every_school(world, signed_in) -> None:
    """The operator's agents and the administrators print any school's labels."""
    for email in ("agent.sem@guichet.test", "admin@guichet.test"):
        agent = await signed_in(email)
        for uai in world.schools.values():
            assert (await agent.get(f"/agents/schools/{uai}/labels")).status == 200


async def test_anonymous_visitors_are_sent_to_sign_in(world, anonymous) -> None:
    """The sheet is an agents' page: no session, no labels."""
    response = await anonymous.get(f"/agents/schools/{world.schools['a']}/labels", allow_redirects=False)
    assert response.status in (302, 303) and "/agents/login" in response.headers["Location"]


async def test_the_ticket_page_links_to_the_labels(world, signed_in) -> None:
    """The ticket page offers « Imprimer les étiquettes » for its school and for its asset."""
    agent = await signed_in("agent.a@guichet.test")
    html = await (await agent.get(f"/agents/tickets/{world.refs['a']}")).text()
    link = f'href="/agents/schools/{world.schools["a"]}/labels">Imprimer les étiquettes</a>'
    assert html.count(link) == 2


async def test_the_sheet_prints_as_a_pdf_whose_codes_scan(db, world, signed_in) -> None:
    """`?format=pdf`: the same sheet as an A4 PDF; drawn to pixels, every QR code reads back as the
    device's deep link, one per device of the school (as a phone would read the printed label)."""
    import numpy as np
    import pypdfium2 as pdfium
    import zxingcpp

    await _add_room_assets(db, world.schools["a"])
    agent = await signed_in("agent.a@guichet.test")
    response = await agent.get(f"/agents/schools/{world.schools['a']}/labels", params={"format": "pdf"})
    assert response.status == 200 and response.headers["Content-Type"] == "application/pdf"
    assert f'filename="etiquettes-{world.schools["a"]}.pdf"' in response.headers["Content-Disposition"]
    document = pdfium.PdfDocument(await response.read())
    try:
        read = set()
        for page in document:
            pixels = np.asarray(page.render(scale=4, grayscale=True).to_pil())
            read |= {code.text for code in zxingcpp.read_barcodes(pixels)}
    finally:
        document.close()
    tags = ("SEM-000001", "SEM-000003", "FIR-000002", "SEM-004512")
    assert {f"http://guichet.test/chat?asset={tag}" for tag in tags} <= read
    other = await signed_in("agent.b@guichet.test")
    assert (await other.get(f"/agents/schools/{world.schools['a']}/labels", params={"format": "pdf"})).status == 404


async def test_the_asset_page_links_its_label_as_a_pdf_of_that_device_only(db, world, signed_in) -> None:
    """The asset page links the PDF sheet filtered to the device (`?tag=`) and to its room; the device's
    sheet holds one label whose code scans as its deep link; a tag of another school prints nothing."""
    import numpy as np
    import pypdfium2 as pdfium
    import zxingcpp

    await _add_room_assets(db, world.schools["a"])
    agent = await signed_in("agent.sem@guichet.test")
    page = await (await agent.get("/agents/assets/SEM-004512")).text()
    sheet = f"/agents/schools/{world.schools['a']}/labels"
    assert f'href="{sheet}?tag=SEM-004512&amp;format=pdf" download>Étiquette de ce matériel (PDF)' in page
    assert f'href="{sheet}?room=CM2+%3Cb%3E&amp;format=pdf" download>Étiquettes de la salle (PDF)' in page
    html = await (await agent.get(sheet, params={"tag": "sem-004512"})).text()
    assert html.count('<article class="label"') == 1 and "Étiquettes du matériel — École Jules Ferry, SEM-004512" in html
    response = await agent.get(sheet, params={"tag": "SEM-004512", "format": "pdf"})
    assert response.status == 200 and response.headers["Content-Type"] == "application/pdf"
    assert f'filename="etiquettes-{world.schools["a"]}-SEM-004512.pdf"' in response.headers["Content-Disposition"]
    document = pdfium.PdfDocument(await response.read())
    try:
        read = set()
        for pdf_page in document:
            pixels = np.asarray(pdf_page.render(scale=4, grayscale=True).to_pil())
            read |= {code.text for code in zxingcpp.read_barcodes(pixels)}
    finally:
        document.close()
    assert "http://guichet.test/chat?asset=SEM-004512" in read
    assert not {text for text in read if "asset=" in text and "SEM-004512" not in text}
    elsewhere = await (await agent.get(sheet, params={"tag": "SEM-999999"})).text()
    assert '<article class="label"' not in elsewhere and "Aucun matériel SEM-999999" in elsewhere

"""The web chat as a new teacher uses it, at desktop (1280×800) and phone (390×844) sizes, in headless
Chromium (issue 12: items 1, 2, 3, 8, 9 and 16): links on the server's own address, a tag of another
school asked about, a typed answer to an agent's question kept, a pending question still answerable
after a reload, no photo asked, the composer kept on screen, an empty message answered, no overflow."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from desk.models import Agent, Ticket, TicketEvent
from desk.security import hash_password
from handlers.agent_actions import AgentActions
from handlers.agent_scope import load_actor
from tests.bot.conftest import nlu  # noqa: F401 - the shared trained model (fixture)
from tests.e2e.test_webchat_browser import ARGS, CHROMIUM, pytestmark, served  # noqa: F401 - fixtures

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(params=sorted(SIZES))
async def sized_page(request) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    width, height = SIZES[request.param]
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = await browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR",
                                            is_mobile=request.param == "phone", has_touch=request.param == "phone")
        yield await context.new_page()
        await browser.close()


async def _bot_says(page, text: str) -> None:
    await page.locator("li.msg.bot", has_text=text).last.wait_for(timeout=15_000)


async def _on_screen(page) -> None:
    """The composer and the last message are inside the viewport; nothing is wider than the screen."""
    geometry = await page.evaluate("""() => {
        const box = document.getElementById('message').getBoundingClientRect();
        const items = document.querySelectorAll('#messages > li');
        const last = items[items.length - 1].getBoundingClientRect();
        return {top: box.top, bottom: box.bottom, lastBottom: last.bottom, height: window.innerHeight,
                width: window.innerWidth, scroll: document.documentElement.scrollWidth};
    }""")
    assert 0 <= geometry["top"] and geometry["bottom"] <= geometry["height"], geometry
    assert geometry["lastBottom"] <= geometry["top"] + 1, geometry  # the last message is not hidden
    assert geometry["scroll"] <= geometry["width"], geometry


async def test_a_new_teacher_at_desktop_and_phone_sizes(served, sized_page, db, tmp_path) -> None:
    page = sized_page
    await page.goto(served + "/chat")
    await _bot_says(page, "Je suis le guichet numérique des écoles")
    box = page.get_by_label("Votre message")
    assert await box.get_attribute("placeholder") == "Votre réponse…"  # the bot asked for the school

    # 16: an empty message is answered, nothing is sent
    await box.press("Enter")
    await page.locator("#feedback", has_text="Votre message est vide").wait_for(timeout=5_000)
    assert await box.get_attribute("aria-invalid") == "true"
    assert await page.locator("li.msg.me").count() == 0

    await box.fill("école Victor Hugo Firminy")
    await box.press("Enter")
    assert await page.locator("#feedback").inner_text() == ""
    await page.get_by_role("button", name="Victor Hugo").click()
    await _bot_says(page, "Vous êtes")
    assert await box.get_attribute("placeholder") == "Choisissez ci-dessus ou écrivez votre réponse…"

    # 8: after a reload the pending question's buttons still work; the answered ones do not
    await page.reload()
    await page.locator("#status", has_text="Connecté").wait_for(timeout=10_000)
    assert await page.get_by_role("button", name="Victor Hugo").is_disabled()
    teacher = page.get_by_role("button", name="Enseignant·e")
    assert await teacher.is_enabled()
    await teacher.click()
    await _bot_says(page, "Vous êtes inscrit·e")
    assert await teacher.is_disabled()

    # 2: a tag of another school's device is asked about, never switched silently
    await box.fill("l'imprimante SEM-004514 de la salle des maîtres ne marche plus")
    await box.press("Enter")
    await _bot_says(page, "est celle d'une autre école")
    await page.get_by_role("button", name="Non, c'est dans mon école").click()
    still = page.get_by_role("button", name="Toujours en panne")
    skip = page.get_by_role("button", name="Passer")
    await still.or_(skip).last.wait_for(timeout=15_000)
    if await still.count():
        # 1: tutorial links point at the server the teacher is using
        hrefs = await page.locator("li.msg.bot ul.links a").evaluate_all("links => links.map(a => a.href)")
        assert hrefs and all(h.startswith(served + "/kb/") for h in hrefs), hrefs
        await still.last.click()
    await skip.last.click()
    await _bot_says(page, "Voici le résumé de votre demande")
    summary = await page.locator("li.msg.bot").last.inner_text()
    assert "Victor Hugo" in summary and "salle des maîtres" in summary
    await page.locator("li.msg.bot").last.get_by_role("button", name="Envoyer", exact=True).click()
    await _bot_says(page, "2026-00001")
    await _on_screen(page)

    # 3: the agent asks a question; the teacher's typed answer goes to the ticket
    async with db.sessions.begin() as session:
        ticket = await session.scalar(select(Ticket))
        agent = Agent(organisation_id=ticket.organisation_id, email="agent@guichet.test", name="Agent",
                      password_hash=hash_password("x"), role="agent")
        session.add(agent)
    async with db.sessions() as session:
        actor = await load_actor(session, agent.id)
    await AgentActions(db.sessions).ask(actor, ticket.reference, "Quel est le modèle exact de l'imprimante ?")
    await page.reload()  # the notice waits in the outbox for the page (no dispatcher in this test)
    await _bot_says(page, "Quel est le modèle exact")
    await box.fill("C'est une Brother, le modèle HL-L5210DN")
    await box.press("Enter")
    await _bot_says(page, "c'est ajouté à votre demande")
    async with db.sessions() as session:
        row = await session.get(Ticket, ticket.id)
        bodies = [e.body for e in await session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))]
    assert row.status == "in_progress" and any("HL-L5210DN" in (b or "") for b in bodies)

    # 9: the web chat has no upload: it never asked for a photo
    conversation = " ".join(await page.locator("li.msg.bot").all_inner_texts())
    assert "photo" not in conversation.lower()
    assert "\u202f?" in conversation  # French typography reached the page
    await _on_screen(page)
    await page.screenshot(path=str(tmp_path / "chat.png"), full_page=False)

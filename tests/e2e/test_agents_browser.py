"""End to end in headless Chromium: sign in, claim, reply, resolve; the reply is queued for Telegram."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from sqlalchemy import select

from desk.models import OutboxMessage, Ticket
from guichet.wiring import build_app
from handlers.agent_actions import AgentActions
from handlers.agent_scope import load_actor
from tests.web.world import PASSWORD, make_settings, seed
from web.agents import LiveOptions, live_key

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = os.path.join(tempfile.gettempdir(), "guichet-agents-queue.png")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}"),
]


@pytest.fixture
async def served(db) -> AsyncIterator[tuple[str, object]]:
    """The real application on a free loopback port, with a seeded territory."""
    world = await seed(db.sessions)
    app = build_app(make_settings(), db.engine, db.sessions)
    app[live_key] = LiveOptions(poll_seconds=0.2, heartbeat_seconds=5)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}", world
    await runner.cleanup()


@pytest.fixture
async def page() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
        yield await context.new_page()
        await browser.close()


async def test_sign_in_claim_reply_resolve(served, page, db) -> None:
    """An agent of Firminy handles a ticket in the browser; the teacher's reply waits in the outbox."""
    base, world = served
    ref = world.refs["a"]
    await page.goto(f"{base}/agents")
    assert page.url.startswith(f"{base}/agents/login")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    await page.get_by_label("Adresse électronique").fill("agent.a@guichet.test")
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url(f"{base}/agents")
    assert await page.locator("h1").inner_text() == "File de la commune de Firminy"
    assert await page.locator("table.queue tbody tr").count() == 3
    await page.screenshot(path=SCREENSHOT, full_page=True)

    # the queue refreshes itself when a ticket is re-routed to Firminy
    async with db.sessions() as s:
        other = await load_actor(s, world.agents["b"])
    await AgentActions(db.sessions).reroute(other, world.refs["b"], "commune-firminy", "École de Firminy")
    await page.locator("#live-status").get_by_text("La file a changé").wait_for(timeout=10_000)
    assert await page.locator("table.queue tbody tr").count() == 4

    await page.get_by_role("link", name=ref).click()
    await page.wait_for_url(f"{base}/agents/tickets/{ref}")
    await page.get_by_role("button", name="Prendre en charge").click()
    await page.get_by_role("status").get_by_text("Vous avez pris en charge la demande.").wait_for()
    await page.get_by_label("Répondre au demandeur").fill("Bonjour, un technicien passe demain à 9 h.")
    await page.get_by_role("button", name="Envoyer la réponse").click()
    await page.get_by_role("status").get_by_text("Message envoyé au demandeur.").wait_for()
    await page.get_by_label("Résoudre la demande").fill("La lampe a été changée, bonne journée !")
    await page.get_by_role("button", name="Marquer comme résolue").click()
    await page.get_by_role("status").get_by_text("Demande résolue.").wait_for()
    assert await page.locator(".facts").get_by_text("Résolue", exact=True).count() == 1

    async with db.sessions() as s:
        ticket = await s.scalar(select(Ticket).where(Ticket.reference == ref))
        # Only the teacher's channel: the SLA watcher may also have written to the queue's agents.
        outbox = (await s.scalars(select(OutboxMessage).where(
            OutboxMessage.ticket_id == ticket.id, OutboxMessage.channel == "telegram",
        ).order_by(OutboxMessage.id))).all()
    assert ticket.status == "resolved" and ticket.assignee_id == world.agents["a"]
    assert [(o.channel, o.recipient) for o in outbox] == [("telegram", "tg-1001")] * 2
    assert outbox[0].body.startswith("Bonjour, un technicien passe demain à 9 h.")


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=["desktop", "phone"])
async def test_agents_pages_fit_desktop_and_phone(served, db, width, height, tmp_path) -> None:
    """The queue, a ticket and the reports fit the screen (no sideways scrolling) at both sizes, and show
    what issue 12 fixed (and the inventory's list, a device's page and its form, issue 15): French timeline headings, one claim button, one tutorial list, typography."""
    from playwright.async_api import async_playwright

    base, world = served
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = await browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
        page = await context.new_page()
        await page.goto(f"{base}/agents/login")
        await page.get_by_label("Adresse électronique").fill("chef.a@guichet.test")
        await page.get_by_label("Mot de passe").fill(PASSWORD)
        await page.get_by_role("button", name="Se connecter").click()
        await page.wait_for_url(f"{base}/agents")
        ref = world.refs["a"]
        for path in ("/agents", f"/agents/tickets/{ref}", "/agents/reports?jours=30", "/agents/assets",
                     "/agents/assets/SEM-000001", "/agents/assets/new"):
            await page.goto(base + path)
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            wide = await page.evaluate("""() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ':' + Math.round(e.getBoundingClientRect().width))""")
            assert overflow <= 0, (path, width, overflow, wide)
            await page.screenshot(path=str(tmp_path / f"{path.strip('/').replace('/', '-')}.png"), full_page=True)
            if path.startswith("/agents/tickets"):
                text = await page.locator("main").inner_text()
                assert "Kb ·" not in text and "Priorité" in text
                assert await page.locator("datalist").count() == 1
                await page.get_by_role("button", name="Prendre en charge").click()
                await page.wait_for_url(f"{base}/agents/tickets/{ref}")
                assert await page.get_by_role("button", name="Prendre en charge").count() == 0
        await browser.close()

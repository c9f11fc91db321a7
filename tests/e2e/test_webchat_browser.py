"""End to end in headless Chromium: a teacher opens the web chat, onboards, reports, gets a reference."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from guichet.settings import load_settings
from guichet.wiring import build_app
from tests.bot.conftest import nlu, seed_territory  # noqa: F401 - nlu: the shared trained model (fixture)

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = os.path.join(tempfile.gettempdir(), "guichet-webchat.png")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}"),
]


@pytest.fixture
async def served(db, nlu) -> AsyncIterator[str]:
    """The real application on a free loopback port, with demo-like schools and devices."""
    await seed_territory(db.sessions)
    settings = load_settings(database_url=db.url, background=False, public_url="http://127.0.0.1",
                             telegram_token=None, smtp_url=None, imap_url=None, smtp_intake_port=None)
    runner = web.AppRunner(build_app(settings, db.engine, db.sessions), shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}"
    await runner.cleanup()


@pytest.fixture
async def page() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = await browser.new_context(viewport={"width": 900, "height": 1100}, locale="fr-FR")
        yield await context.new_page()
        await browser.close()


async def _bot_says(page, text: str) -> None:
    await page.locator("li.msg.bot", has_text=text).last.wait_for(timeout=15_000)


async def test_teacher_reports_a_projector_in_the_browser(served, page) -> None:
    """Onboard by name, report the CM2 projector by keyboard and buttons, read the reference."""
    await page.goto(served)
    assert page.url.endswith("/chat")
    await _bot_says(page, "Bonjour ! Je suis le guichet numérique des écoles.")
    box = page.get_by_label("Votre message")
    assert await page.evaluate("document.activeElement.id") == "message"
    await box.fill("ecole jules ferry firminy")
    await box.press("Enter")
    await page.get_by_role("button", name="École élémentaire Jules Ferry — Firminy").click()
    await page.get_by_role("button", name="Enseignant·e").click()
    await _bot_says(page, "Vous êtes inscrit·e")
    await box.fill("le vidéoprojecteur de la classe de CM2 ne s'allume plus")
    await box.press("Enter")
    still = page.get_by_role("button", name="Toujours en panne")
    skip = page.get_by_role("button", name="Passer")
    await still.or_(skip).last.wait_for(timeout=15_000)
    if await still.count():
        assert await page.locator("li.msg.bot ul.links a").count() >= 1
        await still.last.click()
    await skip.last.click()
    await _bot_says(page, "Voici le résumé de votre demande")
    send = page.locator("li.msg.bot").last.get_by_role("button", name="Envoyer", exact=True)
    await send.focus()
    await page.keyboard.press("Enter")
    await _bot_says(page, "2026-00001")
    text = await page.locator("li.msg.bot").last.inner_text()
    assert "Saint-Étienne Métropole" in text and "d'ici le " in text
    await page.screenshot(path=SCREENSHOT, full_page=True)

    # a reload resumes the same session: the history is still there, no second greeting
    await page.reload()
    await _bot_says(page, "2026-00001")
    await page.locator("#status", has_text="Connecté").wait_for(timeout=10_000)
    assert await page.locator("li.msg.bot", has_text="Bonjour ! Je suis le guichet").count() == 1

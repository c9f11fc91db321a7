"""End to end in headless Chromium: a label's QR code opens `/chat?asset=TAG`; one tap, a role, one message."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from desk.models import Asset, Ticket
from tests.e2e.test_webchat_browser import ARGS, CHROMIUM, page, served  # noqa: F401 - fixtures
from tests.bot.conftest import nlu  # noqa: F401 - the shared trained model (fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}"),
]


async def _bot_says(page, text: str) -> None:
    await page.locator("li.msg.bot", has_text=text).last.wait_for(timeout=15_000)


async def test_a_scanned_label_gives_a_one_tap_onboarding(served, page, db) -> None:
    """A teacher never seen before scans the CM2 projector's label: the chat names the device and asks only
    « Vous êtes bien à l'école … ? » and her role, then her one message is the ticket on that device."""
    await page.goto(f"{served}/chat?asset=sem-004512")
    await _bot_says(page, "Vous êtes bien à l'école élémentaire Jules Ferry (Firminy)")
    first = await page.locator("li.msg.bot").last.inner_text()
    assert "SEM-004512" in first and "CM2" in first and "dans quelle école" not in first
    await page.get_by_role("button", name="Oui", exact=True).click()
    await page.get_by_role("button", name="Enseignant·e").click()
    await _bot_says(page, "Que se passe-t-il")
    box = page.get_by_label("Votre message")
    await box.fill("il ne s'allume plus du tout")
    await box.press("Enter")
    still = page.get_by_role("button", name="Toujours en panne")
    done = page.locator("li.msg.bot", has_text="2026-00001")
    await still.or_(done).last.wait_for(timeout=15_000)
    if await still.count() and not await done.count():
        await still.last.click()
    await _bot_says(page, "2026-00001")
    assert await page.locator("li.msg.bot").get_by_role("button", name="Envoyer", exact=True).count() == 0
    async with db.sessions() as session:
        ticket, tag = (await session.execute(
            select(Ticket, Asset.tag).join(Asset, Ticket.asset_id == Asset.id))).one()
    assert (tag, ticket.channel, ticket.room) == ("SEM-004512", "webchat", "CM2")

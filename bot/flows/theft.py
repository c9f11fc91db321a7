"""Theft or damage: the declaration checklist in the conversation (DOMAIN.md §6, convention art. 5-6).

What to say is `handlers.theft`'s, the same for every door; this flow adds the guide's link.
"""

from __future__ import annotations

from bot.messages import Link
from bot.state import Draft
from bot.turn import Turn
from domain.vocabulary import Intent
from handlers.report import ReportOutcome
from handlers.theft import GUIDE_SLUG, GUIDE_TITLE, theft_checklist


async def checklist(turn: Turn, outcome: ReportOutcome, d: Draft) -> None:
    """Explain what the teacher, the director and the school authority must do now."""
    steps = await theft_checklist(
        turn.session, turn.ctx, outcome, intent=Intent(d.intent or Intent.THEFT),
        territory_id=turn.territory.id, asset_tag=d.asset_tag, today=turn.now.date(),
        requester_role=turn.requester.role if turn.requester else None,
    )
    links = []
    kb_get = getattr(turn.services.kb, "get", None)
    if kb_get is not None and kb_get(GUIDE_SLUG) is not None:
        links.append(Link(GUIDE_TITLE, turn.kb_url(GUIDE_SLUG)))
    turn.say(steps.text, (), links)

"""Primo-maintenance first: offer a fitting tutorial before opening a ticket."""

from __future__ import annotations

from bot.messages import Link
from bot.payloads import button
from bot.state import Draft, Step
from bot.turn import Turn
from domain.vocabulary import Intent

#: Intents for which a tutorial may solve the problem on the spot.
DEFLECTABLE = frozenset({
    Intent.HOWTO, Intent.HARDWARE_FAILURE, Intent.NETWORK_OUTAGE, Intent.SOFTWARE_ISSUE, Intent.ACCOUNT_ACCESS,
})


#: A tutorial offered for a breakdown must match it clearly (a how-to question uses the KB's default).
FAILURE_MIN_SCORE = 0.5


def _article(hit: object) -> object:
    return getattr(hit, "article", hit)


async def offer(turn: Turn, d: Draft) -> bool:
    """Offer up to two tutorials; False when none fits (then the report goes on)."""
    if d.intent is None or Intent(d.intent) not in DEFLECTABLE or d.tried_articles:
        return False
    if Intent(d.intent) is Intent.HOWTO:
        hits = turn.services.kb.best_for(d.text[:1000], d.intent, d.equipment)
    else:
        hits = turn.services.kb.best_for(d.text[:1000], d.intent, d.equipment, min_score=FAILURE_MIN_SCORE)
    articles = [_article(h) for h in list(hits)[:2]]
    if not articles:
        return False
    d.offered_articles = [a.slug for a in articles]  # type: ignore[attr-defined]
    turn.state.step = Step.DEFLECT
    first = articles[0]
    text = f"Avez-vous essayé « {first.title} » ? {first.summary}"  # type: ignore[attr-defined]
    if len(articles) > 1:
        text += f"\nÀ voir aussi : « {articles[1].title} »."  # type: ignore[attr-defined]
    turn.say(
        text,
        [button("Ça a marché", "kb", "ok"), button("Toujours en panne", "kb", "ko")],
        [Link(a.title, turn.kb_url(a.slug)) for a in articles],  # type: ignore[attr-defined]
    )
    return True


async def on_kb_button(turn: Turn, value: str) -> bool:
    """kb:ok closes with no ticket (solved); kb:ko goes on to the ticket, the tutorial noted as tried."""
    from bot.flows import other_problem, report

    d = turn.state.draft
    if turn.state.step is not Step.DEFLECT or d is None or not d.offered_articles or value not in ("ok", "ko"):
        return False
    solved = value == "ok"
    # The answer is about the tutorial offered first; « À voir aussi » is a pointer, not an offer.
    for slug in d.offered_articles[:1]:
        await turn.services.record_deflection(
            turn.session, slug=slug, solved=solved, channel=turn.inbound.channel.value,
            requester_id=turn.requester.id if turn.requester else None, ticket_id=None, at=turn.now,
        )
    if solved:
        pending = other_problem.left_unsolved(d)
        turn.state.reset()
        turn.say("Parfait, ravi que ce soit réglé ! Aucune demande n'a été ouverte."
                 + ("" if pending else " Bonne journée !"))
        await other_problem.offer(turn, pending)
        return True
    d.tried_articles = list(d.offered_articles)
    d.offered_articles = []
    turn.say("D'accord, je prépare votre demande pour le support (en précisant que le tutoriel n'a pas suffi).")
    await report.advance(turn)
    return True

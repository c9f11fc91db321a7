"""Free text from a linked teacher: what is it about, and which flow answers it."""

from __future__ import annotations

import re

from bot.flows import common, other_problem, report, smalltalk, status, tickets
from bot.payloads import button
from bot.state import Draft, Step
from bot.turn import Turn
from domain.formats import find_references
from domain.vocabulary import SMALL_TALK_INTENTS, TICKET_INTENTS, Intent
from domain.labels import INTENT_FR
from nlu import ParseResult, needs_clarification

_CANCEL = re.compile(r"\b(annul\w*)\b")
#: Intents that may be offered when the NLU hesitates.
_OFFERABLE = TICKET_INTENTS | {Intent.HOWTO, Intent.TICKET_STATUS}


async def parse(turn: Turn, text: str) -> ParseResult:
    return await turn.services.nlu.aparse(text[: common.MAX_TRIAGE_CHARS])


async def handle_text(turn: Turn, text: str, *, draft: Draft | None = None) -> None:
    """Triage a message and start the matching flow (a clarifying question when unsure)."""
    parsed = await parse(turn, text)
    common.note_language(turn, parsed.language)
    ref = parsed.first("ticket_ref") or _first_ref(text)
    if _CANCEL.search(common.plain(text[:300])) and (ref or parsed.intent is Intent.TICKET_STATUS):
        await tickets.ask_cancel(turn, ref)
        return
    if parsed.intent is Intent.TICKET_STATUS and draft is None:
        await status.show(turn, ref)
        # « la souris est HS, et où en est la demande 2024-0318 ? »: the status, then her report.
        await other_problem.report_beside_question(turn, text)
        return
    if draft is not None and (parsed.intent in SMALL_TALK_INTENTS or needs_clarification(parsed)):
        # The teacher is describing a known device (deep link, « Modifier »): it is a report.
        await report.start(turn, text, parsed, Intent(draft.intent) if draft.intent else Intent.HARDWARE_FAILURE, draft=draft)
        return
    clarification = needs_clarification(parsed)
    if clarification is not None and not (parsed.intent in SMALL_TALK_INTENTS and parsed.confidence >= 0.3):
        first = await other_problem.first_of_several(turn, text)
        if first is not None:
            # Unsure because it reports two problems, each clear on its own: no question, the first one first.
            await report.start(turn, text, parsed, first, draft=draft, chosen=False)
            return
        await clarify(turn, text, [i for i in clarification.candidates], parsed)
        return
    if parsed.intent in SMALL_TALK_INTENTS:
        smalltalk.reply(turn, parsed.intent)
        return
    await report.start(turn, text, parsed, parsed.intent, draft=draft)


def asks_to_cancel(text: str) -> bool:
    return bool(_CANCEL.search(common.plain(text[:300])))


def _first_ref(text: str) -> str | None:
    found = find_references(text)
    return found[0] if found else None


async def clarify(turn: Turn, text: str, candidates: list[Intent], parsed: ParseResult) -> None:
    """Ask which of the likely intents was meant, never guessing silently."""
    options = [i for i in candidates if i in _OFFERABLE]
    if not options and parsed.equipment:
        options = [Intent.HARDWARE_FAILURE, Intent.HOWTO]
    if not options:
        smalltalk.reply(turn, Intent.OUT_OF_SCOPE if parsed.intent is Intent.OUT_OF_SCOPE else Intent.HELP)
        return
    turn.state.reset()
    turn.state.step = Step.CLARIFY
    turn.state.clarify_text = text
    turn.state.clarify_options = [i.value for i in options]
    turn.say(
        "Je veux être sûr de bien comprendre. Votre message concerne plutôt :",
        [button(INTENT_FR[i], "intent", i.value) for i in options] + [button("Autre chose", "intent", "other")],
    )


async def on_intent_button(turn: Turn, value: str) -> bool:
    """intent:<intent> | intent:other, after a clarifying question."""
    state = turn.state
    if state.step is not Step.CLARIFY or not state.clarify_text:
        return False
    if value == "other":
        state.reset()
        turn.say("D'accord. Pouvez-vous reformuler votre demande en une phrase ?")
        return True
    if value not in state.clarify_options:
        return False
    text, intent = state.clarify_text, Intent(value)
    state.reset()
    parsed = await parse(turn, text)
    if intent is Intent.TICKET_STATUS:
        await status.show(turn, parsed.first("ticket_ref"))
        return True
    await report.start(turn, text, parsed, intent)
    return True

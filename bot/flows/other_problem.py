"""A message that reports two problems (« le vidéoprojecteur ne marche plus et la prise est
arrachée »): the report becomes one ticket, then the desk offers one for each other problem,
routed on its own (the rule: `handlers.problems`). Nothing is opened without her « oui ».
"""

from __future__ import annotations

from typing import Any

from bot.flows import common
from bot.payloads import button
from bot.state import Draft, Step
from bot.turn import Turn
from domain.vocabulary import Intent, SchoolStatus
from handlers.other_problems import beside_question_sentence, offer_sentence
from handlers.problems import find_problems, find_problems_beside_question, not_covered, pending_key, reading_of

YES = "Oui, ouvrir une autre demande"
NO = "Non merci"


def _school_id(turn: Turn, d: Draft | None = None) -> int | None:
    return (d.school_id if d is not None else None) or (turn.requester.school_id if turn.requester else None)


async def _problems(turn: Turn, d: Draft | None, text: str) -> list[dict[str, Any]]:
    school = await common.school(turn, _school_id(turn, d))
    status = SchoolStatus(school.status) if school is not None else SchoolStatus.PUBLIC
    found = await find_problems(turn.services.nlu, turn.ctx.territory, text[: common.MAX_TRIAGE_CHARS],
                                school_status=status)
    return [p.to_pending() for p in found]


async def report_beside_question(turn: Turn, text: str) -> None:
    """A message read as a status question that also reports a problem: the report of the problem
    starts (its ticket opens as any report's), the other problems it holds offered after it."""
    from bot.flows import report, triage

    school = await common.school(turn, _school_id(turn))
    status = SchoolStatus(school.status) if school is not None else SchoolStatus.PUBLIC
    found = await find_problems_beside_question(turn.services.nlu, turn.ctx.territory,
                                                text[: common.MAX_TRIAGE_CHARS], school_status=status)
    if not found:
        return
    problem, *rest = [p.to_pending() for p in found]
    turn.state.other_problems = rest
    turn.say(f"{beside_question_sentence(problem)} Je l'enregistre comme une nouvelle demande.")
    parsed = await triage.parse(turn, problem["text"])
    await report.start(turn, problem["text"], parsed, Intent(problem["intent"]), problem=problem)


async def first_of_several(turn: Turn, text: str) -> Intent | None:
    """The first problem's intent when the message reports several (None when it reports one)."""
    problems = await _problems(turn, None, text)
    return Intent(problems[0]["intent"]) if problems else None


async def detect(turn: Turn, d: Draft, text: str, *, chosen: bool = False) -> None:
    """Note on the draft the problems of her message when it reports several; unless she chose
    the intent herself (`chosen`), the draft becomes the first ticket's reading (`reading_of`)."""
    d.problems = await _problems(turn, d, text)
    if d.problems and d.intent and not d.asset_tag:
        intent, device = reading_of(d.problems, d.intent, d.equipment, key=pending_key)
        if chosen:
            # Her intent stands; the device is that of her problem of this intent, when one has it.
            same = [p for p in d.problems if p["intent"] == d.intent]
            intent, device = d.intent, (same[0]["equipment"] if len(same) == 1 else d.equipment)
        if (intent, device) != (d.intent, d.equipment):
            d.intent, d.equipment, d.equipment_known = intent, device, device is not None


def left_after(d: Draft, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The problems still without a ticket once the draft's ticket is open."""
    if not d.problems:
        return pending
    assert d.intent is not None
    left = not_covered(d.problems, d.intent, d.equipment, key=pending_key)
    # Said in the same message: the same room, unless the part names its own.
    return [{**p, "room": d.room} for p in left]


def left_unsolved(d: Draft) -> list[dict[str, Any]]:
    """The other problems once a tutorial solved the draft's one (no ticket was opened for it)."""
    return left_after(d, []) if d.problems and d.intent is not None else []


async def offer(turn: Turn, pending: list[dict[str, Any]]) -> None:
    """Ask whether to open a ticket for the next problem still without one."""
    if not pending:
        return
    problem = pending[0]
    turn.state.other_problems = pending
    turn.state.step = Step.OTHER_PROBLEM
    sentence = await offer_sentence(turn.session, turn.ctx, problem, _school_id(turn))
    turn.say(
        f"{sentence} Voulez-vous que j'ouvre une demande séparée pour ce problème ?",
        [button(YES, "more", "yes"), button(NO, "more", "no")],
    )


async def on_button(turn: Turn, value: str) -> bool:
    """more:yes (a report for the next problem) | more:no (nothing more)."""
    from bot.flows import report, triage

    state = turn.state
    if state.step is not Step.OTHER_PROBLEM or not state.other_problems:
        return False
    if value == "no":
        state.reset()
        turn.say("D'accord : je n'ouvre pas d'autre demande. Je reste à votre disposition.")
        return True
    if value != "yes":
        return False
    problem, rest = state.other_problems[0], state.other_problems[1:]
    state.other_problems = rest
    parsed = await triage.parse(turn, problem["text"])
    await report.start(turn, problem["text"], parsed, Intent(problem["intent"]), problem=problem)
    return True


async def on_text(turn: Turn, text: str) -> bool:
    """« oui » / « non » typed instead of pressing a button; anything else is a new message."""
    words = common.plain(text)
    if words.startswith(("oui", "ok", "d'accord", "volontiers")):
        return await on_button(turn, "yes")
    if words.startswith(("non", "pas la peine", "inutile")):
        return await on_button(turn, "no")
    return False

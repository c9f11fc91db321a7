"""Pressed buttons: parse the payload and hand it to its flow; anything stale gets a clear answer."""

from __future__ import annotations

from bot.flows import bad_input, deflection, onboarding, other_problem, report, smalltalk, status, tickets, triage
from bot.payloads import Payload, parse
from bot.turn import Turn

ONBOARDING_VERBS = frozenset({"school", "role", "here"})


async def dispatch(turn: Turn) -> None:
    payload = parse(turn.inbound.button)
    linked = turn.requester is not None and turn.requester.school_id is not None
    if payload is not None and not linked and payload.verb not in ONBOARDING_VERBS:
        onboarding.ask_school(turn, "Avant tout, j'ai besoin de connaître votre école.")
        return
    if payload is None or not await _handle(turn, payload):
        # Never « décrivez votre problème » to a teacher still signing up: her pending question.
        turn.say(bad_input.STALE_BUTTON if linked else bad_input.STALE_ONBOARDING)


async def _handle(turn: Turn, p: Payload) -> bool:
    """True when the button was valid and answered."""
    verb, arg = p.verb, p.args[0]
    if verb == "school":
        return await onboarding.on_school_button(turn, arg)
    if verb == "role":
        return await onboarding.on_role_button(turn, arg)
    if verb == "here":
        return await onboarding.on_here_button(turn, arg)
    if verb == "kb":
        return await deflection.on_kb_button(turn, arg)
    if verb == "eq":
        return await report.on_equipment_button(turn, arg)
    if verb == "skip":
        return await report.on_skip_button(turn, arg)
    if verb == "report":
        return await report.on_report_button(turn, arg)
    if verb == "edit":
        return await report.on_edit_button(turn, arg)
    if verb == "asset":
        return await report.on_asset_button(turn, arg)
    if verb == "dup":
        return await report.on_dup_button(turn, p.args)
    if verb == "intent":
        return await triage.on_intent_button(turn, arg)
    if verb == "cancel":
        return await tickets.on_cancel_button(turn, arg, p.int_arg(1))
    if verb == "add":
        return await tickets.on_add_button(turn, p.int_arg(0))
    if verb == "attach":
        return await tickets.on_attach_button(turn, arg)
    if verb == "resolved":
        return await tickets.on_resolved_button(turn, arg, p.int_arg(1))
    if verb == "rate":
        return await tickets.on_rate_button(turn, arg, p.int_arg(1))
    if verb == "status":
        return await status.on_status_button(turn, arg)
    if verb == "menu":
        return await _menu(turn, arg)
    if verb == "more":
        return await other_problem.on_button(turn, arg)
    return False


async def _menu(turn: Turn, value: str) -> bool:
    if value == "report":
        turn.state.reset()
        smalltalk.ask_for_problem(turn)
    elif value == "status":
        await status.listing(turn)
    elif value == "help":
        smalltalk.help_message(turn)
    else:
        return False
    return True

"""After onboarding: handle what the sender sent before being linked (text, deep link, files)."""

from __future__ import annotations

from bot.flows import common, deeplink, smalltalk, triage
from bot.payloads import button
from bot.state import Draft, Step
from bot.turn import Turn


async def held(turn: Turn) -> None:
    state = turn.state
    texts, start, files = list(state.held_texts), state.held_start, list(state.held_attachments)
    state.held_texts, state.held_start, state.held_attachments = [], None, []
    if start:
        await deeplink.start(turn, start)
        if state.draft is not None:
            state.draft.attachment_ids = state.draft.attachment_ids + files
        if texts and state.draft is not None:
            await triage.handle_text(turn, "\n".join(texts), draft=state.draft)
        return
    if texts:
        turn.say("Je reprends votre premier message.")
        await triage.handle_text(turn, "\n".join(texts))
        if files and state.draft is not None:
            state.draft.attachment_ids = state.draft.attachment_ids + files
        elif files:
            await ask_where(turn, files)
        return
    if files:
        await ask_where(turn, files)
        return
    smalltalk.ask_for_problem(turn)


def describe_with_files(turn: Turn, attachment_ids: list[int]) -> None:
    """Files with no words: start a report and ask for the description."""
    turn.state.reset()
    turn.state.draft = Draft(attachment_ids=list(attachment_ids))
    turn.state.step = Step.DESCRIBE
    turn.say("Merci pour le fichier. Décrivez le problème en une phrase : je l'ajouterai à votre signalement.")


async def ask_where(turn: Turn, attachment_ids: list[int]) -> None:
    """A file with nothing to attach it to: an open ticket, or a new problem?"""
    tickets = list(await common.open_tickets(turn))[:4]
    if not tickets:
        describe_with_files(turn, attachment_ids)
        return
    turn.state.reset()
    turn.state.step = Step.ATTACH_WHERE
    turn.state.held_attachments = list(attachment_ids)
    turn.say(
        "Merci pour le fichier. À quelle demande faut-il l'ajouter ?",
        [button(f"Demande {t.reference}", "attach", t.id) for t in tickets]
        + [button("Un nouveau problème", "attach", "new")],
    )

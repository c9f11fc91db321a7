"""Pick the flow that answers a turn: bad input, deep link, button, onboarding, files or text."""

from __future__ import annotations

from bot import messages as m
from bot.flows import bad_input, buttons, common, deeplink, onboarding, other_problem, replay, report, tickets, triage
from bot.state import Step
from bot.turn import Turn
from handlers import assets
from domain.vocabulary import SMALL_TALK_INTENTS, TICKET_INTENTS, Intent, TicketStatus
from nlu import CLARIFY_THRESHOLD


async def route(turn: Turn) -> None:
    inbound = turn.inbound
    if inbound.chat_is_group:
        turn.say(bad_input.GROUP_CHAT)
        return
    if inbound.kind in bad_input.UNSUPPORTED_KINDS:
        bad_input.unsupported(turn)
        return
    if inbound.kind == m.KIND_BUTTON:
        await buttons.dispatch(turn)
        return
    if turn.requester is None or turn.requester.school_id is None:
        await onboarding.on_message(turn)
        return
    if inbound.kind == m.KIND_START:
        await deeplink.start(turn, inbound.start_payload)
        return
    files = list(turn.attachment_ids)
    if any(a.too_large for a in inbound.attachments):
        turn.say(bad_input.TOO_LARGE)
    text = (inbound.text or "").strip()
    if files:
        await _files(turn, text, files)
        return
    if not common.has_words(text):
        if not inbound.attachments:
            turn.say(bad_input.EMPTY)
        return
    if len(text) > common.MAX_TRIAGE_CHARS:
        turn.say(bad_input.LONG)
    if inbound.edited:
        await _edited(turn, text)
        return
    await _text(turn, text)


async def _text(turn: Turn, text: str) -> None:
    step = turn.state.step
    if step is Step.ADD_TO_TICKET:
        await tickets.add_to_ticket(turn, text, [])
        return
    if step is Step.CANCEL_CONFIRM and await tickets.cancel_text(turn, text):
        return
    if step is Step.DEFLECT and await _deflect_text(turn, text):
        return
    if step is Step.OTHER_PROBLEM and await other_problem.on_text(turn, text):
        return
    if report.in_report(turn) and step not in (Step.DEFLECT, Step.SAME_OR_NEW, Step.OFFER_TICKET):
        if await report.on_text(turn, text):
            return
    if step is Step.ATTACH_WHERE and turn.state.held_attachments:
        held = list(turn.state.held_attachments)
        turn.state.held_attachments = []
        turn.state.reset()
        await triage.handle_text(turn, text)
        if turn.state.draft is not None:
            turn.state.draft.attachment_ids = turn.state.draft.attachment_ids + held
        return
    if await _device_note(turn, text):
        return
    if step is Step.IDLE and await _answers_waiting_ticket(turn, text):
        return
    turn.state.reset()
    await triage.handle_text(turn, text)


async def _device_note(turn: Turn, text: str) -> bool:
    """« note SEM-000123 : câble HDMI rebranché, ça remarche »: a line in the device's logbook,
    no ticket (for a teacher linked to her school; the shared use case checks the device)."""
    note = assets.parse_device_note(text)
    if note is None or turn.requester is None or turn.requester.school_id is None:
        return False
    result = await assets.teacher_note(turn.session, territory_id=turn.territory.id, requester=turn.requester,
                                       note=note, channel=turn.inbound.channel.value, now=turn.now)
    turn.state.reset()
    turn.say(result.message)
    return True


async def _answers_waiting_ticket(turn: Turn, text: str) -> bool:
    """While a ticket of hers waits on her, a free-text message is her answer, unless it is
    clearly something else: small talk, a status question, a cancellation, or a new problem
    with other equipment (which goes on to the report flow and its « même problème ? » question)."""
    waiting = [t for t in await common.open_tickets(turn) if t.status == TicketStatus.WAITING]
    if not waiting:
        return False
    ticket = waiting[0]
    parsed = await triage.parse(turn, text)
    if parsed.intent in SMALL_TALK_INTENTS and parsed.confidence >= CLARIFY_THRESHOLD:
        return False  # « merci ! », « bonjour » (an unsure reading of a typed answer is the answer)
    if parsed.intent is Intent.TICKET_STATUS or triage.asks_to_cancel(text):
        return False
    new_problem = (parsed.intent in TICKET_INTENTS and parsed.confidence >= CLARIFY_THRESHOLD and parsed.equipment
                   and ticket.equipment and parsed.equipment != ticket.equipment)
    if new_problem:
        return False
    own = await common.own_ticket(turn, ticket.id)
    if own is None:
        return False
    await common.add_message(turn, own, text)
    turn.say(f"Merci, c'est ajouté à votre demande {own.reference} : l'agent qui vous a posé la question "
             "en est informé et reprend son traitement.")
    return True


async def _deflect_text(turn: Turn, text: str) -> bool:
    """« oui ça marche » / « non toujours pas » typed instead of pressing a button."""
    from bot.flows import deflection

    words = common.plain(text)
    if words.startswith(("oui", "ca marche", "ca a marche", "c'est bon", "resolu", "merci")):
        return await deflection.on_kb_button(turn, "ok")
    if words.startswith(("non", "toujours", "ca ne marche", "pas mieux", "rien")):
        return await deflection.on_kb_button(turn, "ko")
    return False


async def _files(turn: Turn, caption: str, files: list[int]) -> None:
    """A photo or document: to the ticket being completed, the draft in progress, or ask where."""
    state = turn.state
    if state.step is Step.ADD_TO_TICKET:
        await tickets.add_to_ticket(turn, caption or None, files)
        return
    if state.draft is not None and report.in_report(turn):
        state.draft.attachment_ids = state.draft.attachment_ids + files
        if caption:
            state.draft.text = f"{state.draft.text}\n{caption}".strip()
        turn.say("Merci, le fichier est joint à votre signalement.")
        if state.step is Step.DETAILS:
            state.draft.details_asked = True
            await report.advance(turn)
        elif state.step is Step.DESCRIBE and not common.has_words(state.draft.text):
            turn.say("Décrivez maintenant le problème en une phrase.")
        elif state.step is Step.DESCRIBE:
            await triage.handle_text(turn, state.draft.text, draft=state.draft)
        return
    if caption and common.has_words(caption):
        state.reset()
        await triage.handle_text(turn, caption)
        if state.draft is not None:
            state.draft.attachment_ids = state.draft.attachment_ids + files
            return
    await replay.ask_where(turn, files)


async def _edited(turn: Turn, text: str) -> None:
    """An edited message: it corrects the description in progress, never opens a second ticket."""
    d = turn.state.draft
    if d is not None and report.in_report(turn):
        d.text = text
        turn.say("C'est noté, j'ai pris en compte votre message corrigé.")
        if turn.state.step is Step.CONFIRM:
            await report.summary(turn)
        return
    turn.say(
        "J'ai bien noté la modification de votre message. S'il s'agit d'un nouveau problème, "
        "envoyez-le dans un nouveau message."
    )

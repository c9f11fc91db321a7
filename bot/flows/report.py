"""Report a problem: gather only what is missing, confirm in one summary, open the ticket.

Order of the questions: is it an open ticket's problem (same or new?), a tutorial first when
one fits, then equipment, room, optional asset tag or photo, and the summary.
"""

from __future__ import annotations

import re


from typing import Any

from bot.flows import common, deflection, other_problem, theft
from bot.payloads import button
from bot.state import Draft, Step
from bot.turn import Turn
from domain.formats import quantity_in
from domain.labels import EQUIPMENT_FR, INTENT_FR
from domain.vocabulary import Channel, Equipment, Intent, TicketStatus, TICKET_INTENTS
from handlers import teacher_tickets
from handlers.problems import without
from handlers.report import NotATicket, ReportDraft, TriedArticle, equipment_label, open_report
from nlu import ParseResult

NEEDS_EQUIPMENT = frozenset({Intent.HARDWARE_FAILURE, Intent.THEFT, Intent.DAMAGE})
NEEDS_ROOM = frozenset({Intent.HARDWARE_FAILURE, Intent.DAMAGE, Intent.BUILDING_WORKS})
ASKS_DETAILS = frozenset({Intent.HARDWARE_FAILURE, Intent.DAMAGE, Intent.THEFT})
#: Equipment offered as buttons when none was named, most reported first.
COMMON_EQUIPMENT = (
    Equipment.PROJECTOR, Equipment.INTERACTIVE_DISPLAY, Equipment.DESKTOP,
    Equipment.LAPTOP, Equipment.TABLET, Equipment.PRINTER,
)
_TAG = re.compile(r"\b([A-Za-z]{2,5}-\d{3,8})\b")


async def start(turn: Turn, text: str, parsed: ParseResult, intent: Intent, *, draft: Draft | None = None,
                problem: dict[str, Any] | None = None, chosen: bool | None = None) -> None:
    """Begin (or refine) a report from a triaged message; `problem`: one problem of an earlier
    message that reported several (`bot.flows.other_problem`); `chosen`: the intent is hers (a
    clarifying question's answer), not the model's (default: when it differs from the parse)."""
    d = draft or Draft()
    d.text = f"{d.text}\n{text}".strip() if draft and draft.text and draft.text != text else text
    d.intent = intent.value
    d.confidence = parsed.confidence
    if parsed.equipment and not d.asset_tag:
        d.equipment, d.equipment_known = parsed.equipment, True
    if parsed.first("room") and not d.room:
        d.room, d.room_asked = parsed.first("room"), True
    tag = parsed.first("asset_tag") or _tag_in(text)
    if tag and not d.asset_tag:
        await _apply_asset(turn, d, tag)
    if intent is Intent.HOWTO:
        d.fallback_intent = _fallback_intent(parsed, d)
    if problem is not None:
        if not d.equipment_known and problem.get("equipment"):
            d.equipment, d.equipment_known = problem["equipment"], True
        if not d.room and problem.get("room"):
            d.room, d.room_asked = problem["room"], True
    elif draft is None and intent in TICKET_INTENTS:
        await other_problem.detect(turn, d, text, chosen=intent is not parsed.intent if chosen is None else chosen)
    pending = turn.state.other_problems if problem is not None else []
    turn.state.reset()
    turn.state.draft = d
    turn.state.other_problems = pending
    await advance(turn)


def _tag_in(text: str) -> str | None:
    match = _TAG.search(text)
    return match.group(1).upper() if match else None


async def _apply_asset(turn: Turn, d: Draft, tag: str, *, other_school_confirmed: bool = False) -> bool:
    """Fill the draft from the inventory; False when no device carries this tag.

    A device of another school than the teacher's changes nothing yet: she is asked first
    (`Step.ASSET_SCHOOL`), never moved to that school silently. What she wrote (the room)
    wins over the inventory's record.
    """
    asset = await teacher_tickets.asset_by_tag(turn.session, turn.territory.id, tag)
    if asset is None:
        return False
    own_school = turn.requester.school_id if turn.requester else None
    if (not other_school_confirmed and asset.school_id and own_school and asset.school_id != own_school):
        d.other_school_tag = asset.tag
        return True
    d.other_school_tag = None
    d.asset_tag = asset.tag
    d.equipment, d.equipment_known = asset.type, True
    if asset.room is not None and not d.room:
        d.room, d.room_asked = asset.room.name, True
    d.details_asked = True
    d.school_id = asset.school_id or d.school_id
    return True


async def _ask_which_school(turn: Turn, d: Draft) -> bool:
    """The tag is another school's device: that one, or a device of her own school?"""
    tag = d.other_school_tag
    asset = await teacher_tickets.asset_by_tag(turn.session, turn.territory.id, tag) if tag else None
    own = await common.school(turn, turn.requester.school_id if turn.requester else None)
    if asset is None or own is None:
        d.other_school_tag = None
        return False
    other = await common.school(turn, asset.school_id)
    where = f"{other.name} ({other.commune.name})" if other is not None else "une autre école"
    device = EQUIPMENT_FR.get(asset.type, asset.type)
    turn.state.step = Step.ASSET_SCHOOL
    turn.say(
        f"L'étiquette {asset.tag} ({device}) est celle d'une autre école : {where}. "
        f"Votre école : {own.name} ({own.commune.name}).\n"
        "Le problème concerne-t-il bien ce matériel ?",
        [button("Oui, ce matériel-là", "asset", "other"), button("Non, c'est dans mon école", "asset", "mine")],
    )
    return True


async def on_asset_button(turn: Turn, value: str) -> bool:
    """asset:other (the other school's device is meant) | asset:mine (a device of her school)."""
    d = turn.state.draft
    if turn.state.step is not Step.ASSET_SCHOOL or d is None or d.other_school_tag is None:
        return False
    if value == "other":
        await _apply_asset(turn, d, d.other_school_tag, other_school_confirmed=True)
    elif value == "mine":
        d.other_school_tag, d.asset_tag, d.details_asked = None, None, False
        turn.state.step = Step.IDLE
    else:
        return False
    await advance(turn)
    return True


def _fallback_intent(parsed: ParseResult, d: Draft) -> str:
    """The ticket a question becomes when its tutorial did not help."""
    for score in parsed.intent_ranking:
        if score.intent in TICKET_INTENTS and score.intent not in (Intent.THEFT, Intent.DAMAGE):
            return score.intent.value
    return (Intent.HARDWARE_FAILURE if d.equipment else Intent.SOFTWARE_ISSUE).value


async def advance(turn: Turn) -> None:
    """Ask the next missing thing, or show the summary."""
    d = turn.state.draft
    assert d is not None and d.intent is not None
    intent = Intent(d.intent)
    if d.other_school_tag and await _ask_which_school(turn, d):
        return
    if not d.duplicate_checked:
        d.duplicate_checked = True
        if await _ask_same_or_new(turn, d):
            return
    if not d.deflection_done:
        d.deflection_done = True
        if await deflection.offer(turn, d):
            return
        if intent is Intent.HOWTO:
            turn.state.step = Step.OFFER_TICKET
            turn.say(
                "Je n'ai pas de tutoriel pour cette question. Voulez-vous que je la transmette au support ?",
                [button("Oui, ouvrir une demande", "report", "open"), button("Non merci", "report", "cancel")],
            )
            return
    if intent is Intent.HOWTO:
        d.intent = d.fallback_intent or Intent.SOFTWARE_ISSUE.value
        intent = Intent(d.intent)
    if intent in NEEDS_EQUIPMENT and not d.equipment_known:
        turn.state.step = Step.EQUIPMENT
        turn.say(
            "Quel appareil est concerné ?",
            [button(EQUIPMENT_FR[e], "eq", e.value) for e in COMMON_EQUIPMENT] + [button("Autre", "eq", "other")],
        )
        return
    if intent in NEEDS_ROOM and not d.room_asked:
        turn.state.step = Step.ROOM
        turn.say("Dans quelle salle ou quelle classe ? (par exemple « salle 3 » ou « classe de CE1 »)",
                 [button("Passer", "skip", "room")])
        return
    if intent in ASKS_DETAILS and not d.details_asked and not d.asset_tag:
        turn.state.step = Step.DETAILS
        turn.say(await _details_question(turn, d), [button("Passer", "skip", "details")])
        return
    if d.from_label and d.asset_tag and common.has_words(d.text):
        # The label told the device, its room and its school: her message is the whole report.
        await send(turn)
        return
    await summary(turn)


#: Channels where a teacher can send a file with a message (the web chat has no upload).
FILE_CHANNELS = frozenset({Channel.TELEGRAM, Channel.EMAIL})


async def _details_question(turn: Turn, d: Draft) -> str:
    """Ask for the asset tag, with an example from the territory's own labels, and a photo where possible."""
    school_id = turn.requester.school_id if turn.requester else None
    example = await teacher_tickets.example_tag(turn.session, turn.territory.id, school_id=school_id,
                                                equipment=d.equipment)
    tag = "indiquez le numéro de l'étiquette collée sur l'appareil" + (
        f" (par exemple {example})" if example else "")
    if turn.inbound.channel in FILE_CHANNELS:
        return f"Facultatif : {tag}, ou envoyez une photo du problème."
    return f"Facultatif : {tag}."


async def _ask_same_or_new(turn: Turn, d: Draft) -> bool:
    """A new problem is a new ticket: ask instead of appending to an open ticket."""
    if turn.requester is None:
        return False
    candidates = await common.open_tickets(turn)
    same = next((t for t in candidates if d.equipment and t.equipment == d.equipment), None)
    same = same or next((t for t in candidates if t.status == TicketStatus.WAITING), None)
    if same is None:
        return False
    turn.state.step = Step.SAME_OR_NEW
    turn.state.ticket_id = same.id
    what = common.excerpt(same.subject, 80)
    turn.say(
        f"S'agit-il de votre demande {same.reference} ({what}) ou d'un nouveau problème ?",
        [button(f"Ma demande {same.reference}", "dup", "same", same.id), button("Un nouveau problème", "dup", "new")],
    )
    return True


async def on_dup_button(turn: Turn, args: tuple[str, ...]) -> bool:
    state, d = turn.state, turn.state.draft
    if state.step is not Step.SAME_OR_NEW or d is None:
        return False
    if args[0] == "new" and len(args) == 1:
        state.step, state.ticket_id = Step.IDLE, None
        await advance(turn)
        return True
    if args[0] != "same" or len(args) != 2 or not args[1].isdigit() or int(args[1]) != state.ticket_id:
        return False
    ticket = await common.own_ticket(turn, int(args[1]))
    if ticket is None or not common.is_open(ticket):
        return False
    await common.add_message(turn, ticket, d.text, d.attachment_ids)
    state.reset()
    turn.say(f"C'est noté : j'ai ajouté votre message à la demande {ticket.reference}. L'équipe en est informée.")
    return True


async def summary(turn: Turn) -> None:
    d = turn.state.draft
    assert d is not None and d.intent is not None
    turn.state.step = Step.CONFIRM
    lines = ["Voici le résumé de votre demande :", f"• Objet : {INTENT_FR[d.intent]}"]
    if d.equipment:
        device = equipment_label(d.equipment, quantity_in(d.text) or 1)
        lines.append(f"• Matériel : {device}" + (f" (étiquette {d.asset_tag})" if d.asset_tag else ""))
    if d.room:
        lines.append(f"• Lieu : {d.room}")
    school = await common.school(turn, d.school_id or (turn.requester.school_id if turn.requester else None))
    if school is not None:
        lines.append(f"• École : {school.name} ({school.commune.name})")
    if d.attachment_ids:
        lines.append(f"• Pièce(s) jointe(s) : {len(d.attachment_ids)}")
    if d.tried_articles:
        lines.append("• Tutoriel déjà essayé : oui")
    lines.append(f"• Description : « {common.excerpt(d.text, 300)} »")
    lines.append("Je l'envoie ?")
    turn.say("\n".join(lines), [
        button("Envoyer", "report", "send"), button("Modifier", "report", "edit"), button("Annuler", "report", "cancel"),
    ])


REPORT_STEPS = frozenset({
    Step.DEFLECT, Step.OFFER_TICKET, Step.EQUIPMENT, Step.ROOM, Step.DETAILS, Step.CONFIRM, Step.EDIT,
    Step.SAME_OR_NEW, Step.DESCRIBE, Step.ASSET_SCHOOL,
})


async def on_report_button(turn: Turn, value: str) -> bool:
    """report:send | edit | cancel | open."""
    state, d = turn.state, turn.state.draft
    if d is None or state.step not in REPORT_STEPS:
        return False
    if value == "cancel":
        state.reset()
        turn.say("C'est annulé : rien n'a été envoyé. Je reste à votre disposition.")
        return True
    if value == "open" and state.step is Step.OFFER_TICKET:
        await advance(turn)
        return True
    if value == "edit" and state.step is Step.CONFIRM:
        state.step = Step.EDIT
        turn.say("Que voulez-vous modifier ?", [
            button("La description", "edit", "text"), button("Le matériel", "edit", "eq"),
            button("Le lieu", "edit", "room"),
        ])
        return True
    if value == "send" and state.step is Step.CONFIRM:
        await send(turn)
        return True
    return False


async def on_edit_button(turn: Turn, value: str) -> bool:
    d = turn.state.draft
    if turn.state.step is not Step.EDIT or d is None:
        return False
    if value == "text":
        turn.state.step = Step.DESCRIBE
        d.text = ""
        turn.say("D'accord : décrivez de nouveau le problème en quelques mots.")
        return True
    if value == "eq":
        d.equipment, d.equipment_known, d.asset_tag = None, False, None
        d.intent = d.intent if Intent(d.intent or "") in NEEDS_EQUIPMENT else Intent.HARDWARE_FAILURE.value
    elif value == "room":
        d.room, d.room_asked = None, False
        turn.state.step = Step.ROOM
        turn.say("Dans quelle salle ou quelle classe ?", [button("Passer", "skip", "room")])
        return True
    else:
        return False
    await advance(turn)
    return True


async def on_equipment_button(turn: Turn, value: str) -> bool:
    d = turn.state.draft
    if turn.state.step is not Step.EQUIPMENT or d is None:
        return False
    if value != "other" and value not in Equipment.__members__.values():
        return False
    d.equipment = None if value == "other" else value
    d.equipment_known = True
    await advance(turn)
    return True


async def on_skip_button(turn: Turn, value: str) -> bool:
    d = turn.state.draft
    if d is None:
        return False
    if value == "room" and turn.state.step is Step.ROOM:
        d.room_asked = True
    elif value == "details" and turn.state.step is Step.DETAILS:
        d.details_asked = True
    else:
        return False
    await advance(turn)
    return True


async def on_text(turn: Turn, text: str) -> bool:
    """Text while a report is in progress; False when it is not an answer to the question."""
    from bot.flows import triage

    state, d = turn.state, turn.state.draft
    if d is None:
        return False
    step = state.step
    if step is Step.EQUIPMENT:
        parsed = await triage.parse(turn, text)
        d.equipment, d.equipment_known = parsed.equipment, True
        if parsed.equipment is None:
            d.text = f"{d.text}\nAppareil : {text}"
    elif step is Step.ROOM:
        d.room_asked = True
        if not common.is_skip(text):
            d.room = common.excerpt(text, 120)
    elif step is Step.DETAILS:
        d.details_asked = True
        tag = _tag_in(text)
        if tag and not await _apply_asset(turn, d, tag):
            d.asset_tag = tag
        elif not tag and not common.is_skip(text):
            d.text = f"{d.text}\n{text}"
    elif step is Step.ASSET_SCHOOL:
        words = common.plain(text)
        if words.startswith(("oui", "ce materiel", "celui")):
            return await on_asset_button(turn, "other")
        if words.startswith(("non", "mon ecole", "dans mon ecole")):
            return await on_asset_button(turn, "mine")
        await advance(turn)  # asks again
        return True
    elif step in (Step.DESCRIBE, Step.EDIT):
        await triage.handle_text(turn, text, draft=d)
        return True
    elif step is Step.CONFIRM:
        words = common.plain(text)
        if words.startswith(("envoy", "oui", "ok", "valid")):
            await send(turn)
            return True
        if words.startswith(("annul", "non")):
            state.reset()
            turn.say("C'est annulé : rien n'a été envoyé. Je reste à votre disposition.")
            return True
        d.text = f"{d.text}\n{text}"
        turn.say("J'ai ajouté cette précision.")
    else:
        return False
    await advance(turn)
    return True


def _tried(turn: Turn, slug: str) -> TriedArticle:
    """A tutorial the teacher tried, with the title agents read (marked withdrawn if it left the KB since)."""
    article = turn.services.kb.get(slug)
    return TriedArticle(slug, article.title if article is not None else f"{slug} (article retiré)")


async def send(turn: Turn) -> None:
    """Open the ticket(s) and answer with the reference, who handles it and by when."""
    d = turn.state.draft
    assert d is not None and d.intent is not None and turn.requester is not None
    pending = other_problem.left_after(d, turn.state.other_problems)
    draft = ReportDraft(
        text=d.text, intent=Intent(d.intent), channel=turn.inbound.channel,
        requester_id=turn.requester.id, school_id=d.school_id or turn.requester.school_id,
        equipment=Equipment(d.equipment) if d.equipment else None, asset_tag=d.asset_tag,
        room=d.room, confidence=d.confidence, tried_articles=tuple(_tried(turn, slug) for slug in d.tried_articles),
        attachment_ids=tuple(d.attachment_ids),
        routing_text=without(d.text, pending) if d.problems else None,
    )
    try:
        outcome = await open_report(turn.session, turn.ctx, draft)
    except NotATicket:
        turn.state.reset()
        turn.say(
            "Cette question ne donne pas lieu à une demande d'intervention. "
            "Écrivez « aide » pour voir ce que je peux faire, ou décrivez une panne précise."
        )
        return
    first = outcome.tickets[0]
    if d.attachment_ids:
        ticket = await common.own_ticket(turn, first.ticket_id)
        if ticket is not None:
            await teacher_tickets.attach_files(
                turn.session, ticket, requester_id=turn.requester.id, channel=turn.inbound.channel.value,
                attachment_ids=d.attachment_ids, now=turn.now,
            )
    turn.ticket_id = first.ticket_id
    turn.state.reset()
    turn.say(outcome.message + "\nPour suivre vos demandes, écrivez « où en est ma demande ? ».")
    if Intent(d.intent) in (Intent.THEFT, Intent.DAMAGE):
        await theft.checklist(turn, outcome, d)
    await other_problem.offer(turn, pending)


def in_report(turn: Turn) -> bool:
    return turn.state.draft is not None and turn.state.step in REPORT_STEPS


"""What a teacher does to an existing ticket: add to it, cancel it, confirm its resolution, rate it."""

from __future__ import annotations

from bot.flows import common
from bot.payloads import button
from bot.state import Step
from bot.turn import Turn
from handlers import teacher_tickets as tickets
from domain.vocabulary import TicketStatus

RATING_LABELS = {1: "1 – Pas satisfait", 2: "2", 3: "3", 4: "4", 5: "5 – Très satisfait"}


async def ask_cancel(turn: Turn, reference: str | None) -> None:
    """« annuler ma demande 2026-00012 » → confirm first."""
    ticket = await common.own_ticket_by_reference(turn, reference) if reference else None
    if ticket is None:
        if reference:
            turn.say(f"Je ne trouve pas de demande {reference} à votre nom.")
        tickets = [t for t in await common.open_tickets(turn)][:5]
        if not tickets:
            turn.say("Vous n'avez aucune demande en cours à annuler.")
            return
        turn.say("Quelle demande voulez-vous annuler ?",
                 [button(f"Annuler {t.reference}", "cancel", "ask", t.id) for t in tickets])
        return
    await _confirm_cancel(turn, ticket.id)


async def _confirm_cancel(turn: Turn, ticket_id: int) -> bool:
    ticket = await common.own_ticket(turn, ticket_id)
    if ticket is None:
        return False
    if not common.is_open(ticket):
        turn.say(f"La demande {ticket.reference} n'est plus en cours : elle ne peut pas être annulée.")
        return True
    turn.state.reset()
    turn.state.step, turn.state.ticket_id = Step.CANCEL_CONFIRM, ticket.id
    turn.say(f"Voulez-vous vraiment annuler la demande {ticket.reference} ({common.excerpt(ticket.subject, 80)}) ?", [
        button("Oui, l'annuler", "cancel", "yes", ticket.id), button("Non, la garder", "cancel", "no", ticket.id),
    ])
    return True


async def on_cancel_button(turn: Turn, action: str, ticket_id: int | None) -> bool:
    if ticket_id is None:
        return False
    if action == "ask":
        return await _confirm_cancel(turn, ticket_id)
    if turn.state.step is not Step.CANCEL_CONFIRM or turn.state.ticket_id != ticket_id:
        return False
    turn.state.reset()
    ticket = await common.own_ticket(turn, ticket_id)
    if ticket is None:
        return False
    if action == "no":
        turn.say(f"Très bien, la demande {ticket.reference} reste en cours.")
        return True
    if action != "yes":
        return False
    if await tickets.cancel(turn.session, turn.ctx, ticket, **_who(turn)) is tickets.Done.NOT_OPEN:
        turn.say(f"La demande {ticket.reference} n'est plus en cours : elle ne peut pas être annulée.")
        return True
    turn.ticket_id = ticket.id
    turn.say(f"C'est fait : la demande {ticket.reference} est annulée. Le service concerné en est informé.")
    return True


async def cancel_text(turn: Turn, text: str) -> bool:
    """Free text while a cancellation waits for its confirmation."""
    words = common.plain(text)
    if words.startswith(("oui", "ok", "confirm")):
        return await on_cancel_button(turn, "yes", turn.state.ticket_id)
    if words.startswith(("non", "garde")):
        return await on_cancel_button(turn, "no", turn.state.ticket_id)
    return False


async def on_add_button(turn: Turn, ticket_id: int | None) -> bool:
    ticket = await common.own_ticket(turn, ticket_id)
    if ticket is None:
        return False
    if (not common.is_open(ticket) and ticket.status != TicketStatus.RESOLVED
            and not tickets.can_reopen(turn.ctx, ticket, turn.now)):
        turn.say(f"La demande {ticket.reference} est close. Pour un nouveau problème, décrivez-le simplement ici.")
        return True
    turn.state.reset()
    turn.state.step, turn.state.ticket_id = Step.ADD_TO_TICKET, ticket.id
    photo = " ou envoyez une photo" if turn.inbound.channel in ("telegram", "email") else ""
    turn.say(f"Écrivez votre message{photo} : je l'ajoute à la demande {ticket.reference}.")
    return True


async def add_to_ticket(turn: Turn, text: str | None, attachment_ids: list[int]) -> None:
    """The next text or file after « Ajouter un message » goes to that ticket."""
    ticket = await common.own_ticket(turn, turn.state.ticket_id)
    turn.state.reset()
    if ticket is None:
        turn.say("Je ne retrouve pas cette demande. Écrivez « où en est ma demande ? » pour voir vos demandes.")
        return
    before = ticket.status
    await common.add_message(turn, ticket, text, attachment_ids)
    if ticket.status == TicketStatus.REOPENED and before != TicketStatus.REOPENED:
        turn.say(f"C'est ajouté à votre demande {ticket.reference}, que je rouvre : l'équipe reprend son traitement.")
        return
    turn.say(f"C'est ajouté à votre demande {ticket.reference}. L'équipe en est informée.")


async def on_attach_button(turn: Turn, value: str) -> bool:
    """attach:<ticket id> | attach:new, for a file received with nothing to attach it to."""
    from bot.flows import replay

    held = list(turn.state.held_attachments)
    if turn.state.step is not Step.ATTACH_WHERE or not held:
        return False
    if value == "new":
        turn.state.held_attachments = []
        replay.describe_with_files(turn, held)
        return True
    ticket = await common.own_ticket(turn, int(value)) if value.isdigit() else None
    if ticket is None:
        return False
    turn.state.held_attachments = []
    turn.state.reset()
    await common.add_message(turn, ticket, None, held)
    turn.say(f"C'est ajouté à votre demande {ticket.reference}. Merci !")
    return True


async def on_resolved_button(turn: Turn, answer: str, ticket_id: int | None) -> bool:
    """resolved:yes|no:<id>, after an agent resolved the ticket."""
    ticket = await common.own_ticket(turn, ticket_id)
    if ticket is None or answer not in ("yes", "no"):
        return False
    done = await tickets.answer_resolution(turn.session, turn.ctx, ticket, solved=answer == "yes", **_who(turn))
    if done is tickets.Done.NOT_RESOLVED:
        turn.say(f"La demande {ticket.reference} est déjà {status_word(ticket.status)} : merci pour votre retour.")
        return True
    if answer == "yes":
        turn.ticket_id = ticket.id
        turn.state.reset()
        ask_rating(turn, ticket.id, ticket.reference)
        return True
    turn.ticket_id = ticket.id
    turn.state.reset()
    turn.state.step, turn.state.ticket_id = Step.ADD_TO_TICKET, ticket.id
    turn.say(f"Je rouvre la demande {ticket.reference}. Que se passe-t-il encore ? Décrivez-le en quelques mots.")
    return True


def status_word(value: str) -> str:
    from domain.labels import STATUS_FR

    return STATUS_FR.get(value, value).lower()


def ask_rating(turn: Turn, ticket_id: int, reference: str) -> None:
    turn.say(
        f"Merci ! La demande {reference} est close. Êtes-vous satisfait·e de son traitement ? (de 1 à 5)",
        [button(label, "rate", score, ticket_id) for score, label in RATING_LABELS.items()],
    )


async def on_rate_button(turn: Turn, score: str, ticket_id: int | None) -> bool:
    ticket = await common.own_ticket(turn, ticket_id)
    if ticket is None or not score.isdigit() or int(score) not in RATING_LABELS:
        return False
    done = await tickets.rate(turn.session, ticket, score=int(score), **_who(turn))
    if done is tickets.Done.ALREADY_RATED:
        turn.say("Vous avez déjà donné votre avis sur cette demande : merci !")
        return True
    if done is not tickets.Done.DONE:
        return False
    turn.ticket_id = ticket.id
    turn.say("Merci pour votre avis ! Il aide les équipes à s'améliorer.")
    return True


def _who(turn: Turn) -> dict[str, object]:
    """The requester, the door and the instant of a teacher's action, as the use cases take them."""
    return {"requester_id": turn.requester.id if turn.requester else None,
            "channel": turn.inbound.channel.value, "now": turn.now}

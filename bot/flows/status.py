"""« Où en est ma demande ? »: the teacher's open tickets, or one ticket's history (own tickets only)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.flows import common
from handlers import teacher_tickets
from bot.payloads import button
from bot.turn import Turn
from desk.models import Ticket
from desk.sla_text import format_commitment_fr
from domain.labels import EQUIPMENT_FR, STATUS_FR

MAX_LISTED = 8
MAX_BUTTONS = 5
MAX_HISTORY = 8
EVENT_FR = {
    "created": "Demande enregistrée",
    "message": "Votre message",
    "reply": "Réponse du support",
    "question": "Question du support",
    "assigned": "Prise en charge par un agent",
    "reroute": "Transmise à un autre service",
    "kb": "Tutoriel essayé",
    "satisfaction": "Votre avis",
    "merged": "Regroupée avec une autre demande",
    "asset_linked": "Matériel associé à la demande",
    "claim_step": "Dossier de sinistre : étape enregistrée",
    "claim_line": "Dossier de sinistre : matériel complété",
    "close_notice": "Avis de clôture automatique",
    "call": "Appel enregistré par le support",
    "class_change": "Fermeture ou ouverture de classe enregistrée",
}
#: What the teacher reads for an event no table names yet, rather than its identifier.
OTHER_EVENT_FR = "Mise à jour de la demande"
#: Events whose words the teacher is shown: her own messages and what the support wrote her.
_QUOTED = frozenset({"message", "reply", "question"})


def _what(ticket: Ticket) -> str:
    return EQUIPMENT_FR.get(ticket.equipment or "", "") or common.excerpt(ticket.subject, 60)


async def show(turn: Turn, reference: str | None) -> None:
    if reference:
        ticket = await common.own_ticket_by_reference(turn, reference)
        if ticket is None:
            turn.say(f"Je ne trouve pas de demande {reference} à votre nom. Voici vos demandes en cours :")
            await listing(turn)
            return
        await history(turn, ticket)
        return
    await listing(turn)


async def listing(turn: Turn) -> None:
    tickets = list(await common.open_tickets(turn))
    if not tickets:
        turn.say("Vous n'avez aucune demande en cours. Décrivez-moi un problème si besoin : je l'enregistre.")
        return
    dues = await common.due_dates(turn, tickets)
    lines = ["Vos demandes en cours :"]
    for ticket in tickets[:MAX_LISTED]:
        line = f"• {ticket.reference} — {_what(ticket)} — {STATUS_FR.get(ticket.status, ticket.status)}"
        if ticket.id in dues:
            line += f", prévue d'ici {format_commitment_fr(dues[ticket.id], turn.ctx.calendar)}"
        lines.append(line)
    if len(tickets) > MAX_LISTED:
        lines.append(f"… et {len(tickets) - MAX_LISTED} autre(s).")
    lines.append("Pour le détail d'une demande, choisissez-la ci-dessous.")
    turn.say("\n".join(lines), [button(f"Voir {t.reference}", "status", t.id) for t in tickets[:MAX_BUTTONS]])


async def history(turn: Turn, ticket: Ticket) -> None:
    tz = turn.ctx.territory.timezone
    dues = await common.due_dates(turn, [ticket])
    lines = [
        f"Demande {ticket.reference} — {_what(ticket)}",
        f"Statut : {STATUS_FR.get(ticket.status, ticket.status)} · traitée par {ticket.organisation.name}",
    ]
    if ticket.id in dues and common.is_open(ticket):
        lines.append(f"Engagement : d'ici {format_commitment_fr(dues[ticket.id], turn.ctx.calendar)}")
    events = [e for e in ticket.events if not e.internal][-MAX_HISTORY:]
    if events:
        lines.append("Historique :")
    for event in events:
        when = event.at.astimezone(ZoneInfo(tz)).strftime("%d/%m à %H:%M")
        if event.kind == "status":
            label = f"Statut : {STATUS_FR.get(event.to_status or '', event.to_status)}"
        else:
            label = EVENT_FR.get(event.kind, OTHER_EVENT_FR)
        if event.kind in _QUOTED and event.body:
            label += f" : « {common.excerpt(event.body, 120)} »"
        lines.append(f"• {when} — {label}")
    buttons = []
    if common.is_open(ticket):
        buttons = [button("Ajouter un message", "add", ticket.id), button("Annuler la demande", "cancel", "ask", ticket.id)]
    elif teacher_tickets.can_reopen(turn.ctx, ticket, turn.now):  # closed lately: writing reopens it
        buttons = [button("Ajouter un message", "add", ticket.id)]
    buttons.append(button("Toutes mes demandes", "status", "all"))
    turn.say("\n".join(lines), buttons)


async def on_status_button(turn: Turn, value: str) -> bool:
    if value == "all":
        await listing(turn)
        return True
    ticket = await common.own_ticket(turn, int(value)) if value.isdigit() else None
    if ticket is None:
        return False
    await history(turn, ticket)
    return True

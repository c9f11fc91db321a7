"""French labels of the desk's identifiers, in one place for pages, API and e-mails."""

from __future__ import annotations

from domain.vocabulary import OPEN_TICKET_STATUSES, AgentRole, Channel, OrgKind, TicketStatus
from domain.impact import IMPACT_FR, PRIORITY_FR
from domain.labels import PAYMENT_MODE_FR, EQUIPMENT_FR, INTENT_FR, REQUESTER_ROLE_FR, STATUS_FR

#: One wording for a status on both sides: teachers and agents both speak of « une demande ».
STATUS: dict[str, str] = STATUS_FR

#: The open statuses, in lifecycle order (the queue's counts, the ticket page's actions).
OPEN_STATUSES: tuple[str, ...] = tuple(s.value for s in TicketStatus if s in OPEN_TICKET_STATUSES)

#: The same wording as the teachers read (domain.labels), so both sides name things alike.
INTENT: dict[str, str] = INTENT_FR
EQUIPMENT: dict[str, str] = EQUIPMENT_FR

#: The ticket's priority (domain.impact): its scope explains it.
PRIORITY: dict[int, str] = PRIORITY_FR
IMPACT: dict[int, str] = IMPACT_FR

#: How a claim's refund is paid (the commitment form).
PAYMENT_MODE: dict[str, str] = PAYMENT_MODE_FR

#: The requester's role (« Directeur·rice »), never guessed from a missing name.
REQUESTER_ROLE: dict[str, str] = REQUESTER_ROLE_FR

ROLE: dict[str, str] = {
    AgentRole.AGENT: "Agent",
    AgentRole.SUPERVISOR: "Superviseur·e",
    AgentRole.ADMIN: "Administrateur·rice",
    AgentRole.COORDINATOR: "Chargé·e de mission du plan (coordination)",
    AgentRole.NATIONAL_ADMIN: "Administration nationale",
}

ORG_KIND: dict[str, str] = {
    OrgKind.SEM: "Métropole (opérateur)",
    OrgKind.COMMUNE: "Commune",
    OrgKind.OGEC: "OGEC (école privée)",
    OrgKind.RECTORAT: "Rectorat / DSDEN",
    OrgKind.AGGLOMERATION: "Agglomération",
    OrgKind.OTHER: "Autre",
}

CHANNEL: dict[str, str] = {channel.value: channel.label for channel in Channel}

SCHOOL_STATUS: dict[str, str] = {"public": "Public", "private": "Privé"}

EVENT: dict[str, str] = {
    "created": "Demande ouverte",
    "message": "Message du demandeur",
    "reply": "Réponse au demandeur",
    "question": "Question au demandeur",
    "note": "Note interne",
    "status": "Changement de statut",
    "assigned": "Attribution",
    "reroute": "Réacheminement",
    "merged": "Fusion de doublons",
    "asset_linked": "Matériel associé",
    "notification": "Notification",
    "kb": "Tutoriels essayés par le demandeur",
    "satisfaction": "Avis du demandeur",
    "claim_step": "Dossier de sinistre",
    "claim_line": "Dossier de sinistre : matériel",
    "close_notice": "Avis de clôture automatique",
    "call": "Appel ou visite enregistré par un agent",
    "class_change": "Fermeture ou ouverture de classe",
}

#: Heading of an event whose kind no table knows yet: French, never the raw identifier.
OTHER_EVENT = "Événement"

#: SLA urgency badges: text is always shown, colour only reinforces it.
URGENCY: dict[str, str] = {
    "breached": "En retard",
    "at_risk": "Bientôt dû",
    "on_time": "Dans les temps",
    "paused": "En pause",
    "none": "Sans échéance",
}


def label(table: dict[str, str], value: str | None, default: str = "—") -> str:
    """The French label of `value`, or the value itself when the table does not know it."""
    if value is None or value == "":
        return default
    return table.get(value, value)


def event_label(kind: str) -> str:
    """Timeline heading of an event; SLA clock events share one family name, unknown kinds a French one."""
    if kind in EVENT:
        return EVENT[kind]
    if kind.startswith(("sla", "clock")):
        return "Échéance (engagement de service)"
    return OTHER_EVENT


#: A device's status (DOMAIN.md §9).
ASSET_STATUS: dict[str, str] = {
    "in_service": "En service",
    "in_repair": "En réparation",
    "on_loan": "En prêt",
    "stolen": "Volé",
    "retired": "Réformé",
}

#: Who owns a device (domain.vocabulary.AssetOwner).
ASSET_OWNER: dict[str, str] = {
    "sem": "Métropole (plan numérique)",
    "commune": "Commune",
    "ogec": "OGEC (école privée)",
    "agglomeration": "Agglomération",
    "other": "Autre",
}

#: A line of a device's logbook.
ASSET_EVENT: dict[str, str] = {
    "created": "Entrée à l'inventaire",
    "edited": "Fiche modifiée",
    "moved": "Déplacement",
    "retired": "Réforme",
    "stolen": "Déclaré volé",
    "status": "Changement de statut",
    "note": "Note",
    "class_closure": "Fermeture de classe",
    "ticket": "Demande ouverte",
    "ticket_status": "Suivi de la demande",
}

#: The fields an edit may change, as the logbook names them.
ASSET_FIELD: dict[str, str] = {
    "type": "Type", "owner": "Propriétaire", "model": "Modèle", "serial": "Numéro de série",
    "acquired_on": "Date d'acquisition", "value_cents": "Valeur", "school": "École", "school_name": "École",
    "room": "Salle", "status": "Statut",
}

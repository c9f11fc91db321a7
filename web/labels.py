"""French labels of the desk's identifiers, in one place for pages, API and e-mails."""

from __future__ import annotations

from guichet.vocabulary import AgentRole, Equipment, Intent, OrgKind, TicketStatus

STATUS: dict[str, str] = {
    TicketStatus.NEW: "Nouveau",
    TicketStatus.ASSIGNED: "Attribué",
    TicketStatus.IN_PROGRESS: "En cours",
    TicketStatus.WAITING: "En attente du demandeur",
    TicketStatus.RESOLVED: "Résolu",
    TicketStatus.CLOSED: "Clos",
    TicketStatus.REOPENED: "Rouvert",
    TicketStatus.CANCELLED: "Annulé",
}

INTENT: dict[str, str] = {
    Intent.HARDWARE_FAILURE: "Panne matérielle",
    Intent.NETWORK_OUTAGE: "Panne réseau ou internet",
    Intent.SOFTWARE_ISSUE: "Problème logiciel",
    Intent.ACCOUNT_ACCESS: "Accès à un compte",
    Intent.THEFT: "Vol",
    Intent.DAMAGE: "Dégradation",
    Intent.CONSUMABLES: "Consommables",
    Intent.BUILDING_WORKS: "Travaux",
    Intent.EQUIPMENT_REQUEST: "Demande d'équipement",
    Intent.TRAINING_REQUEST: "Demande de formation",
    Intent.CLASS_CHANGE: "Ouverture ou fermeture de classe",
    Intent.EQUIPMENT_REMOVAL: "Enlèvement de matériel",
    Intent.TICKET_STATUS: "Suivi d'une demande",
    Intent.HOWTO: "Question pratique",
}

EQUIPMENT: dict[str, str] = {
    Equipment.PROJECTOR: "Vidéoprojecteur",
    Equipment.INTERACTIVE_PROJECTOR: "Vidéoprojecteur interactif (VPI)",
    Equipment.INTERACTIVE_DISPLAY: "Écran interactif (TNI)",
    Equipment.DESKTOP: "Ordinateur fixe",
    Equipment.LAPTOP: "Ordinateur portable",
    Equipment.TABLET: "Tablette",
    Equipment.PRINTER: "Imprimante",
    Equipment.COPIER: "Copieur multifonction",
    Equipment.WIFI_ACCESS_POINT: "Borne wifi",
    Equipment.DISPLAY_DONGLE: "Boîtier de partage d'écran",
    Equipment.NAS: "Serveur de fichiers (NAS)",
    Equipment.ROUTER: "Box ou routeur",
    Equipment.DOCUMENT_CAMERA: "Visualiseur",
    Equipment.SPEAKER: "Enceinte",
    Equipment.HEADSET: "Casque audio",
    Equipment.MONITOR: "Écran d'ordinateur",
    Equipment.KEYBOARD_MOUSE: "Clavier ou souris",
    Equipment.PHONE: "Téléphone",
    Equipment.WHITEBOARD: "Tableau blanc",
    Equipment.CHARGING_CART: "Chariot de recharge",
    Equipment.NETWORK_SOCKET: "Prise réseau ou câblage",
}

ROLE: dict[str, str] = {
    AgentRole.AGENT: "Agent",
    AgentRole.SUPERVISOR: "Superviseur·e",
    AgentRole.ADMIN: "Administrateur·rice",
}

ORG_KIND: dict[str, str] = {
    OrgKind.SEM: "Métropole (opérateur)",
    OrgKind.COMMUNE: "Commune",
    OrgKind.OGEC: "OGEC (école privée)",
    OrgKind.RECTORAT: "Rectorat / DSDEN",
    OrgKind.AGGLOMERATION: "Agglomération",
    OrgKind.OTHER: "Autre",
}

CHANNEL: dict[str, str] = {
    "telegram": "Telegram",
    "webchat": "Messagerie du site",
    "email": "Courriel",
    "web": "Site web",
}

SCHOOL_STATUS: dict[str, str] = {"public": "Public", "private": "Privé"}

EVENT: dict[str, str] = {
    "created": "Demande ouverte",
    "message": "Message du demandeur",
    "reply": "Réponse au demandeur",
    "note": "Note interne",
    "status": "Changement de statut",
    "assigned": "Attribution",
    "reroute": "Réacheminement",
    "merged": "Fusion de doublons",
    "asset_linked": "Matériel associé",
    "notification": "Notification",
}

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
    """Timeline heading of an event; SLA clock events share one family name."""
    if kind in EVENT:
        return EVENT[kind]
    if kind.startswith(("sla", "clock")):
        return "Échéance (engagement de service)"
    return kind.replace("_", " ").capitalize()

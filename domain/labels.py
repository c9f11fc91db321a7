"""French labels of the identifiers, for every message a teacher or an agent reads."""

from __future__ import annotations

from domain.vocabulary import ClaimStep, Equipment, Intent, PaymentMode, SlaPolicy, TicketStatus

INTENT_FR: dict[str, str] = {
    Intent.HARDWARE_FAILURE: "Panne matérielle",
    Intent.NETWORK_OUTAGE: "Panne réseau ou internet",
    Intent.SOFTWARE_ISSUE: "Problème logiciel",
    Intent.ACCOUNT_ACCESS: "Accès, compte ou filtrage",
    Intent.THEFT: "Vol",
    Intent.DAMAGE: "Casse ou dégât",
    Intent.CONSUMABLES: "Consommables",
    Intent.BUILDING_WORKS: "Travaux, câblage, fixation",
    Intent.EQUIPMENT_REQUEST: "Demande de matériel",
    Intent.TRAINING_REQUEST: "Demande de formation",
    Intent.CLASS_CHANGE: "Ouverture, fermeture ou déménagement de classe",
    Intent.EQUIPMENT_REMOVAL: "Enlèvement de matériel",
    Intent.TICKET_STATUS: "Suivi d'une demande",
    Intent.HOWTO: "Question d'utilisation",
    Intent.GREET: "Salutation",
    Intent.THANKS: "Remerciement",
    Intent.GOODBYE: "Au revoir",
    Intent.AFFIRM: "Oui",
    Intent.DENY: "Non",
    Intent.HELP: "Aide",
    Intent.OUT_OF_SCOPE: "Hors sujet",
}

EQUIPMENT_FR: dict[str, str] = {
    Equipment.PROJECTOR: "Vidéoprojecteur",
    Equipment.INTERACTIVE_PROJECTOR: "Vidéoprojecteur interactif (VPI)",
    Equipment.INTERACTIVE_DISPLAY: "Écran numérique interactif (TNI/TBI)",
    Equipment.DESKTOP: "Ordinateur fixe",
    Equipment.LAPTOP: "Ordinateur portable",
    Equipment.TABLET: "Tablette",
    Equipment.PRINTER: "Imprimante",
    Equipment.COPIER: "Copieur multifonction",
    Equipment.WIFI_ACCESS_POINT: "Borne wifi",
    Equipment.DISPLAY_DONGLE: "Boîtier de partage d'écran",
    Equipment.NAS: "Serveur de fichiers (NAS)",
    Equipment.ROUTER: "Box, routeur ou switch",
    Equipment.DOCUMENT_CAMERA: "Visualiseur",
    Equipment.SPEAKER: "Enceintes",
    Equipment.HEADSET: "Casques audio",
    Equipment.MONITOR: "Écran d'ordinateur",
    Equipment.KEYBOARD_MOUSE: "Clavier ou souris",
    Equipment.PHONE: "Téléphone",
    Equipment.WHITEBOARD: "Tableau blanc",
    Equipment.CHARGING_CART: "Chariot ou valise de recharge",
    Equipment.NETWORK_SOCKET: "Prise ou câble réseau",
}

STATUS_FR: dict[str, str] = {
    TicketStatus.NEW: "Nouvelle",
    TicketStatus.ASSIGNED: "Attribuée",
    TicketStatus.IN_PROGRESS: "En cours",
    TicketStatus.WAITING: "En attente du demandeur",
    TicketStatus.ON_HOLD: "En attente de la déclaration",
    TicketStatus.RESOLVED: "Résolue",
    TicketStatus.CLOSED: "Clôturée",
    TicketStatus.REOPENED: "Rouverte",
    TicketStatus.CANCELLED: "Annulée",
}

#: A requester's role at her school, as she chose it when she introduced herself.
REQUESTER_ROLE_FR: dict[str, str] = {"teacher": "Enseignant·e", "director": "Directeur·rice"}

#: The claim file's steps as agents read them (convention 2023-2027 art. 6).
CLAIM_STEP_FR: dict[str, str] = {
    ClaimStep.INSURER_DECLARED: "Déclaration à l'assureur",
    ClaimStep.POLICE_DECLARED: "Déclaration à la police ou à la gendarmerie",
    ClaimStep.COMPLAINT_FILED: "Plainte déposée",
    ClaimStep.INSURANCE_ATTESTATION: "Attestation d'assurance reçue",
    ClaimStep.COMMITMENT_FORM: "Fiche d'engagement de versement",
    ClaimStep.REPLACEMENT_ORDERED: "Remplacement commandé",
    ClaimStep.REPLACEMENT_INSTALLED: "Remplacement installé",
    ClaimStep.STATEMENT_SENT: "État du nouveau matériel envoyé à la commune",
    ClaimStep.PAYMENT_RECEIVED: "Versement reçu",
    ClaimStep.GOODS_RECOVERED: "Matériel retrouvé",
}

PAYMENT_MODE_FR: dict[str, str] = {
    PaymentMode.INSURER_DIRECT: "Versement direct par l'assureur",
    PaymentMode.THROUGH_AUTHORITY: "Versement par la commune (ou l'OGEC)",
}

SLA_FR: dict[str, str] = {
    SlaPolicy.REPLACEMENT: "Remplacement (48 h, 72 h au plus)",
    SlaPolicy.DECLARATION: "Déclaration de sinistre (48 h)",
    SlaPolicy.FIRST_RESPONSE: "Première réponse",
    SlaPolicy.RESOLUTION: "Résolution",
}

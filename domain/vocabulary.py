"""The exact identifiers of DOMAIN.md, shared by every package.

This module is a leaf: it imports nothing from the project, so `nlu`, `routing`, `kb`,
`desk` and `bot` may all depend on it without depending on each other.
"""

from __future__ import annotations

from enum import StrEnum


class Intent(StrEnum):
    """What a message is about (DOMAIN.md §3)."""

    HARDWARE_FAILURE = "hardware_failure"
    NETWORK_OUTAGE = "network_outage"
    SOFTWARE_ISSUE = "software_issue"
    ACCOUNT_ACCESS = "account_access"
    THEFT = "theft"
    DAMAGE = "damage"
    CONSUMABLES = "consumables"
    BUILDING_WORKS = "building_works"
    EQUIPMENT_REQUEST = "equipment_request"
    TRAINING_REQUEST = "training_request"
    CLASS_CHANGE = "class_change"
    EQUIPMENT_REMOVAL = "equipment_removal"
    TICKET_STATUS = "ticket_status"
    HOWTO = "howto"
    GREET = "greet"
    THANKS = "thanks"
    GOODBYE = "goodbye"
    AFFIRM = "affirm"
    DENY = "deny"
    HELP = "help"
    OUT_OF_SCOPE = "out_of_scope"


#: Intents that describe an incident or a request and may open a ticket.
TICKET_INTENTS: frozenset[Intent] = frozenset(
    {
        Intent.HARDWARE_FAILURE,
        Intent.NETWORK_OUTAGE,
        Intent.SOFTWARE_ISSUE,
        Intent.ACCOUNT_ACCESS,
        Intent.THEFT,
        Intent.DAMAGE,
        Intent.CONSUMABLES,
        Intent.BUILDING_WORKS,
        Intent.EQUIPMENT_REQUEST,
        Intent.TRAINING_REQUEST,
        Intent.CLASS_CHANGE,
        Intent.EQUIPMENT_REMOVAL,
    }
)

#: Small-talk and confirmation intents.
SMALL_TALK_INTENTS: frozenset[Intent] = frozenset(
    {
        Intent.GREET,
        Intent.THANKS,
        Intent.GOODBYE,
        Intent.AFFIRM,
        Intent.DENY,
        Intent.HELP,
        Intent.OUT_OF_SCOPE,
    }
)


class Equipment(StrEnum):
    """Canonical values of the `equipment` entity (DOMAIN.md §3)."""

    PROJECTOR = "projector"
    INTERACTIVE_PROJECTOR = "interactive_projector"
    INTERACTIVE_DISPLAY = "interactive_display"
    DESKTOP = "desktop"
    LAPTOP = "laptop"
    TABLET = "tablet"
    PRINTER = "printer"
    COPIER = "copier"
    WIFI_ACCESS_POINT = "wifi_access_point"
    DISPLAY_DONGLE = "display_dongle"
    NAS = "nas"
    ROUTER = "router"
    DOCUMENT_CAMERA = "document_camera"
    SPEAKER = "speaker"
    HEADSET = "headset"
    MONITOR = "monitor"
    KEYBOARD_MOUSE = "keyboard_mouse"
    PHONE = "phone"
    WHITEBOARD = "whiteboard"
    CHARGING_CART = "charging_cart"
    NETWORK_SOCKET = "network_socket"


class EntityType(StrEnum):
    """Entity names extracted by the NLU."""

    EQUIPMENT = "equipment"
    ASSET_TAG = "asset_tag"
    SCHOOL = "school"
    ROOM = "room"
    QUANTITY = "quantity"
    TICKET_REF = "ticket_ref"


class Role(StrEnum):
    """Who is responsible, before the territory maps it to an organisation (DOMAIN.md §2)."""

    OPERATOR = "operator"
    SCHOOL_AUTHORITY = "school_authority"
    EDUCATION = "education"


class OrgKind(StrEnum):
    """Kinds of organisation used in labels and APIs."""

    SEM = "sem"
    COMMUNE = "commune"
    OGEC = "ogec"
    RECTORAT = "rectorat"
    AGGLOMERATION = "agglomeration"
    OTHER = "other"


class AssetOwner(StrEnum):
    """Who owns a device, as the inventory or the territory's defaults say."""

    SEM = "sem"
    COMMUNE = "commune"
    OGEC = "ogec"
    AGGLOMERATION = "agglomeration"
    OTHER = "other"


class AssetStatus(StrEnum):
    """Where a device of the inventory stands (DOMAIN.md §9); each change is a logbook event."""

    IN_SERVICE = "in_service"
    IN_REPAIR = "in_repair"
    ON_LOAN = "on_loan"
    STOLEN = "stolen"
    RETIRED = "retired"


class AssetEventKind(StrEnum):
    """A line of a device's logbook written by the inventory (tickets are read from the tickets)."""

    CREATED = "created"
    EDITED = "edited"
    MOVED = "moved"
    RETIRED = "retired"
    STOLEN = "stolen"
    STATUS = "status"
    NOTE = "note"
    #: The device's room is closing: to collect or to re-allocate (convention art. 1; handlers.class_changes).
    CLASS_CLOSURE = "class_closure"


class SchoolStatus(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class SlaPolicy(StrEnum):
    """Named commitments (DOMAIN.md §5)."""

    REPLACEMENT = "replacement"
    DECLARATION = "declaration"
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


class ClaimStep(StrEnum):
    """The steps of a theft, loss or damage claim file (DOMAIN.md §9, convention 2023-2027 art. 6),
    in the order the convention tells them."""

    INSURER_DECLARED = "insurer_declared"
    POLICE_DECLARED = "police_declared"
    COMPLAINT_FILED = "complaint_filed"
    INSURANCE_ATTESTATION = "insurance_attestation"
    COMMITMENT_FORM = "commitment_form"
    REPLACEMENT_ORDERED = "replacement_ordered"
    REPLACEMENT_INSTALLED = "replacement_installed"
    STATEMENT_SENT = "statement_sent"
    PAYMENT_RECEIVED = "payment_received"
    GOODS_RECOVERED = "goods_recovered"


class PaymentMode(StrEnum):
    """How the refund of the « fiche d'engagement de versement » is paid (art. 6)."""

    INSURER_DIRECT = "insurer_direct"
    THROUGH_AUTHORITY = "through_authority"


class ClockMode(StrEnum):
    BUSINESS_DAYS = "business_days"
    BUSINESS_HOURS = "business_hours"
    CALENDAR = "calendar"


class TicketStatus(StrEnum):
    """Ticket lifecycle (DOMAIN.md §8)."""

    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    #: Waits on another organisation or step, not on the teacher (DOMAIN.md §9): a theft's
    #: replacement until the school authority's declaration is in. Its clock is paused.
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    CANCELLED = "cancelled"


class Channel(StrEnum):
    """A door into the desk. Each member carries the French name agents read (`label`): adding
    a channel is one line here (README, « Adding a channel »)."""

    label: str

    def __new__(cls, value: str, label: str) -> Channel:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    TELEGRAM = "telegram", "Telegram"
    WEBCHAT = "webchat", "Messagerie du site"
    EMAIL = "email", "Courriel"
    WEB = "web", "Site web"
    HTTPCHAT = "httpchat", "Messagerie intégrée (HTTP)"
    #: A call or a visit an agent recorded on the teacher's behalf (DOMAIN.md §9).
    PHONE = "phone", "Téléphone"


#: Channels the desk writes to. A phone number is an identity agents call back, never a door a
#: notice can go through: a ticket opened by phone tells the teacher on one of these.
NOTIFIABLE_CHANNELS: frozenset[Channel] = frozenset(c for c in Channel if c is not Channel.PHONE)


class AgentRole(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    #: The plan's chargée de mission (DOMAIN.md §9): reads every organisation's tickets and the
    #: territory's reports, acts only on the operator's tickets.
    COORDINATOR = "coordinator"
    #: « Administration nationale »: an administrator of every territory of the deployment. They
    #: work in one territory at a time (the one they choose), with an administrator's rights there:
    #: references are per territory, so a reference names a ticket only within a territory.
    NATIONAL_ADMIN = "national_admin"


class InboundStatus(StrEnum):
    """The life of one inbound message (`inbound_messages.status`), the same for every channel.

    `received` (stored, not answered yet) -> `processing` (claimed by a worker, with a lease)
    -> one of `processed` (answered, or joined/opened a ticket), `held` (waits for an agent),
    `ignored` (nothing to do: machine mail, a bot's own group), `throttled` (over the rate
    limit). A failed attempt goes back to `received` until the channel's attempts run out,
    then `quarantined` with its error, kept for an operator to replay.
    """

    RECEIVED = "received"
    PROCESSING = "processing"
    PROCESSED = "processed"
    HELD = "held"
    IGNORED = "ignored"
    THROTTLED = "throttled"
    QUARANTINED = "quarantined"


#: Statuses of a message not answered yet.
WAITING_INBOUND: frozenset[InboundStatus] = frozenset({InboundStatus.RECEIVED, InboundStatus.PROCESSING})


#: Statuses of a ticket still being worked on (DOMAIN.md §8).
OPEN_TICKET_STATUSES: frozenset[TicketStatus] = frozenset({
    TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.WAITING, TicketStatus.ON_HOLD,
    TicketStatus.REOPENED,
})

#: Open statuses whose clocks are paused: waiting on the teacher, or on another organisation.
PAUSED_TICKET_STATUSES: frozenset[TicketStatus] = frozenset({TicketStatus.WAITING, TicketStatus.ON_HOLD})

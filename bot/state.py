"""The dialogue state of one conversation, stored as JSON in `Conversation.state` / `.data`.

Everything the engine remembers between two messages lives here, so a restart (or another
process) resumes a conversation exactly where it stopped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any


class Step(StrEnum):
    """What the engine is waiting for."""

    IDLE = "idle"
    ONBOARD_SCHOOL = "onboard_school"  # the school's name or UAI, as text
    ONBOARD_PICK = "onboard_pick"  # a school button (text starts a new search)
    ONBOARD_ROLE = "onboard_role"  # teacher / director button
    ONBOARD_HERE = "onboard_here"  # from a label: « Vous êtes bien à l'école … ? » Oui / Non
    CLARIFY = "clarify"  # which intent was meant
    SAME_OR_NEW = "same_or_new"  # an open ticket exists: same problem or a new one?
    DEFLECT = "deflect"  # a tutorial was offered: did it work?
    OFFER_TICKET = "offer_ticket"  # no tutorial found for a question: open a ticket?
    DESCRIBE = "describe"  # the problem in words (after a deep link or « Modifier »)
    EQUIPMENT = "equipment"  # which device
    ROOM = "room"  # which room or class (free text or « Passer »)
    DETAILS = "details"  # optional asset tag or photo
    ASSET_SCHOOL = "asset_school"  # the tag given is another school's: that device, or one of hers?
    CONFIRM = "confirm"  # summary shown: Envoyer / Modifier / Annuler
    EDIT = "edit"  # which part to change
    CANCEL_CONFIRM = "cancel_confirm"  # cancel ticket X?
    ADD_TO_TICKET = "add_to_ticket"  # the next text or file goes to ticket X
    ATTACH_WHERE = "attach_where"  # a file arrived with nothing to attach it to
    OTHER_PROBLEM = "other_problem"  # her message reported another problem too: a ticket for it?


@dataclass
class Draft:
    """A problem being described, before it becomes a ticket."""

    text: str = ""
    intent: str | None = None
    confidence: float | None = None
    equipment: str | None = None
    equipment_known: bool = False  # asked or found, even when the answer was « Autre »
    room: str | None = None
    room_asked: bool = False
    asset_tag: str | None = None
    details_asked: bool = False
    attachment_ids: list[int] = field(default_factory=list)
    tried_articles: list[str] = field(default_factory=list)
    offered_articles: list[str] = field(default_factory=list)
    deflection_done: bool = False
    duplicate_checked: bool = False
    #: A ticket intent to use when the teacher's question (howto) becomes a ticket.
    fallback_intent: str | None = None
    school_id: int | None = None
    #: A tag the teacher gave that belongs to another school's device, until she says which.
    other_school_tag: str | None = None
    #: Opened from a device's label: the inventory answered every question, her message is the report.
    from_label: bool = False
    #: The problems her first message reports when it reports several (`handlers.problems`), each
    #: {text, intent, equipment, org, role}: the ones this ticket does not cover are offered after it.
    problems: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Draft | None:
        if not data:
            return None
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class DialogueState:
    """The whole memory of one conversation."""

    step: Step = Step.IDLE
    draft: Draft | None = None
    #: Messages received before the sender was linked to a school, replayed after linking.
    held_texts: list[str] = field(default_factory=list)
    held_start: str | None = None
    school_candidates: list[int] = field(default_factory=list)
    school_id: int | None = None
    clarify_text: str | None = None
    clarify_options: list[str] = field(default_factory=list)
    ticket_id: int | None = None  # the ticket of CANCEL_CONFIRM / ADD_TO_TICKET / SAME_OR_NEW
    held_attachments: list[int] = field(default_factory=list)
    long_notice: bool = False
    #: Told once that the desk answers in French (a message in English was understood).
    french_noted: bool = False
    #: Problems of her last message still without a ticket, offered one at a time (`Step.OTHER_PROBLEM`).
    other_problems: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["step"] = self.step.value
        return data

    @classmethod
    def from_row(cls, step: str | None, data: dict[str, Any] | None) -> DialogueState:
        """Read a stored state; unknown keys (older versions) are ignored, a bad step means idle."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)} - {"step", "draft"}
        state = cls(**{k: v for k, v in data.items() if k in known})
        try:
            state.step = Step(step or data.get("step") or Step.IDLE)
        except ValueError:
            state.step = Step.IDLE
        state.draft = Draft.from_json(data.get("draft"))
        return state

    def reset(self) -> None:
        """Back to idle, forgetting the problem in progress (held messages are kept)."""
        self.step = Step.IDLE
        self.draft = None
        self.clarify_text = None
        self.clarify_options = []
        self.ticket_id = None
        self.other_problems = []

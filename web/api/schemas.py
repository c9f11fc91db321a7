"""Request bodies of the API actions and the JSON shapes of its answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from desk.models import Asset, Attachment, School, Ticket, TicketEvent
from handlers.agent_queue import QueueRow, TicketFile
from handlers.assets import AssetRow
from handlers.logged_calls import CALL_INTENTS, LoggedCall, Suggestion
from web import labels

MAX_TEXT = 20_000
MAX_SLUG = 120


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EmptyBody(_Body):
    pass


class TextBody(_Body):
    body: str = Field(min_length=1, max_length=MAX_TEXT)


class MessageBody(TextBody):
    """A message to the teacher, optionally ending with a tutorial's link."""

    article: str | None = Field(default=None, max_length=MAX_SLUG)


class ResolveBody(_Body):
    body: str | None = Field(default=None, max_length=MAX_TEXT)
    article: str | None = Field(default=None, max_length=MAX_SLUG)


class RerouteBody(_Body):
    organisation: str = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=MAX_TEXT)


class CallerBody(_Body):
    """The person who called: an existing requester by id, or a new one (her phone number already
    known, or her e-mail, is the same person)."""

    id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    name: str | None = Field(default=None, max_length=200)
    role: Literal["teacher", "director"] = "teacher"
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)


CallIntent = Literal[tuple(i.value for i in CALL_INTENTS)]  # type: ignore[valid-type]


class NewTicketBody(_Body):
    """A call or visit recorded by the agent: `POST /api/v1/tickets`."""

    school: str = Field(min_length=1, max_length=20)
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    requester: CallerBody
    asset_tag: str | None = Field(default=None, max_length=64)
    mode: Literal["call", "visit"] = "call"
    intent: CallIntent | None = None
    organisation: str | None = Field(default=None, max_length=100)
    reason: str | None = Field(default=None, max_length=2000)
    dry_run: bool = False


#: Pydantic's error types, as a French line for the API's `details`.
_FRENCH_ERRORS = {
    "missing": "Champ obligatoire.",
    "extra_forbidden": "Champ inconnu.",
    "string_type": "Une chaîne de caractères est attendue.",
    "int_type": "Un nombre entier est attendu.",
    "int_parsing": "Un nombre entier est attendu.",
    "int_from_float": "Un nombre entier est attendu.",
    "bool_type": "true ou false est attendu.",
    "bool_parsing": "true ou false est attendu.",
    "model_type": "Un objet JSON est attendu.",
    "model_attributes_type": "Un objet JSON est attendu.",
    "dict_type": "Un objet JSON est attendu.",
}


def _french(error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _FRENCH_ERRORS:
        return _FRENCH_ERRORS[kind]
    if kind == "string_too_short":
        return "Ne peut pas être vide." if ctx.get("min_length") == 1 else f"Au moins {ctx.get('min_length')} caractères."
    if kind == "string_too_long":
        return f"Trop long : {ctx.get('max_length')} caractères au plus."
    if kind in ("greater_than_equal", "less_than_equal"):
        return "Nombre hors des limites permises."
    if kind in ("literal_error", "enum"):
        return f"Valeur inconnue ; valeurs permises : {ctx.get('expected', '')}."
    return "Valeur invalide."


def french_details(exc: ValidationError) -> list[dict[str, str]]:
    """Each field's problem in French: [{"field": "requester.phone", "message": "…"}]."""
    return [{"field": ".".join(str(p) for p in e["loc"]) or "corps", "message": _french(e)} for e in exc.errors()]


def suggestion_json(suggestion: Suggestion) -> dict[str, Any]:
    return {"intent": suggestion.intent.value, "intent_label": labels.INTENT[suggestion.intent.value],
            "triaged_intent": suggestion.triaged.value, "confidence": round(suggestion.confidence, 4),
            "equipment": suggestion.equipment,
            "organisation": {"slug": suggestion.organisation_slug, "name": suggestion.organisation_name},
            "reason": suggestion.reason, "rule": suggestion.rule_id}


def logged_call_json(call: LoggedCall) -> dict[str, Any]:
    return {"reference": call.reference, "references": list(call.references), "status": call.status,
            "intent": call.intent.value, "channel": "phone",
            "organisation": {"slug": call.organisation_slug, "name": call.organisation_name},
            "in_scope": call.in_scope, "notified": call.notified, "corrected": call.corrected,
            "suggestion": suggestion_json(call.suggestion), "message": call.message}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def school_json(school: School | None) -> dict[str, Any] | None:
    if school is None:
        return None
    return {"uai": school.uai, "name": school.name, "status": school.status,
            "commune": school.commune.name if school.commune else None}


def ticket_json(ticket: Ticket, next_due: datetime | None, urgency: str) -> dict[str, Any]:
    return {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "status_label": labels.label(labels.STATUS, ticket.status),
        "intent": ticket.intent,
        "intent_label": labels.label(labels.INTENT, ticket.intent),
        "equipment": ticket.equipment,
        "quantity": ticket.quantity,
        "organisation": {"slug": ticket.organisation.slug, "name": ticket.organisation.name},
        "school": school_json(ticket.school),
        "assignee": {"id": ticket.assignee.id, "name": ticket.assignee.name} if ticket.assignee else None,
        "channel": ticket.channel,
        "opened_at": _iso(ticket.opened_at),
        "updated_at": _iso(ticket.updated_at),
        "resolved_at": _iso(ticket.resolved_at),
        "next_due": _iso(next_due),
        "urgency": urgency,
        "urgency_label": labels.URGENCY[urgency],
    }


def row_json(row: QueueRow) -> dict[str, Any]:
    return ticket_json(row.ticket, row.next_due, row.urgency)


def event_json(event: TicketEvent, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": event.id, "at": _iso(event.at), "kind": event.kind,
        "kind_label": "Note interne" if event.kind == "note" else labels.event_label(event.kind),
        "actor_kind": event.actor_kind,
        "actor_name": names.get(event.actor_id) if event.actor_kind == "agent" and event.actor_id else None,
        "channel": event.channel, "from_status": event.from_status, "to_status": event.to_status,
        "body": event.body, "internal": event.internal, "data": event.data,
    }


def attachment_json(item: Attachment) -> dict[str, Any]:
    return {"id": item.id, "filename": item.filename, "content_type": item.content_type,
            "size": item.size, "event_id": item.event_id}


def file_json(file: TicketFile) -> dict[str, Any]:
    ticket = file.ticket
    data = ticket_json(ticket, file.next_due, file.urgency)
    data.update({
        "description": ticket.description,
        "room": ticket.room,
        "reason": ticket.reason,
        "asset": asset_json(ticket.asset) if ticket.asset else None,
        "merged_into": next((e.data or {}).get("into") for e in file.events
                            if e.kind == "merged" and (e.data or {}).get("into")) if ticket.merged_into_id else None,
        "events": [event_json(e, file.agent_names) for e in file.events],
        "attachments": [attachment_json(a) for items in file.attachments.values() for a in items],
    })
    return data


def asset_row_json(row: AssetRow) -> dict[str, Any]:
    """One device of the inventory list (its effective status: in repair while a repair ticket is open)."""
    return {"tag": row.tag, "type": row.type, "type_label": labels.label(labels.EQUIPMENT, row.type),
            "model": row.model, "serial": row.serial, "owner": row.owner, "school_uai": row.school_uai,
            "school_name": row.school_name, "commune": row.commune, "room": row.room,
            "acquired_on": row.acquired_on.isoformat() if row.acquired_on else None,
            "value_cents": row.value_cents, "status": row.status,
            "status_label": labels.label(labels.ASSET_STATUS, row.status)}


def asset_json(asset: Asset) -> dict[str, Any]:
    return {"tag": asset.tag, "type": asset.type, "type_label": labels.label(labels.EQUIPMENT, asset.type),
            "model": asset.model, "owner": asset.owner,
            "school_uai": asset.school.uai if asset.school else None,
            "acquired_on": asset.acquired_on.isoformat() if asset.acquired_on else None}

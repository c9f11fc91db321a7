"""Request bodies of the API actions and the JSON shapes of its answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from desk.models import Asset, Attachment, School, Ticket, TicketEvent
from handlers.agent_queue import QueueRow, TicketFile
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


def asset_json(asset: Asset) -> dict[str, Any]:
    return {"tag": asset.tag, "type": asset.type, "type_label": labels.label(labels.EQUIPMENT, asset.type),
            "model": asset.model, "owner": asset.owner,
            "school_uai": asset.school.uai if asset.school else None,
            "acquired_on": asset.acquired_on.isoformat() if asset.acquired_on else None}

"""Repositories: the queries and writes of the system of record, one function each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from domain.formats import normalise_reference
from domain.vocabulary import TicketStatus

from desk.clock import utcnow
from desk.errors import RecordNotFound
from desk.lifecycle import OPEN_STATUSES
from desk.models import (
    Agent,
    Asset,
    Commune,
    InboundMessage,
    Organisation,
    OutboxMessage,
    Requester,
    RequesterIdentity,
    School,
    Territory,
    Ticket,
    TicketEvent,
)
from desk.references import next_reference

# --- territories and organisations -------------------------------------------------------


async def get_territory(session: AsyncSession, slug: str) -> Territory:
    territory = await session.scalar(select(Territory).where(Territory.slug == slug))
    if territory is None:
        raise RecordNotFound(f"territory {slug!r}")
    return territory


async def ensure_territory(
    session: AsyncSession, slug: str, name: str, timezone: str = "Europe/Paris"
) -> Territory:
    territory = await session.scalar(select(Territory).where(Territory.slug == slug))
    if territory is None:
        territory = Territory(slug=slug, name=name, timezone=timezone)
        session.add(territory)
        await session.flush()
    return territory


async def ensure_organisation(
    session: AsyncSession, territory_id: int, *, kind: str, slug: str, name: str,
    email: str | None = None,
) -> Organisation:
    org = await session.scalar(
        select(Organisation).where(
            Organisation.territory_id == territory_id, Organisation.slug == slug
        )
    )
    if org is None:
        org = Organisation(territory_id=territory_id, kind=kind, slug=slug, name=name, email=email)
        session.add(org)
        await session.flush()
    else:
        org.name, org.kind = name, kind
        if email:
            org.email = email
    return org


async def get_organisation(session: AsyncSession, territory_id: int, slug: str) -> Organisation:
    org = await session.scalar(
        select(Organisation).where(
            Organisation.territory_id == territory_id, Organisation.slug == slug
        )
    )
    if org is None:
        raise RecordNotFound(f"organisation {slug!r}")
    return org


# --- schools and assets ------------------------------------------------------------------


async def school_by_uai(session: AsyncSession, uai: str) -> School | None:
    return await session.scalar(
        select(School)
        .options(selectinload(School.commune).selectinload(Commune.organisation),
                 selectinload(School.ogec))
        .where(School.uai == uai.strip().upper())
    )


async def schools_of_territory(session: AsyncSession, territory_id: int) -> Sequence[School]:
    result = await session.scalars(
        select(School)
        .options(selectinload(School.commune))
        .where(School.territory_id == territory_id)
        .order_by(School.name)
    )
    return result.all()


async def asset_by_tag(session: AsyncSession, territory_id: int, tag: str) -> Asset | None:
    return await session.scalar(
        select(Asset)
        .options(selectinload(Asset.school), selectinload(Asset.room))
        .where(Asset.territory_id == territory_id, Asset.tag == tag.strip().upper())
    )


# --- requesters --------------------------------------------------------------------------


# Statements of the dialogue's hot path are built once, with bound parameters: building a
# statement and its cache key costs more than running it on SQLite (docs/BENCHMARKS-history.md).
_REQUESTER_BY_IDENTITY = (
    select(Requester)
    .join(RequesterIdentity)
    .where(RequesterIdentity.channel == bindparam("channel"),
           RequesterIdentity.external_id == bindparam("external_id"))
)


async def requester_by_identity(
    session: AsyncSession, channel: str, external_id: str
) -> Requester | None:
    """The requester behind a channel identity (relationships not loaded: one statement)."""
    return await session.scalar(_REQUESTER_BY_IDENTITY, {"channel": channel, "external_id": external_id})


async def ensure_requester(
    session: AsyncSession, territory_id: int, channel: str, external_id: str,
    *, name: str | None = None, school_id: int | None = None, role: str = "teacher",
) -> Requester:
    """The requester behind a channel identity, created on first contact."""
    requester = await requester_by_identity(session, channel, external_id)
    if requester is None:
        requester = Requester(territory_id=territory_id, name=name, school_id=school_id, role=role)
        requester.identities = [RequesterIdentity(channel=channel, external_id=external_id)]
        session.add(requester)
        await session.flush()
    return requester


# --- inbound messages --------------------------------------------------------------------


_INSERT_INBOUND = {
    dialect: insert(InboundMessage.__table__)
    .on_conflict_do_nothing(index_elements=["channel", "external_id"])
    .returning(InboundMessage.__table__.c.id)
    for dialect, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
_INSERT_INBOUND_MANY = {
    dialect: stmt.returning(InboundMessage.__table__.c.external_id)
    for dialect, stmt in _INSERT_INBOUND.items()
}


async def insert_inbound(
    session: AsyncSession, *, channel: str, external_id: str, payload: dict[str, Any],
    sender: str | None = None, received_at: datetime | None = None,
) -> int | None:
    """Persist an inbound message; its row id, or None when (channel, external_id) is already
    stored (a redelivery). One statement: INSERT … ON CONFLICT DO NOTHING RETURNING id."""
    stmt = _INSERT_INBOUND["postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"]
    return await session.scalar(stmt, {
        "channel": channel, "external_id": external_id, "payload": payload, "sender": sender,
        "received_at": received_at or utcnow(), "status": "received", "attempts": 0,
    })


async def insert_inbound_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Persist several inbound messages of one channel in one statement (multi-row INSERT …
    ON CONFLICT DO NOTHING RETURNING); {external_id: row id} of those that were new.

    Each row: channel, external_id, payload, sender, received_at. Within `rows`, a repeated
    external_id is stored once.
    """
    stmt = _INSERT_INBOUND_MANY["postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"]
    unique = list({row["external_id"]: row for row in reversed(rows)}.values())[::-1]
    result = await session.execute(stmt, [{"status": "received", "attempts": 0, **row} for row in unique])
    return {external_id: row_id for row_id, external_id in result.all()}


# --- tickets -----------------------------------------------------------------------------


async def create_ticket(
    session: AsyncSession,
    *,
    territory: Territory,
    organisation: Organisation,
    intent: str,
    role: str,
    subject: str,
    description: str = "",
    equipment: str | None = None,
    quantity: int = 1,
    school: School | None = None,
    asset: Asset | None = None,
    room: str | None = None,
    channel: str = "web",
    requester: Requester | None = None,
    sla_policy: str | None = None,
    rule_id: str | None = None,
    reason: str | None = None,
    confidence: float | None = None,
    checklist: dict[str, Any] | None = None,
    linked_ticket: Ticket | None = None,
    opened_at: datetime | None = None,
    priority: int = 3,
) -> Ticket:
    """Open a ticket with its reference and its first events, inside the caller's transaction."""
    opened_at = opened_at or utcnow()
    reference = await next_reference(session, territory.id, opened_at.year)
    ticket = Ticket(
        territory_id=territory.id,
        reference=reference,
        intent=intent,
        equipment=equipment,
        quantity=quantity,
        school_id=school.id if school else None,
        asset_id=asset.id if asset else None,
        room=room,
        organisation_id=organisation.id,
        role=role,
        status=TicketStatus.NEW.value,
        priority=priority,
        channel=channel,
        requester_id=requester.id if requester else None,
        subject=subject[:300],
        description=description,
        sla_policy=sla_policy,
        rule_id=rule_id,
        reason=reason,
        confidence=confidence,
        checklist=checklist,
        linked_ticket_id=linked_ticket.id if linked_ticket else None,
        opened_at=opened_at,
        updated_at=opened_at,
    )
    ticket.events = [
        TicketEvent(
            kind="created",
            at=opened_at,
            actor_kind="requester" if requester else "system",
            actor_id=requester.id if requester else None,
            channel=channel,
            to_status=TicketStatus.NEW.value,
            body=reason,
            data={"organisation": organisation.slug, "role": role, "rule": rule_id},
        )
    ]
    if description:
        ticket.events.append(
            TicketEvent(
                kind="message",
                at=opened_at,
                actor_kind="requester" if requester else "system",
                actor_id=requester.id if requester else None,
                channel=channel,
                body=description,
            )
        )
    session.add(ticket)
    await session.flush()
    return ticket


async def ticket_by_reference(
    session: AsyncSession, territory_id: int, reference: str
) -> Ticket:
    ticket = await session.scalar(
        select(Ticket)
        .options(
            selectinload(Ticket.events),
            selectinload(Ticket.organisation),
            selectinload(Ticket.school),
            selectinload(Ticket.asset),
            selectinload(Ticket.requester),
            selectinload(Ticket.assignee),
        )
        .where(Ticket.territory_id == territory_id,
               Ticket.reference == (normalise_reference(reference) or reference))
    )
    if ticket is None:
        raise RecordNotFound(f"ticket {reference}")
    return ticket


_OPEN_TICKETS_OF_REQUESTER = (
    select(Ticket)
    .options(selectinload(Ticket.organisation))
    .where(Ticket.requester_id == bindparam("requester_id"),
           Ticket.status.in_([s.value for s in OPEN_STATUSES]))
    .order_by(Ticket.opened_at.desc())
)


async def open_tickets_of_requester(
    session: AsyncSession, requester_id: int
) -> Sequence[Ticket]:
    result = await session.scalars(_OPEN_TICKETS_OF_REQUESTER, {"requester_id": requester_id})
    return result.all()


async def add_event(
    session: AsyncSession, ticket: Ticket, kind: str, *, body: str | None = None,
    actor_kind: str = "system", actor_id: int | None = None, channel: str | None = None,
    data: dict[str, Any] | None = None, internal: bool = False, at: datetime | None = None,
) -> TicketEvent:
    event = TicketEvent(
        ticket_id=ticket.id, kind=kind, body=body, actor_kind=actor_kind, actor_id=actor_id,
        channel=channel, data=data, internal=internal, at=at or utcnow(),
    )
    session.add(event)
    await session.flush()
    return event


async def count_tickets(session: AsyncSession, territory_id: int) -> int:
    return await session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.territory_id == territory_id)
    ) or 0


# --- outbox ------------------------------------------------------------------------------


async def enqueue(
    session: AsyncSession, *, channel: str, recipient: str, body: str,
    subject: str | None = None, payload: dict[str, Any] | None = None,
    ticket_id: int | None = None, dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Queue a notification in the caller's transaction; a repeated dedupe key queues nothing."""
    if dedupe_key is not None:
        exists = await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        if exists is not None:
            return None
    row = OutboxMessage(
        channel=channel, recipient=recipient, body=body, subject=subject, payload=payload,
        ticket_id=ticket_id, dedupe_key=dedupe_key,
    )
    session.add(row)
    await session.flush()
    return row


async def agent_by_email(session: AsyncSession, email: str) -> Agent | None:
    return await session.scalar(
        select(Agent).options(selectinload(Agent.organisation)).where(
            Agent.email == email.strip().lower()
        )
    )

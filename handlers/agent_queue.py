"""Reading the agents' queue: urgency order, filters, search, counts, one ticket's file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer, joinedload, selectinload

from desk.clock import utcnow
from desk.errors import RecordNotFound
from desk.lifecycle import OPEN_STATUSES
from desk.models import (
    Agent,
    Asset,
    Attachment,
    Organisation,
    Requester,
    School,
    SlaClock,
    Ticket,
    TicketEvent,
    Territory,
)
from domain.vocabulary import PAUSED_TICKET_STATUSES, AgentRole, OrgKind, TicketStatus
from handlers.claims import ClaimFile, claim_file_for, is_claim_file, late_steps_of
from handlers.context import context_for
from handlers.agent_scope import Actor, scoped_tickets, ticket_scope

PAGE_SIZE = 50
#: A commitment due within this window is shown « Bientôt dû ».
AT_RISK_WINDOW = timedelta(hours=24)
BREACH_THRESHOLD = "breach"
TARGET_THRESHOLD = "target"
OPEN_VALUES: tuple[str, ...] = tuple(sorted(s.value for s in OPEN_STATUSES))


@dataclass(frozen=True, slots=True)
class QueueFilters:
    """What the agent asked the queue for; None means « no filter »."""

    status: str | None = None  # a status, "all", or None for the open ones
    intent: str | None = None
    commune_id: int | None = None
    school_uai: str | None = None
    equipment: str | None = None
    assigned: str | None = None  # "me" or "none"
    q: str | None = None
    page: int = 1
    per_page: int = PAGE_SIZE


@dataclass(frozen=True, slots=True)
class QueueRow:
    ticket: Ticket
    next_due: datetime | None
    urgency: str
    #: The ticket this one is linked to (a theft's declaration and its replacement), if any.
    linked: LogbookEntry | None = None
    #: A claim file's steps past their delay (convention art. 6), in French.
    late_steps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QueuePage:
    rows: list[QueueRow]
    page: int
    has_next: bool
    counts: dict[str, int] = field(default_factory=dict)


def urgency(status: str, next_due: datetime | None, now: datetime) -> str:
    """Badge of a ticket: paused (waiting: its clock is stopped), breached, at_risk, on_time or none."""
    if status in PAUSED_TICKET_STATUSES:
        return "paused"
    if next_due is not None and next_due <= now:
        return "breached"
    if next_due is None:
        return "none"
    return "at_risk" if next_due - now <= AT_RISK_WINDOW else "on_time"


def due_expr() -> ColumnElement[datetime]:
    """The commitment instant the ticket is racing against, shown as its « échéance ».

    The earliest deadline among the unfired target and breach thresholds, or the breach's
    once fired (the warning is the watcher's business, not a commitment). A breached
    ticket keeps its past breach deadline, so ordering by it ascending puts breached
    tickets first (most overdue first), then the soonest due, then tickets without a clock.
    One index-only lookup per ticket (ix_sla_clocks_ticket_deadline).
    """
    return (
        select(func.min(SlaClock.deadline))
        .where(
            SlaClock.ticket_id == Ticket.id,
            or_(
                and_(SlaClock.threshold == TARGET_THRESHOLD, SlaClock.fired.is_(False)),
                SlaClock.threshold == BREACH_THRESHOLD,
            ),
        )
        .correlate(Ticket)
        .scalar_subquery()
    )


def _band(due: ColumnElement[datetime], now: datetime) -> ColumnElement[int]:
    """The urgency band of `urgency()` in SQL: breached, at risk, on time, no clock.

    Within a band the queue sorts by priority (domain.impact: a whole school before a class
    before one device), then by the soonest due.
    """
    return case(
        (due.is_(None), 3),
        (due <= now, 0),
        (due <= now + AT_RISK_WINDOW, 1),
        else_=2,
    )


def _like(text: str) -> str:
    # A query re-sent from the page carries the page's no-break spaces (web.typography).
    text = text.replace("\u202f", " ").replace("\u00a0", " ")
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered(stmt: Select, actor: Actor, f: QueueFilters, *, with_status: bool) -> Select:
    if with_status:
        if f.status == "all":
            pass
        elif f.status:
            stmt = stmt.where(Ticket.status == f.status)
        else:
            stmt = stmt.where(Ticket.status.in_(OPEN_VALUES))
    if f.intent:
        stmt = stmt.where(Ticket.intent == f.intent)
    if f.equipment:
        stmt = stmt.where(Ticket.equipment == f.equipment)
    if f.commune_id is not None:
        stmt = stmt.where(Ticket.school_id.in_(select(School.id).where(School.commune_id == f.commune_id)))
    if f.school_uai:
        stmt = stmt.where(Ticket.school_id.in_(select(School.id).where(School.uai == f.school_uai.strip().upper())))
    if f.assigned == "me":
        stmt = stmt.where(Ticket.assignee_id == actor.id)
    elif f.assigned == "none":
        stmt = stmt.where(Ticket.assignee_id.is_(None))
    if f.q and f.q.strip():
        pattern = _like(f.q.strip())
        stmt = stmt.where(or_(
            Ticket.reference.ilike(pattern, escape="\\"),
            Ticket.subject.ilike(pattern, escape="\\"),
            Ticket.description.ilike(pattern, escape="\\"),
            Ticket.school_id.in_(select(School.id).where(School.name.ilike(pattern, escape="\\"))),
        ))
    return stmt


async def list_queue(
    session: AsyncSession, actor: Actor, filters: QueueFilters, now: datetime | None = None
) -> QueuePage:
    """One page of the queue, most urgent first: breached, at risk, on time, no clock; within each,
    the widest impact first (a whole school before one device), then the soonest due, then the oldest."""
    now = now or utcnow()
    due = due_expr()
    per_page = max(1, min(filters.per_page, 200))
    page = max(1, filters.page)
    stmt = (
        _filtered(scoped_tickets(actor), actor, filters, with_status=True)
        .add_columns(due.label("due"))
        .options(
            defer(Ticket.description), defer(Ticket.checklist),
            joinedload(Ticket.school).joinedload(School.commune),
            joinedload(Ticket.assignee), joinedload(Ticket.organisation),
        )
        .order_by(_band(due, now), Ticket.priority, due.asc().nulls_last(), Ticket.opened_at, Ticket.id)
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    )
    result = (await session.execute(stmt)).all()
    late = await _late_claim_steps(session, actor, [ticket for ticket, _ in result[:per_page]], now)
    rows = [QueueRow(ticket, when, urgency(ticket.status, when, now), late_steps=tuple(late.get(ticket.id, ())))
            for ticket, when in result[:per_page]]
    return QueuePage(rows=rows, page=page, has_next=len(result) > per_page,
                     counts=await status_counts(session, actor, filters))


async def _late_claim_steps(session: AsyncSession, actor: Actor, tickets: list[Ticket],
                            now: datetime) -> dict[int, list[str]]:
    """The late steps of the claim files on this page (one query, none without a claim file)."""
    if not any(is_claim_file(ticket) for ticket in tickets):
        return {}
    slug = await session.scalar(select(Territory.slug).where(Territory.id == actor.territory_id))
    today = now.astimezone(ZoneInfo(actor.timezone)).date()
    return await late_steps_of(session, tickets, context_for(slug or "").territory.claims, today)


async def status_counts(session: AsyncSession, actor: Actor, filters: QueueFilters) -> dict[str, int]:
    """Tickets per status under the same filters (except the status one).

    Open statuses only (an indexed, bounded count), plus the asked status when it is a
    closed one; every status when the agent asks for all of them.
    """
    stmt = _filtered(
        select(Ticket.status, func.count()).where(ticket_scope(actor)), actor, filters,
        with_status=False,
    ).group_by(Ticket.status)
    if filters.status != "all":
        wanted = set(OPEN_VALUES) | ({filters.status} if filters.status else set())
        stmt = stmt.where(Ticket.status.in_(sorted(wanted)))
    return {status: count for status, count in (await session.execute(stmt)).all()}


# --- one ticket ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogbookEntry:
    ticket: Ticket
    in_scope: bool


@dataclass(frozen=True, slots=True)
class TicketFile:
    """Everything the ticket page shows."""

    ticket: Ticket
    events: Sequence[TicketEvent]
    attachments: dict[int | None, list[Attachment]]
    agent_names: dict[int, str]
    logbook: list[LogbookEntry]
    assignable: Sequence[Agent]
    organisations: Sequence[Organisation]
    next_due: datetime | None
    urgency: str
    #: The ticket this one is linked to (a theft's declaration and its replacement), if any.
    linked: LogbookEntry | None = None
    #: A claim file's steps past their delay (convention art. 6), in French.
    late_steps: tuple[str, ...] = ()
    #: The claim file of a theft, loss or damage (its own, or the declaration's it follows).
    claim: ClaimFile | None = None


async def scoped_ticket(session: AsyncSession, actor: Actor, reference: str, *, for_update: bool = False) -> Ticket:
    """The ticket with this reference in `actor`'s scope; RecordNotFound otherwise (never « forbidden »)."""
    stmt = scoped_tickets(actor).where(Ticket.reference == reference.strip())
    if for_update and actor.role is AgentRole.COORDINATOR:
        # The coordinator reads every organisation's tickets but acts only on the operator's.
        stmt = stmt.where(Ticket.organisation_id.in_(select(Organisation.id).where(
            Organisation.territory_id == actor.territory_id, Organisation.kind == OrgKind.SEM.value)))
    if for_update:
        stmt = stmt.with_for_update(of=Ticket)
    ticket = await session.scalar(stmt.options(selectinload(Ticket.events)))
    if ticket is None:
        raise RecordNotFound(f"ticket {reference}")
    return ticket


async def ticket_file(session: AsyncSession, actor: Actor, reference: str, now: datetime | None = None) -> TicketFile:
    """The whole file of one ticket in scope: timeline, attachments, asset logbook, choices."""
    now = now or utcnow()
    row = (await session.execute(
        scoped_tickets(actor).where(Ticket.reference == reference.strip())
        .add_columns(due_expr().label("due"))
        .options(
            selectinload(Ticket.events), joinedload(Ticket.organisation),
            joinedload(Ticket.school).joinedload(School.commune),
            joinedload(Ticket.asset).options(joinedload(Asset.school), joinedload(Asset.room)),
            joinedload(Ticket.requester).selectinload(Requester.identities),
            joinedload(Ticket.assignee),
        )
    )).unique().first()
    if row is None:
        raise RecordNotFound(f"ticket {reference}")
    ticket, due = row
    attachments: dict[int | None, list[Attachment]] = {}
    for attachment in await session.scalars(
        select(Attachment).options(defer(Attachment.content))
        .where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
    ):
        attachments.setdefault(attachment.event_id, []).append(attachment)
    actor_ids = {e.actor_id for e in ticket.events if e.actor_kind == "agent" and e.actor_id}
    agent_names = dict((await session.execute(
        select(Agent.id, Agent.name).where(Agent.id.in_(actor_ids))
    )).all()) if actor_ids else {}
    logbook: list[LogbookEntry] = []
    if ticket.asset_id is not None:
        scope = ticket_scope(actor)
        for other, visible in (await session.execute(
            select(Ticket, scope.label("in_scope")).options(
                defer(Ticket.description), joinedload(Ticket.organisation))
            .where(Ticket.asset_id == ticket.asset_id, Ticket.territory_id == actor.territory_id)
            .order_by(Ticket.opened_at.desc()).limit(100)
        )).all():
            logbook.append(LogbookEntry(other, bool(visible)))
    linked: LogbookEntry | None = None
    if ticket.linked_ticket_id is not None:
        found = (await session.execute(
            select(Ticket, ticket_scope(actor).label("in_scope")).options(
                defer(Ticket.description), joinedload(Ticket.organisation))
            .where(Ticket.id == ticket.linked_ticket_id, Ticket.territory_id == actor.territory_id)
        )).first()
        if found is not None:
            linked = LogbookEntry(found[0], bool(found[1]))
    assignable = (await session.scalars(
        select(Agent).where(Agent.organisation_id == ticket.organisation_id, Agent.active.is_(True))
        .order_by(Agent.name)
    )).all()
    organisations = (await session.scalars(
        select(Organisation).where(
            Organisation.territory_id == actor.territory_id, Organisation.id != ticket.organisation_id
        ).order_by(Organisation.kind, Organisation.name)
    )).all()
    return TicketFile(
        ticket=ticket, events=ticket.events, attachments=attachments, agent_names=agent_names,
        logbook=logbook, assignable=assignable, organisations=organisations, next_due=due,
        urgency=urgency(ticket.status, due, now), linked=linked,
        claim=await claim_file_for(session, ticket, now),
    )


async def scoped_attachment(session: AsyncSession, actor: Actor, attachment_id: int) -> Attachment:
    """An attachment of a ticket in scope; RecordNotFound otherwise."""
    attachment = await session.scalar(
        select(Attachment).join(Ticket, Attachment.ticket_id == Ticket.id)
        .where(Attachment.id == attachment_id, ticket_scope(actor))
    )
    if attachment is None:
        raise RecordNotFound(f"attachment {attachment_id}")
    return attachment


# --- live updates --------------------------------------------------------------------------


async def latest_event_id(session: AsyncSession) -> int:
    return await session.scalar(select(func.max(TicketEvent.id))) or 0


async def queue_changed_since(session: AsyncSession, actor: Actor, last_id: int) -> tuple[bool, int]:
    """Whether an event newer than `last_id` concerns `actor`'s queue, and the newest id seen.

    A re-route also concerns the organisation the ticket left, named in the event's data.
    """
    rows = (await session.execute(
        select(TicketEvent.id, TicketEvent.kind, TicketEvent.data, Ticket.organisation_id, Ticket.territory_id)
        .join(Ticket, TicketEvent.ticket_id == Ticket.id)
        .where(TicketEvent.id > last_id).order_by(TicketEvent.id).limit(1000)
    )).all()
    changed = False
    for _id, kind, data, org_id, territory_id in rows:
        if territory_id != actor.territory_id:
            continue
        if actor.reads_territory or org_id == actor.organisation_id:
            changed = True
        elif kind == "reroute" and (data or {}).get("from_organisation_id") == actor.organisation_id:
            changed = True
    return changed, (rows[-1][0] if rows else last_id)

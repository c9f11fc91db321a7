"""Reading the agents' queue: urgency order, filters, search, counts, one ticket's file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement, Integer, Select, String, and_, bindparam, column, func, literal, or_, select, true, tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
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
    Ticket,
    TicketEvent,
    Territory,
)
from desk.types import UtcDateTime
from domain.impact import Impact
from domain.vocabulary import PAUSED_TICKET_STATUSES, AgentRole, OrgKind, TicketStatus
from handlers.claims import ClaimFile, claim_file_for, is_claim_file, late_steps_of
from handlers.context import context_for
from handlers.agent_scope import Actor, scoped_tickets, ticket_scope

PAGE_SIZE = 50
#: A commitment due within this window is shown « Bientôt dû ».
AT_RISK_WINDOW = timedelta(hours=24)
#: Per-status counts stop here: the page shows « 500+ » rather than count a national desk's rows.
COUNT_CAP = 500
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
    #: Keyset pagination: the page after this row (`QueueCursor.encode`); wins over `page`.
    after: str | None = None


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
    #: The `after` cursor of the next page (None on the last one).
    next_after: str | None = None
    #: A count above this is « more than COUNT_CAP », not a total.
    count_cap: int = COUNT_CAP

    def count_label(self, status: str) -> str:
        """A status count as agents read it: the number, or « 500+ » past the cap."""
        count = self.counts.get(status, 0)
        return f"{self.count_cap}+" if count > self.count_cap else str(count)


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

    `tickets.sla_deadline`, kept from the clock rows by `desk.sla_store.refresh_queue_deadlines`
    (the earliest unfired target or breach deadline, or the breach's once fired). A breached
    ticket keeps its past breach deadline, so ordering by it ascending puts breached tickets
    first (most overdue first), then the soonest due, then tickets without a clock.
    """
    return Ticket.sla_deadline


#: Urgency bands of the queue, in its order: breached, at risk, on time, no clock.
BANDS: tuple[int, ...] = (0, 1, 2, 3)
#: Every priority a ticket may have (desk.models validates it), most pressing first.
PRIORITIES: tuple[int, ...] = tuple(sorted(int(i) for i in Impact))


def band_of(due: datetime | None, now: datetime) -> int:
    """The urgency band of a deadline: 0 breached, 1 at risk, 2 on time, 3 no clock."""
    if due is None:
        return 3
    if due <= now:
        return 0
    return 1 if due <= now + AT_RISK_WINDOW else 2


def _band_range(band: int, now: datetime) -> ColumnElement[bool]:
    """The index range of one band on `tickets.sla_deadline`."""
    due = Ticket.sla_deadline
    if band == 0:
        return due <= now
    if band == 1:
        return and_(due > now, due <= now + AT_RISK_WINDOW)
    if band == 2:
        return due > now + AT_RISK_WINDOW
    return due.is_(None)


@dataclass(frozen=True, slots=True)
class QueueCursor:
    """Where a queue page ended: the sort key of its last row (keyset pagination)."""

    priority: int
    due: datetime | None
    opened_at: datetime
    id: int

    def encode(self) -> str:
        due = str(_micros(self.due)) if self.due is not None else "-"
        return f"{self.priority}.{due}.{_micros(self.opened_at)}.{self.id}"

    @classmethod
    def decode(cls, raw: str | None) -> QueueCursor | None:
        """The cursor of an `after` parameter; None when it is not one (the first page then)."""
        if not raw:
            return None
        parts = raw.strip().split(".")
        if len(parts) != 4:
            return None
        try:
            priority, opened, ident = int(parts[0]), int(parts[2]), int(parts[3])
            due = None if parts[1] == "-" else _from_micros(int(parts[1]))
            opened_at = _from_micros(opened)
        except (ValueError, OverflowError, OSError):
            return None
        if priority not in PRIORITIES or not 0 < ident < 2**63:
            return None
        return cls(priority, due, opened_at, ident)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1)


def _from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


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


def _statuses(f: QueueFilters) -> list[str]:
    """The statuses the queue lists: the asked one, every one, or the open ones."""
    if f.status == "all":
        return sorted(status.value for status in TicketStatus)
    if f.status:
        return [f.status]
    return list(OPEN_VALUES)


#: Bounds of the open-ended bands, never a real deadline.
_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def _arms(f: QueueFilters, now: datetime, cursor: QueueCursor | None) -> list[tuple[str, int, int]]:
    """The (status, priority, band) ranges a page reads, in no particular order; none before the cursor."""
    key = None if cursor is None else (band_of(cursor.due, now), cursor.priority)
    return [(status, priority, band) for status in _statuses(f) for priority in PRIORITIES for band in BANDS
            if key is None or (band, priority) >= key]


def _page_ids(actor: Actor, f: QueueFilters, now: datetime, cursor: QueueCursor | None,
              offset: int, limit: int, dialect: str = "postgresql") -> Select:
    """The ids of one queue page in order, read from the queue's indexes.

    The order (band, priority, deadline, opened_at, id) depends on `now` through the band, so no
    single index holds it; but inside one status, priority and band it is the index order of
    `ix_tickets_queue_org` (`ix_tickets_queue_territory` for the territory's readers). Each such
    range gives at most `offset + limit` rows from the index, and only these few are merged and
    sorted: the cost of a page does not grow with the table. The keyset cursor drops the ranges
    before it and starts its own range after its row.

    PostgreSQL reads the ranges through one LATERAL subquery over a VALUES list (planned once,
    whatever the number of ranges); SQLite through a UNION ALL of one subquery per range.
    """
    key = None if cursor is None else (band_of(cursor.due, now), cursor.priority)
    arms = _arms(f, now, cursor)
    if dialect == "postgresql":
        return _page_ids_lateral(actor, f, now, cursor, key, arms, offset, limit)
    parts = []
    for status, priority, band in arms:
        arm = _filtered(
            select(Ticket.id, literal(band).label("band"), Ticket.priority, Ticket.sla_deadline, Ticket.opened_at)
            .where(ticket_scope(actor), Ticket.status == status, Ticket.priority == priority,
                   _band_range(band, now)),
            actor, f, with_status=False,
        )
        if cursor is not None and (band, priority) == key:
            arm = arm.where(
                tuple_(Ticket.opened_at, Ticket.id) > tuple_(cursor.opened_at, cursor.id) if band == 3
                else tuple_(Ticket.sla_deadline, Ticket.opened_at, Ticket.id)
                > tuple_(cursor.due, cursor.opened_at, cursor.id)
            )
        parts.append(select(
            arm.order_by(Ticket.sla_deadline, Ticket.opened_at, Ticket.id).limit(offset + limit).subquery()
        ))
    merged = union_all(*parts).subquery()
    return (
        select(merged.c.id, merged.c.priority, merged.c.sla_deadline, merged.c.opened_at)
        .order_by(merged.c.band, merged.c.priority, merged.c.sla_deadline, merged.c.opened_at, merged.c.id)
        .offset(offset).limit(limit)
    )


def _arm_table(name: str, rows: list[tuple], columns: list[tuple[str, type]]) -> Any:
    """The ranges as a table: `unnest` of one array parameter per column (the SQL stays the same
    whatever the ranges, so SQLAlchemy compiles it once and PostgreSQL plans one scan)."""
    arrays = [bindparam(None, [row[i] for row in rows], type_=ARRAY(kind()))
              for i, (_, kind) in enumerate(columns)]
    return func.unnest(*arrays).table_valued(
        *(column(col, kind()) for col, kind in columns)).render_derived(name=name)


def _page_ids_lateral(actor: Actor, f: QueueFilters, now: datetime, cursor: QueueCursor | None,
                      key: tuple[int, int] | None, arms: list[tuple[str, int, int]],
                      offset: int, limit: int) -> Select:
    """`_page_ids` on PostgreSQL: each range one execution of the same index scan."""
    bounds = {0: (_EARLIEST, now), 1: (now, now + AT_RISK_WINDOW), 2: (now + AT_RISK_WINDOW, _LATEST)}
    timed_rows, untimed_rows = [], []
    for status, priority, band in arms:
        at_cursor = cursor is not None and (band, priority) == key
        opened, ident = (cursor.opened_at, cursor.id) if at_cursor and cursor else (_EARLIEST, 0)
        if band == 3:
            untimed_rows.append((status, priority, opened, ident))
        else:
            low, high = bounds[band]
            due = cursor.due if at_cursor and cursor and cursor.due is not None else low
            timed_rows.append((status, priority, band, low, high, due, opened, ident))
    parts = []
    if timed_rows:
        timed = _arm_table("timed_arms", timed_rows, [
            ("status", String), ("priority", Integer), ("band", Integer), ("low", UtcDateTime),
            ("high", UtcDateTime), ("c_due", UtcDateTime), ("c_opened", UtcDateTime), ("c_id", Integer)])
        scan = _filtered(
            select(Ticket.id, Ticket.priority, Ticket.sla_deadline, Ticket.opened_at)
            .where(ticket_scope(actor), Ticket.status == timed.c.status, Ticket.priority == timed.c.priority,
                   Ticket.sla_deadline > timed.c.low, Ticket.sla_deadline <= timed.c.high,
                   tuple_(Ticket.sla_deadline, Ticket.opened_at, Ticket.id)
                   > tuple_(timed.c.c_due, timed.c.c_opened, timed.c.c_id)),
            actor, f, with_status=False,
        ).order_by(Ticket.sla_deadline, Ticket.opened_at, Ticket.id).limit(offset + limit).lateral("timed")
        parts.append(select(scan.c.id, timed.c.band.label("band"), scan.c.priority, scan.c.sla_deadline,
                            scan.c.opened_at).select_from(timed).join(scan, true()))
    if untimed_rows:
        untimed = _arm_table("untimed_arms", untimed_rows, [
            ("status", String), ("priority", Integer), ("c_opened", UtcDateTime), ("c_id", Integer)])
        scan = _filtered(
            select(Ticket.id, Ticket.priority, Ticket.sla_deadline, Ticket.opened_at)
            .where(ticket_scope(actor), Ticket.status == untimed.c.status, Ticket.priority == untimed.c.priority,
                   Ticket.sla_deadline.is_(None),
                   tuple_(Ticket.opened_at, Ticket.id) > tuple_(untimed.c.c_opened, untimed.c.c_id)),
            actor, f, with_status=False,
        # By the (all NULL) deadline first: the index's own order, so no sort of the range.
        ).order_by(Ticket.sla_deadline, Ticket.opened_at, Ticket.id).limit(offset + limit).lateral("untimed")
        parts.append(select(scan.c.id, literal(3).label("band"), scan.c.priority, scan.c.sla_deadline,
                            scan.c.opened_at).select_from(untimed).join(scan, true()))
    merged = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    return (
        select(merged.c.id, merged.c.priority, merged.c.sla_deadline, merged.c.opened_at)
        .order_by(merged.c.band, merged.c.priority, merged.c.sla_deadline, merged.c.opened_at, merged.c.id)
        .offset(offset).limit(limit)
    )


async def list_queue(
    session: AsyncSession, actor: Actor, filters: QueueFilters, now: datetime | None = None
) -> QueuePage:
    """One page of the queue, most urgent first: breached, at risk, on time, no clock; within each,
    the widest impact first (a whole school before one device), then the soonest due, then the oldest.

    `filters.after` (a cursor of the previous page) reads the page after it from the index; without
    it, `filters.page` skips whole pages (the API's `page`).
    """
    now = now or utcnow()
    per_page = max(1, min(filters.per_page, 200))
    cursor = QueueCursor.decode(filters.after)
    page = 1 if cursor is not None else max(1, filters.page)
    offset = 0 if cursor is not None else (page - 1) * per_page
    dialect = session.get_bind().dialect.name
    keys = (await session.execute(_page_ids(actor, filters, now, cursor, offset, per_page + 1, dialect))).all()
    shown = keys[:per_page]
    loaded = {ticket.id: ticket for ticket in (await session.scalars(
        select(Ticket).where(Ticket.id.in_([k.id for k in shown])).options(
            defer(Ticket.description), defer(Ticket.checklist),
            joinedload(Ticket.school).joinedload(School.commune),
            joinedload(Ticket.assignee), joinedload(Ticket.organisation),
        )
    )).unique()} if shown else {}
    tickets = [loaded[k.id] for k in shown if k.id in loaded]
    late = await _late_claim_steps(session, actor, tickets, now)
    rows = [QueueRow(ticket, ticket.sla_deadline, urgency(ticket.status, ticket.sla_deadline, now),
                     late_steps=tuple(late.get(ticket.id, ()))) for ticket in tickets]
    has_next = len(keys) > per_page
    last = shown[-1] if shown else None
    next_after = (QueueCursor(last.priority, last.sla_deadline, last.opened_at, last.id).encode()
                  if has_next and last is not None else None)
    return QueuePage(rows=rows, page=page, has_next=has_next, counts=await status_counts(session, actor, filters),
                     next_after=next_after)


async def _late_claim_steps(session: AsyncSession, actor: Actor, tickets: list[Ticket],
                            now: datetime) -> dict[int, list[str]]:
    """The late steps of the claim files on this page (one query, none without a claim file)."""
    if not any(is_claim_file(ticket) for ticket in tickets):
        return {}
    slug = await session.scalar(select(Territory.slug).where(Territory.id == actor.territory_id))
    today = now.astimezone(ZoneInfo(actor.timezone)).date()
    return await late_steps_of(session, tickets, context_for(slug or "").territory.claims, today)


async def status_counts(session: AsyncSession, actor: Actor, filters: QueueFilters) -> dict[str, int]:
    """Tickets per status under the same filters (except the status one), counted up to COUNT_CAP + 1.

    Open statuses, plus the asked status when it is a closed one; every status when the agent asks
    for all of them. Each count reads at most COUNT_CAP + 1 entries of the (organisation, status)
    index, so a national desk's millions of closed tickets cost no more than a territory's.
    """
    if filters.status == "all":
        wanted = sorted(status.value for status in TicketStatus)
    else:
        wanted = sorted(set(OPEN_VALUES) | ({filters.status} if filters.status else set()))
    arms = []
    for status in wanted:
        capped = _filtered(
            select(Ticket.id).where(ticket_scope(actor), Ticket.status == status), actor, filters,
            with_status=False,
        ).limit(COUNT_CAP + 1).subquery()
        arms.append(select(literal(status).label("status"), select(func.count()).select_from(capped)
                           .scalar_subquery().label("n")))
    rows = (await session.execute(union_all(*arms))).all()
    return {status: count for status, count in rows if count}


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
    ticket = row[0]
    due = ticket.sla_deadline
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

"""Persisted SLA clocks: one row per threshold of a ticket's commitment (DOMAIN.md §5).

Each ticket with a policy gets a `warning` row (75 % of the target's counted time, or of the
breach's when the policy has no target, e.g. `declaration`), a `target` row and a `breach`
row. `deadline` is the threshold's instant; `due_at` is when the SLA watcher acts on the row
(equal to `deadline`, later only while a notice is held outside opening hours, NULL while
the clock is paused). Paused time is rebuilt from the ticket's status history every time,
never kept in a counter, so a deadline cannot drift after a pause or a re-route.

Policy and calendar objects come from `routing` (passed in, duck-typed); the clock maths
are routing's pure functions, imported when called so that loading `desk` never loads
`routing`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from desk.lifecycle import OPEN_STATUSES
from desk.models import SlaClock, Ticket, TicketEvent
from domain.vocabulary import PAUSED_TICKET_STATUSES, TicketStatus

__all__ = [
    "WARNING_SHARE",
    "ClockPolicy",
    "Threshold",
    "clock_deadlines",
    "deadlines_by_threshold",
    "queue_deadline_of",
    "recompute_clocks",
    "refresh_queue_deadlines",
    "schedule_clocks",
    "ticket_clocks",
]

Interval = tuple[datetime, datetime]

#: Share of the target's (or the breach's) counted time at which the owning queue is warned.
WARNING_SHARE = 0.75

#: Statuses in which no time counts: waiting on the teacher (DOMAIN.md §5), and the time a
#: ticket spent resolved before it was reopened (the desk thought it was done).
_STOPPED = frozenset({*PAUSED_TICKET_STATUSES, TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.CANCELLED})


class Threshold(StrEnum):
    """The thresholds of one commitment, in the order they fall due."""

    WARNING = "warning"
    TARGET = "target"
    BREACH = "breach"


class ClockPolicy(Protocol):
    """What `desk` reads from a `routing.clocks.Policy`."""

    @property
    def name(self) -> str: ...
    @property
    def mode(self) -> str: ...
    @property
    def target_hours(self) -> float | None: ...
    @property
    def breach_hours(self) -> float | None: ...


def _thresholds(policy: ClockPolicy) -> list[Threshold]:
    """The thresholds a policy has: a warning, then whichever of target and breach it defines."""
    out = [Threshold.WARNING]
    if policy.target_hours is not None:
        out.append(Threshold.TARGET)
    if policy.breach_hours is not None:
        out.append(Threshold.BREACH)
    return out


def clock_deadlines(
    opened: datetime, policy: ClockPolicy, calendar: Any, paused: Sequence[Interval] = ()
) -> dict[Threshold, datetime]:
    """UTC instants of the policy's thresholds for a ticket opened at `opened` with these pauses."""
    from routing.clocks import add_counted, due

    dues = due(opened, policy, calendar, paused)  # type: ignore[arg-type]
    base = policy.target_hours if policy.target_hours is not None else policy.breach_hours
    assert base is not None  # a Policy always has a target, a breach or both
    out = {
        Threshold.WARNING: add_counted(
            opened, timedelta(hours=base) * WARNING_SHARE, policy.mode, calendar, paused
        )
    }
    if dues.target is not None:
        out[Threshold.TARGET] = dues.target
    if dues.breach is not None:
        out[Threshold.BREACH] = dues.breach
    return out


def queue_deadline_of(ticket_id: ColumnElement[int]) -> ColumnElement[datetime]:
    """The commitment instant a ticket races against, as SQL over its clock rows (`tickets.sla_deadline`).

    The earliest deadline among the unfired target and breach rows, or the breach's once fired
    (the warning is the watcher's business, not a commitment). A breached ticket keeps its past
    breach deadline, so the queue puts it first (most overdue first); a paused clock (NULL
    deadlines) or no clock gives NULL. The one definition: the writers below, the migration's
    back-fill (revision 0014) and the queue all read it from here.
    """
    clocks = SlaClock.__table__.c
    return (
        select(func.min(clocks.deadline))
        .where(
            clocks.ticket_id == ticket_id,
            or_(
                and_(clocks.threshold == Threshold.TARGET.value, clocks.fired.is_(False)),
                clocks.threshold == Threshold.BREACH.value,
            ),
        )
        .scalar_subquery()
    )


async def refresh_queue_deadlines(session: AsyncSession, ticket_ids: Iterable[int]) -> dict[int, datetime | None]:
    """Recompute `tickets.sla_deadline` of these tickets from their clock rows, in the caller's transaction.

    Every writer of `sla_clocks` calls it after its writes (opening, pausing, resuming,
    stopping, the watcher's firing and pausing); tickets loaded in the session get the new
    value too. Returns {ticket id: deadline}.
    """
    ids = sorted({int(i) for i in ticket_ids})
    if not ids:
        return {}
    tickets = Ticket.__table__.c
    out: dict[int, datetime | None] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        result = await session.execute(
            update(Ticket.__table__)
            .where(tickets.id.in_(chunk))
            # updated_at listed as itself: a clock change is not an update of the ticket (no onupdate).
            .values(sla_deadline=queue_deadline_of(tickets.id), updated_at=tickets.updated_at)
            .returning(tickets.id, tickets.sla_deadline)
        )
        out.update({row[0]: row[1] for row in result.all()})
    for ticket_id, deadline in out.items():
        loaded = session.identity_map.get(identity_key(Ticket, ticket_id))
        if loaded is not None:
            set_committed_value(loaded, "sla_deadline", deadline)
    return out


def _insert(session: AsyncSession) -> Any:
    """The dialect's INSERT, which offers ON CONFLICT DO NOTHING on both databases."""
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(SlaClock)


async def _store(
    session: AsyncSession, ticket_id: int, policy_name: str, deadlines: Mapping[Threshold, datetime | None]
) -> None:
    """Make the unfired rows of `ticket_id` match `deadlines`; fired rows are history and stay."""
    await session.execute(
        delete(SlaClock)
        .where(
            SlaClock.ticket_id == ticket_id,
            SlaClock.fired.is_(False),
            (SlaClock.policy != policy_name) | SlaClock.threshold.not_in([t.value for t in deadlines]),
        )
        .execution_options(synchronize_session=False)
    )
    if not deadlines:
        await refresh_queue_deadlines(session, [ticket_id])
        return
    rows = [
        {"ticket_id": ticket_id, "policy": policy_name, "threshold": t.value, "due_at": at, "deadline": at,
         "fired": False}
        for t, at in deadlines.items()
    ]
    await session.execute(
        _insert(session).on_conflict_do_nothing(index_elements=["ticket_id", "policy", "threshold"]), rows
    )
    for threshold, at in deadlines.items():
        await session.execute(
            update(SlaClock)
            .where(
                SlaClock.ticket_id == ticket_id,
                SlaClock.policy == policy_name,
                SlaClock.threshold == threshold.value,
                SlaClock.fired.is_(False),
            )
            .values(due_at=at, deadline=at)
            .execution_options(synchronize_session=False)
        )
    await refresh_queue_deadlines(session, [ticket_id])


async def open_clocks(
    session: AsyncSession, ticket: Ticket, policy: ClockPolicy, calendar: Any
) -> None:
    """The clock rows of a ticket opened in this transaction: one INSERT, nothing to reconcile."""
    if ticket.id is None:
        await session.flush()
    name = str(policy.name)
    deadlines = clock_deadlines(ticket.opened_at, policy, calendar, ())
    await session.execute(
        _insert(session),
        [{"ticket_id": ticket.id, "policy": name, "threshold": t.value, "due_at": at, "deadline": at,
          "fired": False} for t, at in deadlines.items()],
    )
    await refresh_queue_deadlines(session, [ticket.id])


async def schedule_clocks(
    session: AsyncSession, ticket: Ticket, policy: ClockPolicy, calendar: Any, paused: Sequence[Interval] = ()
) -> list[SlaClock]:
    """Create (or refresh) the clock rows of a newly opened ticket, in the caller's transaction."""
    if ticket.id is None:
        await session.flush()
    name = str(policy.name)
    await _store(session, ticket.id, name, clock_deadlines(ticket.opened_at, policy, calendar, paused))
    return await ticket_clocks(session, ticket.id)


async def _status_history(session: AsyncSession, ticket_id: int) -> list[tuple[datetime, str]]:
    """(at, new status) of every status change, with the statuses that stop the clock read as waiting."""
    result = await session.execute(
        select(TicketEvent.at, TicketEvent.to_status)
        .where(
            TicketEvent.ticket_id == ticket_id,
            TicketEvent.kind.in_(("created", "status")),
            TicketEvent.to_status.is_not(None),
        )
        .order_by(TicketEvent.at, TicketEvent.id)
    )
    return [
        (at, TicketStatus.WAITING.value if status in _STOPPED else status) for at, status in result.all()
    ]


async def recompute_clocks(
    session: AsyncSession, ticket: Ticket, policy: ClockPolicy | None, calendar: Any, now: datetime
) -> list[SlaClock]:
    """Bring unfired rows in line with the ticket's history; call it after every status change or re-route.

    Waiting on the teacher pauses the clock: unfired rows lose their due date until the ticket
    leaves `waiting`, when the whole wait is subtracted. A ticket that is no longer open, or
    that has no policy any more, loses its unfired rows (a reopened ticket gets them back).
    `policy` must be the one named by the ticket's `sla_policy` column.
    """
    from routing.clocks import paused_intervals

    await session.flush()  # status events appended by the lifecycle must be visible to the query
    if policy is None or ticket.sla_policy is None or ticket.status not in OPEN_STATUSES:
        if policy is not None and ticket.sla_policy is None:
            raise ValueError(f"ticket {ticket.reference} has no SLA policy, {policy.name!r} was given")
        await _store(session, ticket.id, "", {})
        return await ticket_clocks(session, ticket.id)
    name = str(policy.name)
    if name != ticket.sla_policy:
        raise ValueError(f"ticket {ticket.reference} follows {ticket.sla_policy!r}, not {name!r}")
    if ticket.status in PAUSED_TICKET_STATUSES:
        deadlines: dict[Threshold, datetime | None] = {t: None for t in _thresholds(policy)}
    else:
        paused = paused_intervals(await _status_history(session, ticket.id), now)
        deadlines = dict(clock_deadlines(ticket.opened_at, policy, calendar, paused))
    await _store(session, ticket.id, name, deadlines)
    return await ticket_clocks(session, ticket.id)


async def ticket_clocks(session: AsyncSession, ticket_id: int) -> list[SlaClock]:
    """Every clock row of a ticket, fired or not, in threshold order."""
    order = {t.value: i for i, t in enumerate(Threshold)}
    rows = (
        await session.scalars(
            select(SlaClock).where(SlaClock.ticket_id == ticket_id).execution_options(populate_existing=True)
        )
    ).all()
    return sorted(rows, key=lambda row: (row.policy, order.get(row.threshold, len(order))))


def deadlines_by_threshold(rows: Iterable[SlaClock], policy: str) -> dict[str, datetime | None]:
    """{threshold: deadline} of one policy's rows, for display."""
    return {row.threshold: row.deadline for row in rows if row.policy == policy}

"""The ticket lifecycle of DOMAIN.md §8: the one place where a status may change.

Back to `new` is allowed from any open status: a re-routed ticket lands unassigned in the
receiving queue, and a theft's replacement leaves `on_hold` when the declaration arrives. A closed
ticket may be reopened (its teacher wrote within the territory's window: `handlers.teacher_tickets`).
"""

from __future__ import annotations

from datetime import datetime

from domain.vocabulary import OPEN_TICKET_STATUSES
from domain.vocabulary import TicketStatus as S

from desk.clock import utcnow
from desk.errors import IllegalTransition
from desk.models import Ticket, TicketEvent

ALLOWED: dict[S, frozenset[S]] = {
    S.NEW: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.WAITING, S.ON_HOLD, S.RESOLVED, S.CANCELLED}),
    S.ASSIGNED: frozenset({S.NEW, S.IN_PROGRESS, S.WAITING, S.ON_HOLD, S.RESOLVED, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.NEW, S.ASSIGNED, S.WAITING, S.ON_HOLD, S.RESOLVED, S.CANCELLED}),
    S.WAITING: frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED, S.CANCELLED}),
    S.ON_HOLD: frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED, S.CANCELLED}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.REOPENED: frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.WAITING, S.ON_HOLD, S.RESOLVED, S.CANCELLED}),
    # A closed ticket reopens when its teacher writes within the territory's window (handlers check it).
    S.CLOSED: frozenset({S.REOPENED}),
    S.CANCELLED: frozenset(),
}

OPEN_STATUSES: frozenset[S] = OPEN_TICKET_STATUSES


def can_transition(current: S | str, target: S | str) -> bool:
    return S(target) in ALLOWED[S(current)]


def change_status(
    ticket: Ticket,
    target: S | str,
    *,
    actor_kind: str = "system",
    actor_id: int | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> TicketEvent:
    """Move `ticket` to `target`, refusing illegal transitions, and record the event."""
    current, new = S(ticket.status), S(target)
    if new not in ALLOWED[current]:
        raise IllegalTransition(current, new)
    at = at or utcnow()
    ticket.status = new.value
    ticket.updated_at = at
    if new is S.RESOLVED:
        ticket.resolved_at = at
    elif new is S.CLOSED:
        ticket.closed_at = at
    elif new is S.REOPENED:
        ticket.resolved_at = None
        ticket.closed_at = None
    event = TicketEvent(
        kind="status",
        at=at,
        actor_kind=actor_kind,
        actor_id=actor_id,
        from_status=current.value,
        to_status=new.value,
        body=reason,
    )
    ticket.events.append(event)
    return event

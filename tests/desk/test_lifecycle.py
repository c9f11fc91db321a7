"""The ticket lifecycle refuses illegal transitions and records every change."""

import pytest

from desk.errors import IllegalTransition
from desk.lifecycle import ALLOWED, can_transition, change_status
from desk.models import Ticket
from domain.vocabulary import TicketStatus as S


def _ticket(status: S) -> Ticket:
    ticket = Ticket(status=status.value, reference="2026-00001", intent="hardware_failure",
                    role="operator", subject="x")
    ticket.events = []
    return ticket


def test_every_status_has_a_rule() -> None:
    """The transition table covers every status of DOMAIN.md §8."""
    assert set(ALLOWED) == set(S)


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_transition_matrix(current: S, target: S) -> None:
    """Each pair is either applied with an event or refused without touching the ticket."""
    ticket = _ticket(current)
    if can_transition(current, target):
        event = change_status(ticket, target, actor_kind="agent", actor_id=7, reason="test")
        assert ticket.status == target.value
        assert (event.from_status, event.to_status) == (current.value, target.value)
        assert ticket.events == [event]
    else:
        with pytest.raises(IllegalTransition):
            change_status(ticket, target)
        assert ticket.status == current.value and ticket.events == []


def test_cancelled_is_final_and_closed_only_reopens() -> None:
    """Nothing leaves cancelled; closed only reopens (its teacher wrote within the window); resolved closes or reopens."""
    assert not ALLOWED[S.CANCELLED] and ALLOWED[S.CLOSED] == {S.REOPENED}
    assert ALLOWED[S.RESOLVED] == {S.CLOSED, S.REOPENED}


def test_resolution_timestamps() -> None:
    """Resolving sets resolved_at; reopening clears it; closing sets closed_at."""
    ticket = _ticket(S.IN_PROGRESS)
    change_status(ticket, S.RESOLVED)
    assert ticket.resolved_at is not None
    change_status(ticket, S.REOPENED)
    assert ticket.resolved_at is None
    change_status(ticket, S.RESOLVED)
    change_status(ticket, S.CLOSED)
    assert ticket.closed_at is not None


def test_on_hold_is_open_and_left_for_work_or_an_end() -> None:
    """`on_hold` waits on another organisation: it is open, and it leaves for work, resolution or cancellation,
    never for `waiting` (which would say the teacher holds it)."""
    from domain.labels import STATUS_FR
    from domain.vocabulary import OPEN_TICKET_STATUSES, PAUSED_TICKET_STATUSES

    assert S.ON_HOLD in OPEN_TICKET_STATUSES and S.ON_HOLD in PAUSED_TICKET_STATUSES
    assert ALLOWED[S.ON_HOLD] == {S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED, S.CANCELLED}
    assert STATUS_FR[S.ON_HOLD] == "En attente de la déclaration"
    assert STATUS_FR[S.WAITING] == "En attente du demandeur"

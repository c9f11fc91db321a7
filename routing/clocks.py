"""SLA clock maths (DOMAIN.md §5): pure functions of instants, a policy and a calendar.

The clock is an input: nothing here reads the current time. Instants must be
timezone-aware and results are UTC-aware. "Counted" time is the time the policy's mode
counts (all of working days, opening hours only, or the wall clock) minus the intervals
the ticket spent waiting on the teacher.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.vocabulary import PAUSED_TICKET_STATUSES, ClockMode, SlaPolicy, TicketStatus
from routing.calendar import Calendar, as_utc

__all__ = [
    "Due",
    "Policy",
    "add_counted",
    "counted_between",
    "due",
    "merge_intervals",
    "paused_intervals",
    "remaining",
]

Interval = tuple[datetime, datetime]

_ZERO = timedelta(0)
#: Modes a policy gets when its territory file leaves `mode` out (DOMAIN.md §5).
_DEFAULT_MODES = {
    SlaPolicy.REPLACEMENT: ClockMode.BUSINESS_DAYS,
    SlaPolicy.DECLARATION: ClockMode.BUSINESS_DAYS,
}


@dataclass(frozen=True, slots=True)
class Policy:
    """A named commitment: how its clock counts and after how many counted hours it is due."""

    name: SlaPolicy | str
    mode: ClockMode
    target_hours: float | None
    breach_hours: float | None

    def __post_init__(self) -> None:
        """Refuse policies that could never be evaluated."""
        object.__setattr__(self, "mode", ClockMode(self.mode))
        for label in ("target_hours", "breach_hours"):
            value = getattr(self, label)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"policy {self.name}: {label} must be a positive number of hours, got {value!r}")
        if self.target_hours is None and self.breach_hours is None:
            raise ValueError(f"policy {self.name}: needs target_hours, breach_hours or both")
        target, breach = self.target_hours, self.breach_hours
        if target is not None and breach is not None and target > breach:
            raise ValueError(f"policy {self.name}: target_hours ({target}) exceeds breach_hours ({breach})")

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> Policy:
        """Build a policy from one entry of a territory file's `sla` section."""
        if not isinstance(data, Mapping):
            raise ValueError(f"policy {name}: expected a mapping with mode, target_hours, breach_hours; got {data!r}")
        unknown = set(data) - {"mode", "target_hours", "breach_hours"}
        if unknown:
            raise ValueError(f"policy {name}: unknown keys {', '.join(sorted(unknown))}")
        known_name: SlaPolicy | str
        try:
            known_name = SlaPolicy(name)
        except ValueError:
            known_name = name  # a territory may declare its own policies
        mode = data.get("mode") or _DEFAULT_MODES.get(known_name)
        if mode is None:
            raise ValueError(f"policy {name}: mode is required ({', '.join(ClockMode)})")
        try:
            mode = ClockMode(mode)
        except ValueError:
            raise ValueError(f"policy {name}: unknown mode {mode!r} ({', '.join(ClockMode)})") from None
        return cls(known_name, mode, data.get("target_hours"), data.get("breach_hours"))


@dataclass(frozen=True, slots=True)
class Due:
    """When a ticket reaches its target and its breach (UTC; None where the policy has none)."""

    target: datetime | None
    breach: datetime | None


def merge_intervals(intervals: Sequence[Interval]) -> list[Interval]:
    """Sort and merge possibly overlapping aware intervals into disjoint UTC ones."""
    cleaned = []
    for start, end in intervals:
        a, b = as_utc(start, "paused start"), as_utc(end, "paused end")
        if b < a:
            raise ValueError(f"paused interval ends before it starts: {start.isoformat()}/{end.isoformat()}")
        if a < b:
            cleaned.append((a, b))
    cleaned.sort()
    merged: list[Interval] = []
    for a, b in cleaned:
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def _counted_intervals(
    start: datetime, end: datetime | None, mode: ClockMode, calendar: Calendar, pauses: list[Interval]
) -> Iterator[Interval]:
    """Yield the counted UTC intervals from `start`: the calendar's working time minus the pauses."""
    cursor = start
    index = 0
    while True:
        jump = None
        for a, b in calendar.working_intervals(cursor, end, mode):
            while index < len(pauses) and pauses[index][1] <= a:
                index += 1
            while index < len(pauses) and pauses[index][0] < b:
                pause_start, pause_end = pauses[index]
                if pause_start > a:
                    yield a, pause_start
                if pause_end > b:
                    jump = pause_end  # restart the walk after a long pause instead of crossing it day by day
                    break
                a = pause_end
                index += 1
            if jump is not None:
                break
            if a < b:
                yield a, b
        if jump is None or (end is not None and jump >= end):
            return
        cursor = jump


def _as_timedelta(hours: float | timedelta) -> timedelta:
    """Turn an amount of hours (or a timedelta) into a non-negative timedelta."""
    if isinstance(hours, timedelta):
        amount = hours
    elif isinstance(hours, bool) or not isinstance(hours, (int, float)):
        raise TypeError(f"hours must be a number or a timedelta, not {type(hours).__name__}")
    elif not math.isfinite(hours):
        raise ValueError(f"hours must be finite, got {hours!r}")
    else:
        amount = timedelta(hours=hours)
    if amount < _ZERO:
        raise ValueError(f"hours must not be negative, got {hours!r}")
    return amount


def add_counted(
    start: datetime,
    hours: float | timedelta,
    mode: ClockMode | str,
    calendar: Calendar,
    paused: Sequence[Interval] = (),
) -> datetime:
    """The earliest UTC instant at which `hours` of counted time have elapsed after `start`."""
    origin = as_utc(start, "start")
    left = _as_timedelta(hours)
    if not left:
        return origin
    for a, b in _counted_intervals(origin, None, ClockMode(mode), calendar, merge_intervals(paused)):
        span = b - a
        if span >= left:
            return a + left
        left -= span
    raise AssertionError("the counted intervals of an open-ended walk never run out")


def counted_between(
    start: datetime,
    end: datetime,
    mode: ClockMode | str,
    calendar: Calendar,
    paused: Sequence[Interval] = (),
) -> timedelta:
    """Counted time elapsed from `start` to `end` (negative when `end` comes first)."""
    lower, upper = as_utc(start, "start"), as_utc(end, "end")
    if upper < lower:
        return -counted_between(upper, lower, mode, calendar, paused)
    total = _ZERO
    for a, b in _counted_intervals(lower, upper, ClockMode(mode), calendar, merge_intervals(paused)):
        total += b - a
    return total


def due(opened: datetime, policy: Policy, calendar: Calendar, paused: Sequence[Interval] = ()) -> Due:
    """Target and breach instants of a ticket opened at `opened`, given its waiting intervals."""
    pauses = merge_intervals(paused)

    def at(hours: float | None) -> datetime | None:
        return None if hours is None else add_counted(opened, hours, policy.mode, calendar, pauses)

    return Due(target=at(policy.target_hours), breach=at(policy.breach_hours))


def remaining(
    now: datetime, opened: datetime, policy: Policy, calendar: Calendar, paused: Sequence[Interval] = ()
) -> timedelta:
    """Counted time left before the breach (the target when there is no breach); negative once breached."""
    limit = policy.breach_hours if policy.breach_hours is not None else policy.target_hours
    assert limit is not None  # Policy guarantees one of the two
    opened_utc, now_utc = as_utc(opened, "opened"), as_utc(now, "now")
    elapsed = counted_between(opened_utc, max(now_utc, opened_utc), policy.mode, calendar, paused)
    return timedelta(hours=limit) - elapsed


def paused_intervals(status_history: Sequence[tuple[datetime, str]], now: datetime) -> list[Interval]:
    """UTC intervals spent in `waiting`, from a ticket's (at, new_status) history; an open wait runs to `now`."""
    now_utc = as_utc(now, "now")
    events = sorted(
        ((as_utc(at, "status change"), str(status)) for at, status in status_history), key=lambda event: event[0]
    )
    intervals: list[Interval] = []
    since: datetime | None = None
    for at, status in events:
        if at > now_utc:
            break  # the future is not known yet
        if status in PAUSED_TICKET_STATUSES:
            if since is None:
                since = at
        elif since is not None:
            if at > since:
                intervals.append((since, at))
            since = None
    if since is not None and now_utc > since:
        intervals.append((since, now_utc))
    return intervals

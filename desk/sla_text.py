"""French wording of SLA instants and thresholds for teachers and agents (pure functions)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

from domain.french import DAYS_FR, MONTHS_FR

__all__ = ["POLICY_LABELS", "THRESHOLD_LABELS", "format_commitment_fr", "format_due_fr", "policy_label"]

#: A commitment due by this local time reads « avant 12 h »; later in the day, « en fin de journée ».
_NOON = timedelta(hours=12)
#: How far back a commitment looks for a working day (a long closure is a calendar error).
_MAX_DAYS_BACK = 60


class WorkingCalendar(Protocol):
    """What the wording needs of a territory's calendar (routing.calendar.Calendar)."""

    tz: tzinfo
    opening_hours: tuple[tuple[timedelta, timedelta], ...]

    def is_working_day(self, day: date) -> bool: ...


#: What each commitment promises, as an agent reads it in a notice.
POLICY_LABELS: dict[str, str] = {
    "replacement": "remplacement du matériel",
    "declaration": "déclaration à l'assureur et à la police",
    "first_response": "prise en compte",
    "resolution": "résolution",
}

#: The notice a threshold triggers, as a short French phrase.
THRESHOLD_LABELS: dict[str, str] = {
    "warning": "échéance proche",
    "target": "objectif atteint",
    "breach": "délai dépassé",
}


def policy_label(name: str) -> str:
    """The French label of a policy, or its name when the territory declared its own."""
    return POLICY_LABELS.get(str(name), str(name))


def format_due_fr(instant: datetime, timezone: str | tzinfo) -> str:
    """« le mardi 13 janvier à 10 h » (« à 10 h 30 », « le 1er ») in the territory's local time."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instant must be timezone-aware, got naive {instant.isoformat()}")
    tz = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    local = instant.astimezone(tz)
    day = "1er" if local.day == 1 else str(local.day)
    hour = f"{local.hour} h" if local.minute == 0 else f"{local.hour} h {local.minute:02d}"
    return f"le {DAYS_FR[local.weekday()]} {day} {MONTHS_FR[local.month - 1]} à {hour}"


def _day_fr(day: date) -> str:
    return f"le {DAYS_FR[day.weekday()]} {'1er' if day.day == 1 else day.day} {MONTHS_FR[day.month - 1]}"


def format_commitment_fr(instant: datetime, calendar: WorkingCalendar) -> str:
    """A commitment as a teacher reads it, on the territory's working calendar (issue 12, item 10).

    A day and a half-day, never a minute: « le jeudi 3 décembre avant 12 h » when the deadline falls
    in a working morning, « le jeudi 3 décembre en fin de journée » when it falls later that working
    day. A deadline outside working time (at night, before opening, a weekend, a holiday or a closure)
    is announced at the end of the last working day before it: the school is closed in between, so
    that is when the work must be done. The desk's clocks keep the exact instant.
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instant must be timezone-aware, got naive {instant.isoformat()}")
    local = instant.astimezone(calendar.tz)
    day = local.date()
    since_midnight = local - datetime.combine(day, time(), tzinfo=local.tzinfo)
    opens = calendar.opening_hours[0][0]
    if calendar.is_working_day(day) and since_midnight > opens:
        return f"{_day_fr(day)} {'avant 12 h' if since_midnight <= _NOON else 'en fin de journée'}"
    for _ in range(_MAX_DAYS_BACK):
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            return f"{_day_fr(day)} en fin de journée"
    raise ValueError(f"no working day in the {_MAX_DAYS_BACK} days before {local.date()}")

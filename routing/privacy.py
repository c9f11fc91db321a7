"""A territory's personal-data retention and its ticket lifecycle delays (pure).

Retention (RGPD art. 5.1.e, « limitation de la conservation »; for Saint-Denis the 2017 convention,
art. 5: the digital services are run « dans le strict respect des recommandations de la CNIL »):
what the desk holds about a teacher is kept a number of months after the ticket ends (closed or
cancelled), then anonymised. The figures of the reports are kept, anonymised (`statistics`).

Lifecycle (DOMAIN.md §8): a resolved ticket with no answer from the teacher is closed after a
number of working days of the territory's calendar, the teacher told the working day before; a
closed ticket reopens when the teacher writes within a number of calendar days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .calendar import Calendar

__all__ = [
    "GDPR_ARTICLE", "AutoClose", "LifecycleRules", "RetentionRules", "add_months", "auto_close_times",
]

#: The article every retention error cites.
GDPR_ARTICLE = "RGPD art. 5.1.e (limitation de la conservation)"

#: The one value of `privacy.statistics`: the figures outlive the people, never their names.
STATISTICS_ANONYMISED = "anonymised"


@dataclass(frozen=True, slots=True)
class RetentionRules:
    """Months after a ticket ends (closed or cancelled) before each kind of personal data goes."""

    source: str
    #: Texts: the ticket's description and messages, replies, notes; the raw inbound messages
    #: (updates, mails), the outbox rows and the conversation state of the ticket's requester.
    messages_months: int = 12
    #: Photos and documents: their bytes and file names.
    attachments_months: int = 6
    #: The teacher's name and channel identities (Telegram id, e-mail address, web-chat session),
    #: counted from the end of the teacher's last ticket (or first contact, with no ticket).
    identities_months: int = 24
    statistics: str = STATISTICS_ANONYMISED


@dataclass(frozen=True, slots=True)
class LifecycleRules:
    """Delays of the end of a ticket's life."""

    source: str
    #: Working days a resolved ticket waits for the teacher's answer before it closes itself.
    close_resolved_after_working_days: int = 5
    #: Calendar days after closure during which a teacher's message reopens the ticket.
    reopen_within_days: int = 14


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` moved by `months` calendar months (negative: back), the day clamped to the month's end."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for day in range(moment.day, 0, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError(f"cannot move {moment} by {months} months")  # pragma: no cover - day 1 always exists


def _next_working_day(calendar: Calendar, day: date) -> date:
    day += timedelta(days=1)
    for _ in range(370):
        if calendar.is_working_day(day):
            return day
        day += timedelta(days=1)
    raise ValueError(f"calendar has no working day in the year after {day}")


def _opening(calendar: Calendar, day: date) -> datetime:
    """The UTC instant `day` opens (its first opening window)."""
    return calendar.local_instant(day, calendar.opening_hours[0][0])


@dataclass(frozen=True, slots=True)
class AutoClose:
    """When a resolved ticket's notice is due and when it closes, on the territory's calendar."""

    notice_at: datetime
    close_at: datetime
    #: The local working day of the closure, told to the teacher.
    close_day: date


def auto_close_times(calendar: Calendar, resolved_at: datetime, working_days: int,
                     notice_sent_at: datetime | None = None) -> AutoClose:
    """The notice on the last counted working day's opening, the closure on the next working day's.

    The counted days are the working days after the day of resolution: resolved on Friday with 2
    working days (no holiday), Monday and Tuesday count, the teacher is told on Tuesday at opening
    and the ticket closes on Wednesday at opening. A notice sent late (the desk was down) moves the
    closure to the working day after it: the teacher always has a working day to answer.
    """
    day = resolved_at.astimezone(calendar.tz).date()
    for _ in range(working_days):
        day = _next_working_day(calendar, day)
    close_day = _next_working_day(calendar, day)
    if notice_sent_at is not None:
        told = notice_sent_at.astimezone(calendar.tz).date()
        if told >= close_day:
            close_day = _next_working_day(calendar, told)
    return AutoClose(notice_at=_opening(calendar, day), close_at=_opening(calendar, close_day), close_day=close_day)

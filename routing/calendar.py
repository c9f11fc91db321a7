"""A territory's working calendar: time zone, public holidays, closures and opening hours.

Pure maths over plain data: the only lookup is the `holidays` package, cached per
(country, subdivision, year). Every instant going in must be timezone-aware; every
instant coming out is UTC-aware. Days are walked in the territory's local time, so a
working day runs from local midnight to the next local midnight (23 or 25 real hours on
DST nights) and opening hours are local wall-clock times.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import InitVar, dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.vocabulary import ClockMode

__all__ = ["Calendar", "FAR_FUTURE", "as_utc"]

#: End of the open-ended interval of `calendar` mode; far beyond any SLA.
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)

_ONE_DAY = timedelta(days=1)
_FULL_DAY = ((timedelta(0), _ONE_DAY),)
#: Consecutive days without any counted time after which a calendar is declared broken.
_MAX_IDLE_DAYS = 3660

_WEEKDAYS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        ("mon", "monday", "lun", "lundi"),
        ("tue", "tuesday", "mar", "mardi"),
        ("wed", "wednesday", "mer", "mercredi"),
        ("thu", "thursday", "jeu", "jeudi"),
        ("fri", "friday", "ven", "vendredi"),
        ("sat", "saturday", "sam", "samedi"),
        ("sun", "sunday", "dim", "dimanche"),
    )
):
    for _name in _names:
        _WEEKDAYS[_name] = _index


def as_utc(moment: datetime, label: str = "datetime") -> datetime:
    """Return `moment` in UTC, refusing naive datetimes whose meaning would be a guess."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{label} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{label} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


@functools.lru_cache(maxsize=1024)
def _public_holidays(country: str | None, subdivision: str | None, year: int) -> frozenset[date]:
    """Public holidays of one year, computed once per (country, subdivision, year)."""
    if country is None:
        return frozenset()
    import holidays  # noqa: PLC0415 - 0.15 s of imports (every country's module) that routing alone never needs

    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())


@dataclass(frozen=True, slots=True)
class Calendar:
    """When a territory works: which local days count and which local hours are open."""

    tz: tzinfo
    #: Country code for the `holidays` package; None for a calendar without public holidays.
    country: str | None = "FR"
    subdivision: str | None = None
    closures: frozenset[date] = frozenset()
    working_weekdays: frozenset[int] = frozenset(range(5))
    #: Opening windows as offsets from local midnight, e.g. ((8 h, 18 h),); 24 h = midnight.
    opening_hours: tuple[tuple[timedelta, timedelta], ...] = (
        (timedelta(hours=8), timedelta(hours=18)),
    )
    #: False: the country and subdivision are not looked up in `holidays` now (`check_public_holidays`
    #: does it later; `guichet triage` routes without ever reading the calendar).
    check_holidays: InitVar[bool] = True

    def __post_init__(self, check_holidays: bool) -> None:
        """Validate eagerly so a bad territory file fails at load time, not at the first ticket."""
        if not isinstance(self.tz, tzinfo):
            raise TypeError(f"tz must be a tzinfo (e.g. ZoneInfo), not {type(self.tz).__name__}")
        if not self.working_weekdays:
            raise ValueError("a calendar needs at least one working weekday")
        if not self.working_weekdays <= set(range(7)):
            raise ValueError(f"working weekdays must be 0 (Monday) to 6, got {sorted(self.working_weekdays)}")
        if any(isinstance(day, datetime) or not isinstance(day, date) for day in self.closures):
            raise ValueError("closures must be dates, not datetimes")
        if not self.opening_hours:
            raise ValueError("opening hours must hold at least one window")
        previous_end = timedelta(0)
        for opens, closes in self.opening_hours:
            if not (previous_end <= opens < closes <= _ONE_DAY):
                raise ValueError(
                    "opening hours must be ordered, non-overlapping windows within one day, got "
                    + ", ".join(f"{_fmt(a)}-{_fmt(b)}" for a, b in self.opening_hours)
                )
            previous_end = closes
        if self.country is None and self.subdivision is not None:
            raise ValueError(f"subdivision {self.subdivision!r} needs a country")
        if check_holidays:
            self.check_public_holidays()

    def check_public_holidays(self) -> None:
        """ValueError when `holidays` knows no public holidays for the country and subdivision."""
        try:
            _public_holidays(self.country, self.subdivision, 2000)
        except NotImplementedError as exc:  # how `holidays` says "unknown country/subdivision"
            raise ValueError(f"no public holidays for {self.country}/{self.subdivision}: {exc}") from None

    @classmethod
    def from_dict(
        cls, timezone: str | tzinfo, data: Mapping[str, Any] | None, *, check_holidays: bool = True
    ) -> Calendar:
        """Build a calendar from a territory file's `timezone` value and `calendar` section."""
        data = dict(data or {})
        unknown = set(data) - {"country", "subdivision", "opening_hours", "working_days", "closures"}
        if unknown:
            raise ValueError(f"unknown calendar keys: {', '.join(sorted(unknown))}")
        tz = _parse_timezone(timezone)
        country = data.get("country", "FR")  # an explicit null means no public holidays
        if country is not None and (not isinstance(country, str) or not country):
            raise ValueError(f"calendar country must be a code such as 'FR', got {country!r}")
        subdivision = data.get("subdivision")
        if subdivision is not None:
            # YAML reads an unquoted 974 as an int: the `holidays` code is the string.
            if isinstance(subdivision, bool) or not isinstance(subdivision, (str, int)):
                raise ValueError(f"calendar subdivision must be a code such as '974', got {subdivision!r}")
            subdivision = str(subdivision)
        kwargs: dict[str, Any] = {"tz": tz, "country": country and country.upper(), "subdivision": subdivision,
                                  "check_holidays": check_holidays}
        if data.get("working_days") is not None:
            kwargs["working_weekdays"] = _parse_weekdays(data["working_days"])
        if data.get("opening_hours") is not None:
            kwargs["opening_hours"] = _parse_opening_hours(data["opening_hours"])
        if data.get("closures") is not None:
            kwargs["closures"] = _parse_closures(data["closures"])
        return cls(**kwargs)

    def public_holidays(self, year: int) -> frozenset[date]:
        """The territory's public holidays of `year` (cached)."""
        return _public_holidays(self.country, self.subdivision, year)

    def is_working_day(self, day: date) -> bool:
        """Whether `day` (a local date) is a working weekday that is neither a holiday nor a closure."""
        if isinstance(day, datetime):
            raise TypeError("is_working_day takes a local date, not a datetime")
        return (
            day.weekday() in self.working_weekdays
            and day not in self.closures
            and day not in _public_holidays(self.country, self.subdivision, day.year)
        )

    def local_instant(self, day: date, offset: timedelta) -> datetime:
        """The UTC instant of local wall-clock `day` 00:00 + `offset` (a nonexistent DST time maps forward)."""
        wall = datetime.combine(day, time()) + offset
        return wall.replace(tzinfo=self.tz).astimezone(UTC)

    def working_intervals(
        self, start: datetime, end: datetime | None, mode: ClockMode | str
    ) -> Iterator[tuple[datetime, datetime]]:
        """Yield the counted UTC intervals between `start` and `end` (open-ended when `end` is None), in order."""
        mode = ClockMode(mode)
        lower = as_utc(start, "start")
        upper = None if end is None else as_utc(end, "end")
        if upper is not None and upper <= lower:
            return
        if mode is ClockMode.CALENDAR:
            yield lower, upper if upper is not None else FAR_FUTURE
            return
        windows = _FULL_DAY if mode is ClockMode.BUSINESS_DAYS else self.opening_hours
        day = lower.astimezone(self.tz).date()
        last_day = None if upper is None else upper.astimezone(self.tz).date()
        idle = 0
        while last_day is None or day <= last_day:
            if self.is_working_day(day):
                idle = 0
                for opens, closes in windows:
                    a = self.local_instant(day, opens)
                    b = self.local_instant(day, closes)
                    if upper is not None and a >= upper:
                        return
                    a = max(a, lower)
                    if upper is not None:
                        b = min(b, upper)
                    if a < b:
                        yield a, b
            else:
                idle += 1
                if idle > _MAX_IDLE_DAYS:
                    raise ValueError(f"calendar has no working day for {_MAX_IDLE_DAYS} days before {day}")
            day += _ONE_DAY


def _fmt(offset: timedelta) -> str:
    """Format an offset from midnight as HH:MM."""
    minutes = int(offset.total_seconds() // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _parse_timezone(value: str | tzinfo) -> tzinfo:
    """Resolve an IANA time zone name."""
    if isinstance(value, tzinfo):
        return value
    if not isinstance(value, str) or not value:
        raise ValueError(f"timezone must be an IANA name such as 'Europe/Paris', got {value!r}")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None


def _parse_weekdays(values: Iterable[Any]) -> frozenset[int]:
    """Parse weekday names (mon, tuesday, lundi...) into 0 = Monday ... 6 = Sunday."""
    if isinstance(values, (str, bytes)):
        raise ValueError(f"working_days must be a list such as [mon, tue], got {values!r}")
    days = set()
    for value in values:
        key = str(value).strip().lower()
        if key not in _WEEKDAYS:
            raise ValueError(f"unknown weekday {value!r} (use mon, tue, wed, thu, fri, sat, sun)")
        days.add(_WEEKDAYS[key])
    return frozenset(days)


def _parse_clock_time(value: Any) -> timedelta:
    """Parse 'HH:MM' (00:00 to 24:00) into an offset from midnight."""
    if isinstance(value, int) and not isinstance(value, bool):
        # PyYAML reads an unquoted 18:00 as the base-60 integer 1080.
        raise ValueError(f"opening hour {value!r} is not an 'HH:MM' string: quote times in YAML (\"18:00\")")
    if not isinstance(value, str):
        raise ValueError(f"opening hour must be an 'HH:MM' string, got {value!r}")
    try:
        hours_text, minutes_text = value.strip().split(":")
        hours, minutes = int(hours_text), int(minutes_text)
    except ValueError:
        raise ValueError(f"opening hour must be 'HH:MM', got {value!r}") from None
    if not (0 <= minutes < 60 and 0 <= hours <= 24) or (hours == 24 and minutes):
        raise ValueError(f"opening hour out of range: {value!r}")
    return timedelta(hours=hours, minutes=minutes)


def _parse_opening_hours(value: Any) -> tuple[tuple[timedelta, timedelta], ...]:
    """Parse ["08:00", "18:00"] or a list of such windows ([["08:00", "12:00"], ["13:30", "17:00"]])."""
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"opening_hours must be [\"HH:MM\", \"HH:MM\"], got {value!r}")
    pairs = [value] if not isinstance(value[0], (list, tuple)) else list(value)
    windows = []
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(f"an opening window must be [\"HH:MM\", \"HH:MM\"], got {pair!r}")
        windows.append((_parse_clock_time(pair[0]), _parse_clock_time(pair[1])))
    return tuple(windows)


def _parse_closures(values: Any) -> frozenset[date]:
    """Parse closure days given as ISO strings or YAML dates."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ValueError(f"closures must be a list of ISO dates, got {values!r}")
    days = set()
    for value in values:
        if isinstance(value, datetime):
            raise ValueError(f"a closure is a whole day, not an instant: {value!r}")
        if isinstance(value, date):
            days.add(value)
            continue
        try:
            days.add(date.fromisoformat(str(value)))
        except ValueError:
            raise ValueError(f"closure {value!r} is not an ISO date (YYYY-MM-DD)") from None
    return frozenset(days)

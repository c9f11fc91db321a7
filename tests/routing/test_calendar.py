"""Tests of routing.calendar: parsing a territory's calendar, working days and counted intervals."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.vocabulary import ClockMode
from routing.calendar import FAR_FUTURE, Calendar, as_utc

PARIS_TZ = ZoneInfo("Europe/Paris")
REUNION_TZ = ZoneInfo("Indian/Reunion")
SEM_CALENDAR = {
    "country": "FR",
    "subdivision": None,
    "opening_hours": ["08:00", "18:00"],
    "working_days": ["mon", "tue", "wed", "thu", "fri"],
    "closures": [],
}
PARIS = Calendar.from_dict("Europe/Paris", SEM_CALENDAR)
REUNION = Calendar.from_dict("Indian/Reunion", {**SEM_CALENDAR, "subdivision": "974"})
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
EVERY_DAY = Calendar.from_dict("Europe/Paris", {**SEM_CALENDAR, "working_days": ALL_DAYS})
#: Every day works, no public holidays: business days must then be the wall clock.
NEVER_CLOSED = Calendar.from_dict("Europe/Paris", {"country": None, "working_days": ALL_DAYS})
SPLIT_HOURS = Calendar.from_dict("Europe/Paris", {**SEM_CALENDAR, "opening_hours": [["08:30", "12:00"], ["13:30", "17:00"]]})

PROPERTY = settings(max_examples=150, deadline=None)


def paris(*args: int) -> datetime:
    """An aware instant in Paris local time."""
    return datetime(*args, tzinfo=PARIS_TZ)


def hours(value: float) -> timedelta:
    """A number of hours as a timedelta."""
    return timedelta(hours=value)


def total(intervals) -> timedelta:
    """Sum of interval lengths."""
    return sum((b - a for a, b in intervals), timedelta(0))


# --- parsing -------------------------------------------------------------------------


def test_from_dict_reads_the_sem_preset():
    """The SEM calendar section gives Paris time, French holidays, Monday-Friday, 08:00-18:00."""
    assert PARIS.tz == PARIS_TZ
    assert PARIS.country == "FR" and PARIS.subdivision is None
    assert PARIS.working_weekdays == frozenset(range(5))
    assert PARIS.opening_hours == ((hours(8), hours(18)),)
    assert PARIS.closures == frozenset()


def test_from_dict_defaults_when_the_section_is_empty():
    """A missing calendar section means France, Monday-Friday, 08:00-18:00."""
    assert Calendar.from_dict("Europe/Paris", None) == PARIS


def test_from_dict_parses_the_yaml_of_a_territory_file():
    """A YAML file as the colleague's presets write it parses, closures becoming dates."""
    text = """
timezone: Indian/Reunion
calendar: {country: FR, subdivision: 974, opening_hours: ["07:30", "16:30"],
           working_days: [mon, tue, wed, thu, fri], closures: [2026-05-15, "2026-11-02"]}
"""
    data = yaml.safe_load(text)
    calendar = Calendar.from_dict(data["timezone"], data["calendar"])
    assert calendar.subdivision == "974"  # YAML read it as the int 974
    assert calendar.closures == {date(2026, 5, 15), date(2026, 11, 2)}
    assert calendar.opening_hours == ((hours(7.5), hours(16.5)),)


def test_from_dict_accepts_split_opening_hours_and_full_weekday_names():
    """Opening hours may be several windows, weekdays long English or French names."""
    calendar = Calendar.from_dict(
        "Europe/Paris", {"opening_hours": [["08:30", "12:00"], ["13:30", "24:00"]], "working_days": ["Monday", "mardi"]}
    )
    assert calendar.opening_hours == ((hours(8.5), hours(12)), (hours(13.5), hours(24)))
    assert calendar.working_weekdays == {0, 1}


def test_unquoted_yaml_time_is_refused_with_a_hint():
    """PyYAML reads an unquoted 18:00 as 1080 (base 60): the error says to quote it."""
    data = yaml.safe_load("opening_hours: [08:00, 18:00]")
    assert data["opening_hours"] == ["08:00", 1080]
    with pytest.raises(ValueError, match="quote"):
        Calendar.from_dict("Europe/Paris", data)


@pytest.mark.parametrize(
    ("timezone", "section", "message"),
    [
        ("Europe/Nowhere", {}, "unknown time zone"),
        ("Europe/Paris", {"subdivision": "999"}, "no public holidays"),
        ("Europe/Paris", {"country": "XX"}, "no public holidays"),
        ("Europe/Paris", {"working_days": ["mon", "funday"]}, "unknown weekday"),
        ("Europe/Paris", {"working_days": []}, "at least one working weekday"),
        ("Europe/Paris", {"opening_hours": ["18:00", "08:00"]}, "ordered"),
        ("Europe/Paris", {"opening_hours": [["08:00", "13:00"], ["12:00", "18:00"]]}, "non-overlapping"),
        ("Europe/Paris", {"opening_hours": ["08:00", "25:00"]}, "out of range"),
        ("Europe/Paris", {"opening_hours": ["8h", "18h"]}, "HH:MM"),
        ("Europe/Paris", {"closures": ["15/05/2026"]}, "ISO date"),
        ("Europe/Paris", {"closures": [datetime(2026, 5, 15, 8)]}, "whole day"),
        ("Europe/Paris", {"closure": ["2026-05-15"]}, "unknown calendar keys"),
    ],
)
def test_from_dict_rejects_bad_sections(timezone, section, message):
    """Each kind of mistake in a calendar section is a ValueError that names it."""
    with pytest.raises(ValueError, match=message):
        Calendar.from_dict(timezone, section)


# --- working days ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 1),
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),
        date(2026, 5, 8),
        date(2026, 5, 14),  # Ascension Thursday 2026
        date(2026, 5, 25),  # Whit Monday 2026
        date(2027, 5, 6),  # Ascension Thursday 2027
        date(2027, 5, 17),  # Whit Monday 2027
        date(2026, 7, 14),
        date(2026, 11, 11),
        date(2026, 12, 25),
    ],
)
def test_public_holidays_are_not_working_days(day):
    """French public holidays that fall on weekdays do not count, Whit Monday included."""
    assert day.weekday() < 5
    assert not PARIS.is_working_day(day)


@pytest.mark.parametrize("day", [date(2026, 12, 24), date(2026, 12, 31), date(2026, 5, 13), date(2026, 5, 15)])
def test_eves_and_bridges_are_working_days(day):
    """24 and 31 December and the « pont » around Ascension are ordinary working days."""
    assert PARIS.is_working_day(day)


def test_weekends_are_not_working_days():
    """Saturday and Sunday never count on a Monday-Friday calendar."""
    assert not PARIS.is_working_day(date(2026, 6, 6))
    assert not PARIS.is_working_day(date(2026, 6, 7))
    assert PARIS.is_working_day(date(2026, 6, 8))


def test_abolition_of_slavery_is_a_holiday_in_la_reunion_only():
    """20 December (a Monday in 2027) is a holiday with subdivision 974, not in mainland France."""
    assert not REUNION.is_working_day(date(2027, 12, 20))
    assert PARIS.is_working_day(date(2027, 12, 20))
    assert date(2026, 12, 20) in REUNION.public_holidays(2026)
    assert date(2026, 12, 20) not in PARIS.public_holidays(2026)
    assert REUNION.public_holidays(2026) - PARIS.public_holidays(2026) == {date(2026, 12, 20)}


def test_closures_are_not_working_days():
    """An extra closure day of the territory does not count."""
    closed = dataclasses.replace(PARIS, closures=frozenset({date(2026, 5, 15)}))
    assert not closed.is_working_day(date(2026, 5, 15))
    assert PARIS.is_working_day(date(2026, 5, 15))


def test_a_null_country_means_no_public_holidays():
    """`country: null` gives a calendar without public holidays (e.g. a 24/7 operator)."""
    assert NEVER_CLOSED.is_working_day(date(2026, 12, 25))
    assert NEVER_CLOSED.public_holidays(2026) == frozenset()


def test_holidays_are_cached_per_year():
    """The holiday set of a year is computed once and shared by equal calendars."""
    assert PARIS.public_holidays(2031) is Calendar.from_dict("Europe/Paris", {}).public_holidays(2031)


def test_is_working_day_takes_a_date():
    """A datetime would hide a time-zone question, so it is refused."""
    with pytest.raises(TypeError):
        PARIS.is_working_day(paris(2026, 6, 8, 10))


# --- counted intervals ----------------------------------------------------------------


def test_business_days_intervals_skip_the_weekend():
    """From Friday 10:00 to Tuesday 10:00, Friday's rest, Monday and Tuesday morning count."""
    spans = list(PARIS.working_intervals(paris(2026, 6, 5, 10), paris(2026, 6, 9, 10), ClockMode.BUSINESS_DAYS))
    assert spans == [
        (as_utc(paris(2026, 6, 5, 10)), as_utc(paris(2026, 6, 6))),
        (as_utc(paris(2026, 6, 8)), as_utc(paris(2026, 6, 9))),
        (as_utc(paris(2026, 6, 9)), as_utc(paris(2026, 6, 9, 10))),
    ]
    assert total(spans) == hours(48)
    assert all(a.tzinfo is UTC and b.tzinfo is UTC for a, b in spans)


def test_business_hours_intervals_are_opening_hours():
    """Friday 17:55 to Monday 12:00 counts five minutes on Friday and four hours on Monday."""
    spans = list(PARIS.working_intervals(paris(2026, 6, 5, 17, 55), paris(2026, 6, 8, 12), "business_hours"))
    assert spans == [
        (as_utc(paris(2026, 6, 5, 17, 55)), as_utc(paris(2026, 6, 5, 18))),
        (as_utc(paris(2026, 6, 8, 8)), as_utc(paris(2026, 6, 8, 12))),
    ]


def test_split_opening_hours_skip_lunch():
    """A day with two windows counts both and not the break between them."""
    spans = list(SPLIT_HOURS.working_intervals(paris(2026, 6, 8), paris(2026, 6, 9), "business_hours"))
    assert total(spans) == hours(7)
    assert spans[0][1] == as_utc(paris(2026, 6, 8, 12)) and spans[1][0] == as_utc(paris(2026, 6, 8, 13, 30))


@pytest.mark.parametrize(
    ("sunday", "length"),
    [(date(2026, 3, 29), hours(23)), (date(2026, 10, 25), hours(25)), (date(2027, 3, 28), hours(23)), (date(2027, 10, 31), hours(25))],
)
def test_a_working_day_lasts_its_real_length_on_dst_nights(sunday, length):
    """Local midnight to local midnight is 23 h in March and 25 h in October in Europe/Paris."""
    start = datetime.combine(sunday, datetime.min.time(), PARIS_TZ)
    end = datetime.combine(sunday + timedelta(days=1), datetime.min.time(), PARIS_TZ)
    assert total(EVERY_DAY.working_intervals(start, end, ClockMode.BUSINESS_DAYS)) == length
    assert total(EVERY_DAY.working_intervals(start, end, ClockMode.BUSINESS_HOURS)) == hours(10)


def test_opening_hours_are_local_wall_clock_across_dst():
    """08:00 Paris is 07:00 UTC in winter and 06:00 UTC in summer."""
    assert EVERY_DAY.local_instant(date(2026, 3, 28), hours(8)) == datetime(2026, 3, 28, 7, tzinfo=UTC)
    assert EVERY_DAY.local_instant(date(2026, 3, 29), hours(8)) == datetime(2026, 3, 29, 6, tzinfo=UTC)
    # 02:00 does not exist that night: it maps forward to 03:00 CEST (01:00 UTC).
    assert EVERY_DAY.local_instant(date(2026, 3, 29), hours(2)) == datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert EVERY_DAY.local_instant(date(2026, 3, 29), hours(3)) == datetime(2026, 3, 29, 1, tzinfo=UTC)


def test_reunion_intervals_use_its_own_time_zone_and_holidays():
    """In La Réunion (UTC+4) Monday 20 December 2027 is skipped and days start at 20:00 UTC."""
    start = datetime(2027, 12, 17, 10, tzinfo=REUNION_TZ)
    spans = list(REUNION.working_intervals(start, datetime(2027, 12, 22, tzinfo=REUNION_TZ), "business_days"))
    assert spans[1] == (datetime(2027, 12, 20, 20, tzinfo=UTC), datetime(2027, 12, 21, 20, tzinfo=UTC))
    assert total(spans) == hours(14 + 24)


def test_calendar_mode_is_one_wall_clock_interval():
    """In calendar mode everything counts, open-ended up to a far future when there is no end."""
    start, end = paris(2026, 6, 6, 10), paris(2026, 6, 7, 10)
    assert list(PARIS.working_intervals(start, end, "calendar")) == [(as_utc(start), as_utc(end))]
    assert list(PARIS.working_intervals(start, None, "calendar")) == [(as_utc(start), FAR_FUTURE)]


def test_empty_or_reversed_ranges_yield_nothing():
    """An end at or before the start has no counted interval."""
    assert list(PARIS.working_intervals(paris(2026, 6, 8, 10), paris(2026, 6, 8, 10), "business_days")) == []
    assert list(PARIS.working_intervals(paris(2026, 6, 8, 10), paris(2026, 6, 8, 9), "business_hours")) == []


def test_naive_instants_are_refused():
    """A naive datetime has no instant: ValueError rather than a guess."""
    with pytest.raises(ValueError, match="timezone-aware"):
        list(PARIS.working_intervals(datetime(2026, 6, 8, 10), None, "business_days"))
    with pytest.raises(ValueError, match="timezone-aware"):
        list(PARIS.working_intervals(paris(2026, 6, 8, 10), datetime(2026, 6, 9), "business_days"))


def test_unknown_mode_is_refused():
    """A mode outside ClockMode is a ValueError."""
    with pytest.raises(ValueError):
        list(PARIS.working_intervals(paris(2026, 6, 8, 10), None, "weekdays"))


def test_open_ended_walk_goes_on_past_a_long_closure():
    """An open-ended walk crosses a month of closures and resumes on the next working day."""
    closed = dataclasses.replace(PARIS, closures=frozenset(date(2026, 7, 1) + timedelta(days=i) for i in range(31)))
    first = next(closed.working_intervals(paris(2026, 7, 1, 9), None, "business_days"))
    assert first[0] == as_utc(paris(2026, 8, 3))


# --- properties -----------------------------------------------------------------------

instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)).map(
    lambda moment: moment.replace(tzinfo=UTC)
)
calendars = st.sampled_from([PARIS, REUNION, EVERY_DAY, SPLIT_HOURS])
modes = st.sampled_from(list(ClockMode))


@PROPERTY
@given(calendar=calendars, mode=modes, start=instants, span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)))
def test_intervals_are_ordered_disjoint_and_inside_the_range(calendar, mode, start, span):
    """Counted intervals are increasing, disjoint, non-empty, UTC and within [start, end]."""
    end = start + span
    spans = list(calendar.working_intervals(start, end, mode))
    previous = start
    for a, b in spans:
        assert a.tzinfo is UTC and b.tzinfo is UTC
        assert previous <= a < b <= end
        previous = b
    assert total(spans) <= span


@PROPERTY
@given(calendar=calendars, mode=st.sampled_from([ClockMode.BUSINESS_DAYS, ClockMode.BUSINESS_HOURS]), start=instants)
def test_counted_instants_fall_on_working_days_in_opening_hours(calendar, mode, start):
    """Every counted instant is on a local working day, and inside opening hours in business_hours mode."""
    for a, b in calendar.working_intervals(start, start + timedelta(days=10), mode):
        for moment in (a, a + (b - a) / 2, b - timedelta(microseconds=1)):
            local = moment.astimezone(calendar.tz)
            assert calendar.is_working_day(local.date())
            if mode is ClockMode.BUSINESS_HOURS:
                since_midnight = local.replace(tzinfo=None) - datetime.combine(local.date(), datetime.min.time())
                assert any(opens <= since_midnight < closes for opens, closes in calendar.opening_hours)


@PROPERTY
@given(start=instants, span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)))
def test_never_closed_calendar_counts_real_elapsed_time(start, span):
    """With every day working and no holidays, business_days is the wall clock, DST nights included."""
    assert total(NEVER_CLOSED.working_intervals(start, start + span, "business_days")) == span

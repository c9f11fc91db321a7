"""Tests of routing.clocks (SLA clock maths) and routing.sla_cli (`guichet sla due`)."""

from __future__ import annotations

import dataclasses
import io
import json
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.vocabulary import ClockMode, SlaPolicy, TicketStatus
from routing.calendar import Calendar
from routing.clocks import (
    Due,
    Policy,
    add_counted,
    counted_between,
    due,
    merge_intervals,
    paused_intervals,
    remaining,
)
from routing.sla_cli import TERRITORIES_DIR, run

PARIS_TZ = ZoneInfo("Europe/Paris")
REUNION_TZ = ZoneInfo("Indian/Reunion")
SEM_CALENDAR = {
    "country": "FR",
    "subdivision": None,
    "opening_hours": ["08:00", "18:00"],
    "working_days": ["mon", "tue", "wed", "thu", "fri"],
    "closures": [],
}
SEM_SLA = {
    "replacement": {"mode": "business_days", "target_hours": 48, "breach_hours": 72},
    "declaration": {"mode": "business_days", "target_hours": None, "breach_hours": 48},
    "first_response": {"mode": "business_hours", "target_hours": 4, "breach_hours": 8},
    "resolution": {"mode": "business_days", "target_hours": 120, "breach_hours": 240},
}
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
PARIS = Calendar.from_dict("Europe/Paris", SEM_CALENDAR)
REUNION = Calendar.from_dict("Indian/Reunion", {**SEM_CALENDAR, "subdivision": "974"})
EVERY_DAY = Calendar.from_dict("Europe/Paris", {**SEM_CALENDAR, "working_days": ALL_DAYS})
NEVER_CLOSED = Calendar.from_dict("Europe/Paris", {"country": None, "working_days": ALL_DAYS, "opening_hours": ["00:00", "24:00"]})
SPLIT_HOURS = Calendar.from_dict("Europe/Paris", {**SEM_CALENDAR, "opening_hours": [["08:30", "12:00"], ["13:30", "17:00"]]})
POLICIES = {name: Policy.from_dict(name, data) for name, data in SEM_SLA.items()}
REPLACEMENT = POLICIES["replacement"]
DECLARATION = POLICIES["declaration"]
FIRST_RESPONSE = POLICIES["first_response"]
RESOLUTION = POLICIES["resolution"]

PROPERTY = settings(max_examples=150, deadline=None)


def paris(*args: int) -> datetime:
    """An aware instant in Paris local time."""
    return datetime(*args, tzinfo=PARIS_TZ)


def reunion(*args: int) -> datetime:
    """An aware instant in La Réunion local time."""
    return datetime(*args, tzinfo=REUNION_TZ)


def h(value: float) -> timedelta:
    """A number of hours as a timedelta."""
    return timedelta(hours=value)


# --- policies ---------------------------------------------------------------------------


def test_policies_parse_from_the_territory_section():
    """The SEM `sla` section gives four policies with their modes and hours."""
    assert REPLACEMENT == Policy(SlaPolicy.REPLACEMENT, ClockMode.BUSINESS_DAYS, 48, 72)
    assert DECLARATION.target_hours is None and DECLARATION.breach_hours == 48
    assert FIRST_RESPONSE.mode is ClockMode.BUSINESS_HOURS
    assert RESOLUTION.name is SlaPolicy.RESOLUTION


def test_replacement_and_declaration_default_to_business_days():
    """DOMAIN §5 makes business_days the default mode of replacement and declaration."""
    assert Policy.from_dict("declaration", {"breach_hours": 48}).mode is ClockMode.BUSINESS_DAYS


def test_a_territory_may_declare_its_own_policy():
    """A policy name outside SlaPolicy is kept as a plain string."""
    policy = Policy.from_dict("callback", {"mode": "calendar", "target_hours": 1, "breach_hours": None})
    assert policy.name == "callback" and policy.mode is ClockMode.CALENDAR


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"target_hours": 4, "breach_hours": 8}, "mode is required"),
        ({"mode": "weekdays", "target_hours": 4}, "unknown mode"),
        ({"mode": "calendar", "target_hours": None, "breach_hours": None}, "needs target_hours"),
        ({"mode": "calendar", "target_hours": 10, "breach_hours": 8}, "exceeds"),
        ({"mode": "calendar", "target_hours": -1}, "positive"),
        ({"mode": "calendar", "target_hours": "4h"}, "positive"),
        ({"mode": "calendar", "target_hours": 4, "warn_hours": 2}, "unknown keys"),
    ],
)
def test_bad_policies_are_refused(data, message):
    """Each kind of mistake in a policy is a ValueError that names it."""
    with pytest.raises(ValueError, match=message):
        Policy.from_dict("first_response", data)


# --- business_days examples (DOMAIN §5) ----------------------------------------------------


@pytest.mark.parametrize(
    ("opened", "target", "breach"),
    [
        # Friday 10:00 + 48 h ouvrées -> Tuesday 10:00 (the DOMAIN example).
        (paris(2026, 6, 5, 10), paris(2026, 6, 9, 10), paris(2026, 6, 10, 10)),
        # Friday 17:55.
        (paris(2026, 6, 5, 17, 55), paris(2026, 6, 9, 17, 55), paris(2026, 6, 10, 17, 55)),
        # Opened on a Saturday: the clock starts Monday 00:00 and 48 h end Tuesday 24:00.
        (paris(2026, 6, 6, 15), paris(2026, 6, 10), paris(2026, 6, 11)),
        # Opened on a Sunday.
        (paris(2026, 3, 8, 15), paris(2026, 3, 11), paris(2026, 3, 12)),
        # 24 December (Thursday): Christmas Friday and the weekend do not count.
        (paris(2026, 12, 24, 10), paris(2026, 12, 29, 10), paris(2026, 12, 30, 10)),
        # The night before 1 May (a Friday in 2026).
        (paris(2026, 4, 30, 23, 30), paris(2026, 5, 5, 23, 30), paris(2026, 5, 6, 23, 30)),
        # Ascension Thursday 2026 (14 May): the Friday « pont » is a working day.
        (paris(2026, 5, 13, 10), paris(2026, 5, 18, 10), paris(2026, 5, 19, 10)),
        # Ascension Thursday 2027 (6 May); 8 May 2027 is a Saturday.
        (paris(2027, 5, 5, 10), paris(2027, 5, 10, 10), paris(2027, 5, 11, 10)),
        # Whit Monday 2026 (25 May).
        (paris(2026, 5, 22, 10), paris(2026, 5, 27, 10), paris(2026, 5, 28, 10)),
        # Whit Monday 2027 (17 May).
        (paris(2027, 5, 14, 10), paris(2027, 5, 19, 10), paris(2027, 5, 20, 10)),
        # Spring-forward weekend (29 March 2026): 10:00 CET to 10:00 CEST, 95 real hours later.
        (paris(2026, 3, 27, 10), paris(2026, 3, 31, 10), paris(2026, 4, 1, 10)),
        # Fall-back weekend (25 October 2026): 10:00 CEST to 10:00 CET.
        (paris(2026, 10, 23, 10), paris(2026, 10, 27, 10), paris(2026, 10, 28, 10)),
    ],
)
def test_replacement_due_at_awkward_instants(opened, target, breach):
    """48 h / 72 h ouvrées skip weekends and French public holidays and keep local wall times."""
    assert due(opened, REPLACEMENT, PARIS) == Due(target.astimezone(UTC), breach.astimezone(UTC))


def test_dst_weekend_shifts_the_utc_hour_not_the_local_one():
    """Across the March change, a Friday 10:00 CET ticket is due Tuesday 10:00 CEST (08:00 UTC)."""
    target = due(paris(2026, 3, 27, 10), REPLACEMENT, PARIS).target
    assert target == datetime(2026, 3, 31, 8, tzinfo=UTC)
    assert target - paris(2026, 3, 27, 10) == h(95)


def test_reunion_skips_abolition_of_slavery_day():
    """In La Réunion, Monday 20 December 2027 is a holiday, unlike in Paris."""
    assert due(reunion(2027, 12, 17, 10), REPLACEMENT, REUNION) == Due(
        reunion(2027, 12, 22, 10).astimezone(UTC), reunion(2027, 12, 23, 10).astimezone(UTC)
    )
    assert due(paris(2027, 12, 17, 10), REPLACEMENT, PARIS).target == paris(2027, 12, 21, 10).astimezone(UTC)


def test_reunion_days_are_local_to_reunion():
    """A Réunion ticket opened Friday 23:00 local (19:00 UTC) has one counted hour on Friday."""
    opened = reunion(2026, 6, 5, 23)
    assert add_counted(opened, 1, "business_days", REUNION) == reunion(2026, 6, 6).astimezone(UTC)
    assert add_counted(opened, 2, "business_days", REUNION) == reunion(2026, 6, 8, 1).astimezone(UTC)


def test_declaration_has_a_breach_and_no_target():
    """The 48 h declaration after a theft has only a breach instant (« deux jours ouvrés »)."""
    assert due(paris(2026, 6, 5, 10), DECLARATION, PARIS) == Due(None, paris(2026, 6, 9, 10).astimezone(UTC))


def test_resolution_over_whit_monday():
    """120 h / 240 h ouvrées from Friday 17:55 before Whit Monday 2026."""
    assert due(paris(2026, 5, 15, 17, 55), RESOLUTION, PARIS) == Due(
        paris(2026, 5, 22, 17, 55).astimezone(UTC), paris(2026, 6, 1, 17, 55).astimezone(UTC)
    )


def test_a_closure_day_does_not_count():
    """An extra closure (e.g. a municipal bridge day) pushes the due time by one day."""
    closed = dataclasses.replace(PARIS, closures=frozenset({date(2026, 6, 8)}))
    assert due(paris(2026, 6, 5, 10), REPLACEMENT, closed).target == paris(2026, 6, 10, 10).astimezone(UTC)


# --- business_hours examples ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("opened", "target", "breach"),
    [
        # Friday 17:55: five minutes on Friday, then Monday from 08:00.
        (paris(2026, 6, 5, 17, 55), paris(2026, 6, 8, 11, 55), paris(2026, 6, 8, 15, 55)),
        # Before opening.
        (paris(2026, 6, 8, 7), paris(2026, 6, 8, 12), paris(2026, 6, 8, 16)),
        # Opened on a Sunday.
        (paris(2026, 6, 7, 11), paris(2026, 6, 8, 12), paris(2026, 6, 8, 16)),
        # The eve of 1 May 2026 at 17:00: Friday 1 May is closed.
        (paris(2026, 4, 30, 17), paris(2026, 5, 4, 11), paris(2026, 5, 4, 15)),
        # 24 December 2026 at 16:00: Christmas Friday is closed.
        (paris(2026, 12, 24, 16), paris(2026, 12, 28, 10), paris(2026, 12, 28, 14)),
        # Wednesday before Ascension 2027 at 15:00.
        (paris(2027, 5, 5, 15), paris(2027, 5, 7, 9), paris(2027, 5, 7, 13)),
        # Friday before Whit Monday 2027 at 16:00.
        (paris(2027, 5, 14, 16), paris(2027, 5, 18, 10), paris(2027, 5, 18, 14)),
    ],
)
def test_first_response_counts_opening_hours_only(opened, target, breach):
    """« 4 h ouvrées » count 08:00-18:00 on working days only."""
    assert due(opened, FIRST_RESPONSE, PARIS) == Due(target.astimezone(UTC), breach.astimezone(UTC))


def test_first_response_skips_the_lunch_break_of_split_hours():
    """With 08:30-12:00 and 13:30-17:00, four hours from 11:00 end at 16:30."""
    assert add_counted(paris(2026, 6, 8, 11), 4, "business_hours", SPLIT_HOURS) == paris(2026, 6, 8, 16, 30).astimezone(UTC)


# --- DST nights -----------------------------------------------------------------------------


def test_calendar_mode_counts_real_hours_across_spring_forward():
    """24 wall-clock hours from Saturday 12:00 CET end Sunday 13:00 CEST."""
    assert add_counted(paris(2026, 3, 28, 12), 24, "calendar", PARIS) == paris(2026, 3, 29, 13).astimezone(UTC)


def test_calendar_mode_counts_real_hours_across_fall_back():
    """24 wall-clock hours from Saturday 12:00 CEST end Sunday 11:00 CET."""
    assert add_counted(paris(2026, 10, 24, 12), 24, "calendar", PARIS) == paris(2026, 10, 25, 11).astimezone(UTC)


def test_a_working_sunday_of_23_hours():
    """When Sunday works, the spring-forward Sunday holds 23 counted hours, not 24."""
    sunday, monday = paris(2026, 3, 29), paris(2026, 3, 30)
    assert counted_between(sunday, monday, "business_days", EVERY_DAY) == h(23)
    assert add_counted(sunday, 23, "business_days", EVERY_DAY) == monday.astimezone(UTC)
    assert add_counted(sunday, 24, "business_days", EVERY_DAY) == paris(2026, 3, 30, 1).astimezone(UTC)


def test_a_working_sunday_of_25_hours():
    """When Sunday works, the fall-back Sunday holds 25 counted hours."""
    sunday, monday = paris(2026, 10, 25), paris(2026, 10, 26)
    assert counted_between(sunday, monday, "business_days", EVERY_DAY) == h(25)
    assert add_counted(sunday, 24, "business_days", EVERY_DAY) == paris(2026, 10, 25, 23).astimezone(UTC)


def test_opening_hours_on_dst_sundays_are_ten_real_hours():
    """08:00-18:00 is ten real hours even on a DST Sunday."""
    for sunday in (date(2026, 3, 29), date(2026, 10, 25)):
        start = datetime.combine(sunday, datetime.min.time(), PARIS_TZ)
        assert counted_between(start, start + h(30), "business_hours", EVERY_DAY) == h(10)


def test_opened_in_the_repeated_hour_of_fall_back():
    """Opened at the second 02:30 of 25 October 2026 (CET), one calendar hour ends at 03:30 CET."""
    opened = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS_TZ)
    assert add_counted(opened, 1, "calendar", PARIS) == datetime(2026, 10, 25, 2, 30, tzinfo=UTC)


# --- pauses ---------------------------------------------------------------------------------


def test_waiting_over_a_weekend():
    """Waiting from Friday 12:00 to Monday 09:00 removes 21 counted hours, not 69."""
    opened = paris(2026, 6, 4, 10)
    paused = [(paris(2026, 6, 5, 12), paris(2026, 6, 8, 9))]
    assert due(opened, REPLACEMENT, PARIS) == Due(paris(2026, 6, 8, 10).astimezone(UTC), paris(2026, 6, 9, 10).astimezone(UTC))
    assert due(opened, REPLACEMENT, PARIS, paused) == Due(
        paris(2026, 6, 9, 7).astimezone(UTC), paris(2026, 6, 10, 7).astimezone(UTC)
    )


def test_waiting_only_on_the_weekend_changes_nothing():
    """A pause inside non-working time does not move the due instants."""
    opened = paris(2026, 6, 4, 10)
    paused = [(paris(2026, 6, 6, 9), paris(2026, 6, 7, 20))]
    assert due(opened, REPLACEMENT, PARIS, paused) == due(opened, REPLACEMENT, PARIS)


def test_overlapping_pauses_count_once():
    """Overlapping and unsorted pauses are merged before they are removed."""
    opened = paris(2026, 6, 8, 8)
    union = [(paris(2026, 6, 8, 9), paris(2026, 6, 8, 12))]
    pieces = [(paris(2026, 6, 8, 10), paris(2026, 6, 8, 12)), (paris(2026, 6, 8, 9), paris(2026, 6, 8, 11))]
    assert due(opened, FIRST_RESPONSE, PARIS, pieces) == due(opened, FIRST_RESPONSE, PARIS, union)
    assert due(opened, FIRST_RESPONSE, PARIS, union).target == paris(2026, 6, 8, 15).astimezone(UTC)


def test_a_pause_before_opening_is_ignored():
    """Waiting intervals before the ticket was opened do not count for anything."""
    opened = paris(2026, 6, 8, 10)
    paused = [(paris(2026, 6, 1, 10), paris(2026, 6, 8, 10))]
    assert due(opened, REPLACEMENT, PARIS, paused) == due(opened, REPLACEMENT, PARIS)


def test_a_very_long_pause_is_crossed_quickly():
    """A ten-year pause is skipped in one jump, not walked day by day."""
    opened = paris(2026, 6, 8, 10)
    started = time.perf_counter()
    result = add_counted(opened, 1, "business_days", PARIS, [(opened, paris(2036, 6, 9, 12))])
    assert time.perf_counter() - started < 0.05
    assert result == paris(2036, 6, 9, 13).astimezone(UTC)


def test_merge_intervals_validates_and_merges():
    """Touching intervals merge, empty ones vanish, reversed or naive ones are refused."""
    a, b, c = paris(2026, 6, 8, 9), paris(2026, 6, 8, 10), paris(2026, 6, 8, 11)
    assert merge_intervals([(b, c), (a, b), (c, c)]) == [(a.astimezone(UTC), c.astimezone(UTC))]
    with pytest.raises(ValueError, match="ends before"):
        merge_intervals([(c, a)])
    with pytest.raises(ValueError, match="timezone-aware"):
        merge_intervals([(datetime(2026, 6, 8, 9), c)])


def test_paused_intervals_from_status_history():
    """Each stay in `waiting` is one interval; repeated `waiting` rows do not restart it."""
    history = [
        (paris(2026, 6, 4, 10), TicketStatus.NEW),
        (paris(2026, 6, 4, 11), TicketStatus.ASSIGNED),
        (paris(2026, 6, 5, 12), TicketStatus.WAITING),
        (paris(2026, 6, 5, 15), "waiting"),
        (paris(2026, 6, 8, 9), TicketStatus.IN_PROGRESS),
        (paris(2026, 6, 8, 14), TicketStatus.WAITING),
        (paris(2026, 6, 8, 16), TicketStatus.RESOLVED),
    ]
    assert paused_intervals(history, now=paris(2026, 6, 9)) == [
        (paris(2026, 6, 5, 12).astimezone(UTC), paris(2026, 6, 8, 9).astimezone(UTC)),
        (paris(2026, 6, 8, 14).astimezone(UTC), paris(2026, 6, 8, 16).astimezone(UTC)),
    ]


def test_an_open_wait_extends_to_now_and_the_future_is_ignored():
    """A ticket still waiting is paused up to `now`; rows after `now` are not known yet."""
    history = [
        (paris(2026, 6, 8, 14), TicketStatus.IN_PROGRESS),
        (paris(2026, 6, 10, 9), TicketStatus.IN_PROGRESS),
        (paris(2026, 6, 5, 12), TicketStatus.WAITING),  # unsorted on purpose
    ]
    now = paris(2026, 6, 8, 9)
    assert paused_intervals(history, now) == [(paris(2026, 6, 5, 12).astimezone(UTC), now.astimezone(UTC))]
    assert paused_intervals([], now) == []


def test_paused_intervals_refuse_naive_instants():
    """History rows and `now` must be timezone-aware."""
    with pytest.raises(ValueError):
        paused_intervals([(datetime(2026, 6, 5, 12), "waiting")], paris(2026, 6, 8))
    with pytest.raises(ValueError):
        paused_intervals([], datetime(2026, 6, 8))


# --- remaining ------------------------------------------------------------------------------


def test_remaining_counts_counted_time_to_the_breach():
    """First response opened Friday 17:55: on Monday 09:00, 8 h - 1 h 05 of opening hours are left."""
    opened = paris(2026, 6, 5, 17, 55)
    assert remaining(paris(2026, 6, 8, 9), opened, FIRST_RESPONSE, PARIS) == h(8) - timedelta(hours=1, minutes=5)
    assert remaining(paris(2026, 6, 6, 12), opened, FIRST_RESPONSE, PARIS) == h(8) - timedelta(minutes=5)


def test_remaining_is_zero_at_the_breach_and_negative_after():
    """At the breach instant nothing is left; an hour of opening time later, minus one hour."""
    opened = paris(2026, 6, 5, 17, 55)
    breach = due(opened, FIRST_RESPONSE, PARIS).breach
    assert remaining(breach, opened, FIRST_RESPONSE, PARIS) == timedelta(0)
    assert remaining(breach + h(1), opened, FIRST_RESPONSE, PARIS) == -h(1)


def test_remaining_is_frozen_while_waiting():
    """While the ticket waits on the teacher, its remaining time does not move."""
    opened = paris(2026, 6, 8, 8)
    history = [(opened, TicketStatus.NEW), (paris(2026, 6, 8, 10), TicketStatus.WAITING)]
    left = [
        remaining(now, opened, FIRST_RESPONSE, PARIS, paused_intervals(history, now))
        for now in (paris(2026, 6, 8, 10), paris(2026, 6, 8, 17), paris(2026, 6, 10, 12))
    ]
    assert left == [h(6)] * 3


def test_remaining_uses_the_target_when_there_is_no_breach():
    """A policy with only a target measures the time left to it."""
    policy = Policy("callback", ClockMode.CALENDAR, 2, None)
    assert remaining(paris(2026, 6, 8, 9), paris(2026, 6, 8, 8), policy, PARIS) == h(1)


def test_remaining_before_opening_is_the_whole_budget():
    """A `now` before the opening has consumed nothing."""
    assert remaining(paris(2026, 6, 8, 7), paris(2026, 6, 8, 9), DECLARATION, PARIS) == h(48)


# --- contract details -----------------------------------------------------------------------


def test_naive_datetimes_are_refused():
    """Every entry point refuses naive datetimes."""
    naive = datetime(2026, 6, 8, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_counted(naive, 1, "business_days", PARIS)
    with pytest.raises(ValueError, match="timezone-aware"):
        counted_between(paris(2026, 6, 8), naive, "business_days", PARIS)
    with pytest.raises(ValueError, match="timezone-aware"):
        due(naive, REPLACEMENT, PARIS)
    with pytest.raises(ValueError, match="timezone-aware"):
        remaining(naive, paris(2026, 6, 8), REPLACEMENT, PARIS)
    with pytest.raises(ValueError, match="timezone-aware"):
        due(paris(2026, 6, 8), REPLACEMENT, PARIS, [(naive, paris(2026, 6, 9))])


def test_results_are_utc_aware_whatever_the_input_zone():
    """The same instant given in any zone gives the same UTC result."""
    opened = paris(2026, 6, 5, 17, 55)
    results = {add_counted(opened.astimezone(zone), 4, "business_hours", PARIS) for zone in (UTC, PARIS_TZ, REUNION_TZ)}
    assert len(results) == 1
    assert next(iter(results)).tzinfo is UTC


def test_hours_may_be_a_timedelta_and_zero_hours_is_the_start():
    """A timedelta amount works like hours; zero counted hours is the start itself."""
    opened = paris(2026, 6, 6, 15)
    assert add_counted(opened, h(1.5), "business_days", PARIS) == add_counted(opened, 1.5, "business_days", PARIS)
    assert add_counted(opened, 0, "business_days", PARIS) == opened.astimezone(UTC)


@pytest.mark.parametrize("amount", [-1, float("nan"), float("inf"), -h(1)])
def test_bad_amounts_are_refused(amount):
    """Negative, NaN and infinite amounts are ValueErrors."""
    with pytest.raises(ValueError):
        add_counted(paris(2026, 6, 8), amount, "business_days", PARIS)


def test_counted_between_is_antisymmetric():
    """Swapping the bounds negates the counted time."""
    a, b = paris(2026, 6, 5, 10), paris(2026, 6, 9, 10)
    assert counted_between(a, b, "business_days", PARIS) == h(48)
    assert counted_between(b, a, "business_days", PARIS) == -h(48)


def test_a_due_computation_is_fast():
    """A typical due computation takes well under a millisecond."""
    opened = paris(2026, 5, 15, 17, 55)
    due(opened, RESOLUTION, PARIS)  # warm the holiday cache
    rounds = 200
    started = time.perf_counter()
    for _ in range(rounds):
        due(opened, RESOLUTION, PARIS, [(paris(2026, 5, 18, 12), paris(2026, 5, 19, 9))])
        due(opened, FIRST_RESPONSE, PARIS)
    assert (time.perf_counter() - started) / (2 * rounds) < 1e-3


# --- properties -----------------------------------------------------------------------------

instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)).map(
    lambda moment: moment.replace(tzinfo=UTC)
)
zones = st.sampled_from([UTC, PARIS_TZ, REUNION_TZ])
calendars = st.sampled_from([PARIS, REUNION, EVERY_DAY, SPLIT_HOURS])
modes = st.sampled_from(list(ClockMode))
amounts = st.floats(min_value=0, max_value=400, allow_nan=False)
short_spans = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=12))
pause_lists = st.lists(
    st.tuples(instants, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5))).map(
        lambda pair: (pair[0], pair[0] + pair[1])
    ),
    max_size=4,
)


@st.composite
def near_pauses(draw, around):
    """Pauses within a few days of `around`, so that they actually matter."""
    count = draw(st.integers(0, 3))
    pauses = []
    for _ in range(count):
        start = around + draw(st.timedeltas(min_value=-timedelta(days=2), max_value=timedelta(days=8)))
        pauses.append((start, start + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)))))
    return pauses


@PROPERTY
@given(calendar=calendars, mode=modes, start=instants, first=amounts, second=amounts, data=st.data())
def test_monotonic_in_hours(calendar, mode, start, first, second, data):
    """More counted hours never give an earlier instant."""
    paused = data.draw(near_pauses(start))
    low, high = sorted((first, second))
    assert add_counted(start, low, mode, calendar, paused) <= add_counted(start, high, mode, calendar, paused)


@PROPERTY
@given(calendar=calendars, mode=modes, start=instants, later=short_spans, amount=amounts, data=st.data())
def test_monotonic_in_opening_instant(calendar, mode, start, later, amount, data):
    """A ticket opened later is never due earlier."""
    paused = data.draw(near_pauses(start))
    assert add_counted(start, amount, mode, calendar, paused) <= add_counted(start + later, amount, mode, calendar, paused)


@PROPERTY
@given(calendar=calendars, mode=modes, start=instants, amount=amounts, data=st.data())
def test_a_pause_never_brings_a_due_time_earlier(calendar, mode, start, amount, data):
    """Adding a waiting interval can only delay the due instant."""
    paused = data.draw(near_pauses(start))
    extra = data.draw(near_pauses(start))
    base = add_counted(start, amount, mode, calendar, paused)
    assert add_counted(start, amount, mode, calendar, paused + extra) >= base


@PROPERTY
@given(
    calendar=st.sampled_from([PARIS, REUNION, EVERY_DAY, SPLIT_HOURS]),
    mode=st.sampled_from([ClockMode.BUSINESS_DAYS, ClockMode.BUSINESS_HOURS]),
    start=instants,
    amount=amounts,
    offset=st.integers(-2, 20),
)
def test_a_holiday_never_brings_a_due_time_earlier(calendar, mode, start, amount, offset):
    """Closing one more day can only delay the due instant."""
    closed_day = start.astimezone(calendar.tz).date() + timedelta(days=offset)
    closed = dataclasses.replace(calendar, closures=calendar.closures | {closed_day})
    assert add_counted(start, amount, mode, closed) >= add_counted(start, amount, mode, calendar)


@PROPERTY
@given(calendar=calendars, mode=modes, start=instants, zone=zones, amount=amounts, data=st.data())
def test_counted_between_inverts_add_counted(calendar, mode, start, zone, amount, data):
    """Exactly `hours` of counted time lie between the start and add_counted's answer, which is UTC."""
    paused = data.draw(near_pauses(start))
    end = add_counted(start.astimezone(zone), amount, mode, calendar, paused)
    assert end.tzinfo is UTC
    assert counted_between(start, end, mode, calendar, paused) == h(amount)
    if h(amount):  # a tiny float may round to zero microseconds
        # Earliest: a microsecond earlier, the amount is not yet reached.
        assert counted_between(start, end - timedelta(microseconds=1), mode, calendar, paused) < h(amount)


@PROPERTY
@given(calendar=calendars, mode=modes, start=instants, span=short_spans, data=st.data())
def test_add_counted_inverts_counted_between(calendar, mode, start, span, data):
    """Adding the counted time between two instants never overshoots the second one."""
    paused = data.draw(near_pauses(start))
    elapsed = counted_between(start, start + span, mode, calendar, paused)
    assert timedelta(0) <= elapsed <= span
    back = add_counted(start, elapsed, mode, calendar, paused)
    assert back <= start + span
    assert counted_between(start, back, mode, calendar, paused) == elapsed


@PROPERTY
@given(calendar=calendars, mode=modes, start=instants, first=short_spans, second=short_spans, paused=pause_lists)
def test_counted_time_is_additive(calendar, mode, start, first, second, paused):
    """Counted time from a to c is from a to b plus from b to c."""
    b, c = start + first, start + first + second
    assert counted_between(start, c, mode, calendar, paused) == (
        counted_between(start, b, mode, calendar, paused) + counted_between(b, c, mode, calendar, paused)
    )


@PROPERTY
@given(mode=modes, start=instants, amount=amounts)
def test_dst_safe_when_every_hour_counts(mode, start, amount):
    """With every day working, no holidays and 00:00-24:00 opening, all modes are the wall clock."""
    assert add_counted(start, amount, mode, NEVER_CLOSED) == start + h(amount)


@PROPERTY
@given(start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)), amount=amounts)
def test_business_days_keep_the_local_wall_time_over_whole_days(start, amount):
    """A whole number of working days later, the local wall-clock time is the same (DST or not)."""
    opened = start.replace(tzinfo=PARIS_TZ)
    assume(PARIS.is_working_day(opened.date()) and opened.astimezone(UTC).astimezone(PARIS_TZ) == opened)
    assume(opened.replace(fold=1).utcoffset() == opened.utcoffset())  # not in the repeated hour
    days = int(amount // 24)
    result = add_counted(opened, days * 24, "business_days", PARIS).astimezone(PARIS_TZ)
    assert result.time() == opened.time()
    # The last counted microsecond is on a working day (the answer itself may be the next midnight).
    assert PARIS.is_working_day((result - timedelta(microseconds=1)).date()) or days == 0


def _brute_force_minutes(calendar, mode, start, end, paused) -> int:
    """Count counted 5-minute slots between two instants on a 5-minute grid, slot by slot."""
    slot = timedelta(minutes=5)
    count = 0
    moment = start
    while moment < end:
        middle = moment + slot / 2
        local = middle.astimezone(calendar.tz)
        counts = mode is ClockMode.CALENDAR or calendar.is_working_day(local.date())
        if counts and mode is ClockMode.BUSINESS_HOURS:
            since_midnight = timedelta(hours=local.hour, minutes=local.minute, seconds=local.second)
            counts = any(opens <= since_midnight < closes for opens, closes in calendar.opening_hours)
        if counts and any(a <= middle < b for a, b in paused):
            counts = False
        count += counts
        moment += slot
    return count * 5


grid = st.integers(0, (4 * 365) * 24 * 12).map(lambda n: datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=5 * n))


@settings(max_examples=100, deadline=None)
@given(
    calendar=calendars,
    mode=modes,
    start=grid,
    slots=st.integers(0, 4 * 24 * 12),
    paused=st.lists(st.tuples(st.integers(-300, 1500), st.integers(0, 600)), max_size=3),
)
def test_counted_between_matches_a_slot_by_slot_count(calendar, mode, start, slots, paused):
    """Over a few days, the day-skipping arithmetic agrees with a naive 5-minute walk."""
    end = start + timedelta(minutes=5 * slots)
    pauses = [(start + timedelta(minutes=5 * a), start + timedelta(minutes=5 * (a + n))) for a, n in paused]
    expected = _brute_force_minutes(calendar, mode, start, end, pauses)
    assert counted_between(start, end, mode, calendar, pauses) == timedelta(minutes=expected)


@PROPERTY
@given(policy=st.sampled_from(list(POLICIES.values())), calendar=calendars, opened=instants, paused=pause_lists)
def test_target_never_after_breach(policy, calendar, opened, paused):
    """Whenever a policy has both, its target comes no later than its breach."""
    result = due(opened, policy, calendar, paused)
    if result.target is not None and result.breach is not None:
        assert result.target <= result.breach
    assert result.breach is not None and result.breach >= opened


# --- `guichet sla due` ----------------------------------------------------------------------

SEM_FILE = {"timezone": "Europe/Paris", "calendar": SEM_CALENDAR, "sla": SEM_SLA}
SAINT_DENIS_FILE = {
    "timezone": "Indian/Reunion",
    "calendar": {**SEM_CALENDAR, "subdivision": "974"},
    "sla": SEM_SLA,
}


@pytest.fixture
def territories(tmp_path):
    """A temporary territories directory holding SEM and Saint-Denis presets."""
    (tmp_path / "sem.yml").write_text(yaml.safe_dump(SEM_FILE), encoding="utf-8")
    (tmp_path / "saint-denis.yml").write_text(yaml.safe_dump(SAINT_DENIS_FILE), encoding="utf-8")
    (tmp_path / "broken.yml").write_text("timezone: Europe/Paris\ncalendar: {opening_hours: [08:00, 18:00]}\nsla: {}\n")
    return tmp_path


def sla(territories, *argv: str) -> tuple[int, str, str]:
    """Run `guichet sla` and capture its status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    status = run(list(argv), out, stderr=err, territories_dir=territories)
    return status, out.getvalue(), err.getvalue()


def test_cli_prints_target_and_breach_in_local_time(territories):
    """The answer is one JSON object with local ISO 8601 instants and their offset."""
    status, out, err = sla(territories, "due", "--territory", "sem", "--policy", "replacement", "--opened", "2026-06-05T10:00:00+02:00")
    assert (status, err) == (0, "")
    assert out.count("\n") == 1
    assert json.loads(out) == {"target": "2026-06-09T10:00:00+02:00", "breach": "2026-06-10T10:00:00+02:00"}


def test_cli_reads_a_naive_opening_in_the_territory_time_zone(territories):
    """A naive --opened is local time: Friday 17:55 in La Réunion, 4 h ouvrées later is Monday 11:55 +04:00."""
    status, out, _ = sla(territories, "due", "--territory", "saint-denis", "--policy", "first_response", "--opened", "2027-12-17T17:55")
    assert status == 0
    assert json.loads(out) == {"target": "2027-12-21T11:55:00+04:00", "breach": "2027-12-21T15:55:00+04:00"}


def test_cli_converts_a_utc_opening_and_prints_null_for_a_missing_target(territories):
    """A UTC --opened (Z) is accepted; declaration has no target."""
    status, out, _ = sla(territories, "due", "--territory", "sem", "--policy", "declaration", "--opened", "2026-06-05T08:00:00Z")
    assert status == 0
    assert json.loads(out) == {"target": None, "breach": "2026-06-09T10:00:00+02:00"}


def test_cli_applies_paused_intervals(territories):
    """--paused intervals (repeatable, naive ones in local time) delay the answer."""
    status, out, _ = sla(
        territories,
        "due", "--territory", "sem", "--policy", "replacement", "--opened", "2026-06-04T10:00",
        "--paused", "2026-06-05T12:00/2026-06-06T12:00",
        "--paused", "2026-06-06T00:00+02:00/2026-06-08T09:00+02:00",
    )
    assert status == 0
    assert json.loads(out) == {"target": "2026-06-09T07:00:00+02:00", "breach": "2026-06-10T07:00:00+02:00"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["due", "--territory", "paris", "--policy", "replacement", "--opened", "2026-06-05T10:00"], "unknown territory 'paris'"),
        (["due", "--territory", "../sem", "--policy", "replacement", "--opened", "2026-06-05T10:00"], "unknown territory"),
        (["due", "--territory", "sem", "--policy", "repair", "--opened", "2026-06-05T10:00"], "unknown policy 'repair'"),
        (["due", "--territory", "sem", "--policy", "replacement", "--opened", "vendredi"], "not an ISO 8601"),
        (["due", "--territory", "sem", "--policy", "replacement", "--opened", "2026-06-05T10:00", "--paused", "2026-06-05T12:00"], "START/END"),
        (["due", "--territory", "sem", "--policy", "replacement", "--opened", "2026-06-05T10:00", "--paused", "2026-06-06/2026-06-05"], "ends before"),
        (["due", "--territory", "sem", "--policy", "replacement", "--opened", "2026-06-05T10:00", "--paused", "x/2026-06-05"], "not an ISO 8601"),
        (["due", "--territory", "broken", "--policy", "replacement", "--opened", "2026-06-05T10:00"], "quote"),
        (["due", "--territory", "sem", "--opened", "2026-06-05T10:00"], "--policy"),
        (["later"], "invalid choice"),
    ],
)
def test_cli_errors_are_one_line_and_status_2(territories, argv, message):
    """Each error prints one clear line on stderr, nothing on stdout, and returns 2."""
    status, out, err = sla(territories, *argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and message in err, err


def test_cli_help_goes_to_stdout(territories):
    """--help prints usage on the given stdout and succeeds."""
    status, out, _ = sla(territories, "due", "--help")
    assert status == 0 and "--territory" in out


@pytest.mark.parametrize("path", sorted(TERRITORIES_DIR.glob("*.yml")), ids=lambda path: path.stem)
def test_cli_computes_every_policy_of_the_shipped_presets(path):
    """Every policy of every preset in routing/territories evaluates through the CLI."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for policy in data["sla"]:
        status, out, err = sla(TERRITORIES_DIR, "due", "--territory", path.stem, "--policy", policy, "--opened", "2026-06-05T17:55")
        assert status == 0, err
        assert set(json.loads(out)) == {"target", "breach"}


def test_on_hold_pauses_like_waiting():
    """A replacement on hold (waiting on the declaration, not on the teacher) is paused too."""
    history = [
        (paris(2026, 6, 4, 10), TicketStatus.NEW),
        (paris(2026, 6, 4, 10), TicketStatus.ON_HOLD),
        (paris(2026, 6, 5, 9), TicketStatus.NEW),
    ]
    assert paused_intervals(history, now=paris(2026, 6, 9)) == [
        (paris(2026, 6, 4, 10).astimezone(UTC), paris(2026, 6, 5, 9).astimezone(UTC)),
    ]

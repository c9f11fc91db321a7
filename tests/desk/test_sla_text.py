"""French wording of SLA deadlines as teachers read them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from desk.sla_text import format_due_fr, policy_label


@pytest.mark.parametrize(
    ("instant", "timezone", "expected"),
    [
        (datetime(2026, 1, 13, 9, 0, tzinfo=UTC), "Europe/Paris", "le mardi 13 janvier à 10 h"),
        (datetime(2026, 1, 13, 9, 30, tzinfo=UTC), "Europe/Paris", "le mardi 13 janvier à 10 h 30"),
        (datetime(2026, 1, 13, 9, 5, tzinfo=UTC), "Europe/Paris", "le mardi 13 janvier à 10 h 05"),
        (datetime(2026, 5, 1, 6, 0, tzinfo=UTC), "Europe/Paris", "le vendredi 1er mai à 8 h"),
        (datetime(2026, 8, 3, 22, 0, tzinfo=UTC), "Europe/Paris", "le mardi 4 août à 0 h"),
        (datetime(2026, 12, 20, 4, 0, tzinfo=UTC), "Indian/Reunion", "le dimanche 20 décembre à 8 h"),
        (datetime(2026, 2, 1, 17, 45, tzinfo=UTC), ZoneInfo("Europe/Paris"), "le dimanche 1er février à 18 h 45"),
    ],
)
def test_format_due_fr(instant: datetime, timezone: object, expected: str) -> None:
    """Day and month names in French, « 1er » for the first, « h » and two-digit minutes, local time."""
    assert format_due_fr(instant, timezone) == expected


def test_naive_instant_is_refused() -> None:
    """A naive datetime has no meaning for a teacher in another time zone: refuse it."""
    with pytest.raises(ValueError):
        format_due_fr(datetime(2026, 1, 13, 10), "Europe/Paris")


def test_policy_label() -> None:
    """Known policies read in French; a territory's own policy keeps its name."""
    assert policy_label("replacement") == "remplacement du matériel"
    assert policy_label("maintenance_preventive") == "maintenance_preventive"


def _calendar(timezone: str = "Europe/Paris", **data: object):
    from routing.calendar import Calendar

    return Calendar.from_dict(timezone, data)


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        # A working morning: « avant 12 h »; a working afternoon or evening: « en fin de journée ».
        ((2026, 11, 24, 10, 0), "le mardi 24 novembre avant 12 h"),
        ((2026, 11, 24, 12, 0), "le mardi 24 novembre avant 12 h"),
        ((2026, 11, 24, 12, 1), "le mardi 24 novembre en fin de journée"),
        ((2026, 12, 3, 23, 6), "le jeudi 3 décembre en fin de journée"),  # the issue's « à 23 h 06 »
        # Before opening: the school was closed since the evening before.
        ((2026, 12, 4, 2, 0), "le jeudi 3 décembre en fin de journée"),
        ((2026, 12, 4, 8, 0), "le jeudi 3 décembre en fin de journée"),
        ((2026, 12, 4, 8, 1), "le vendredi 4 décembre avant 12 h"),
        # A weekend, a public holiday: the last working day before it.
        ((2026, 12, 5, 10, 0), "le vendredi 4 décembre en fin de journée"),
        ((2026, 12, 7, 7, 0), "le vendredi 4 décembre en fin de journée"),
        ((2026, 11, 11, 15, 0), "le mardi 10 novembre en fin de journée"),
        ((2026, 6, 1, 9, 0), "le lundi 1er juin avant 12 h"),
    ],
)
def test_commitments_read_as_a_day_and_a_half_day(local: tuple[int, ...], expected: str) -> None:
    """Commitments are stated on the territory's calendar, never to the minute (issue 12, item 10)."""
    from desk.sla_text import format_commitment_fr

    instant = datetime(*local, tzinfo=ZoneInfo("Europe/Paris"))
    assert format_commitment_fr(instant, _calendar()) == expected


def test_commitments_follow_the_territory_calendar() -> None:
    """La Réunion's 20 December is a holiday there (subdivision 974), in its own time zone; a
    closure day of the territory file counts as closed; another opening hour moves « avant ouverture »."""
    from desk.sla_text import format_commitment_fr

    reunion = _calendar("Indian/Reunion", subdivision="974")
    assert format_commitment_fr(datetime(2027, 12, 20, 10, tzinfo=ZoneInfo("Indian/Reunion")), reunion) == (
        "le vendredi 17 décembre en fin de journée")
    assert format_commitment_fr(datetime(2027, 12, 20, 6, tzinfo=UTC), reunion) == (
        "le vendredi 17 décembre en fin de journée")
    closed = _calendar(closures=["2026-12-04"])
    assert format_commitment_fr(datetime(2026, 12, 4, 10, tzinfo=ZoneInfo("Europe/Paris")), closed) == (
        "le jeudi 3 décembre en fin de journée")
    late = _calendar(opening_hours=["09:00", "17:00"])
    assert format_commitment_fr(datetime(2026, 12, 4, 8, 30, tzinfo=ZoneInfo("Europe/Paris")), late) == (
        "le jeudi 3 décembre en fin de journée")
    with pytest.raises(ValueError):
        format_commitment_fr(datetime(2026, 12, 4, 10), _calendar())

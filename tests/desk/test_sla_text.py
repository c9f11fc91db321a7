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

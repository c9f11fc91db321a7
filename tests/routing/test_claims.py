"""The refund of art. 6 at every boundary: civil years for the rate, date to date for the age limit."""

from __future__ import annotations

from datetime import date

import pytest

from routing.claims import ClaimRules, Refund, refund, refund_rate, replaced
from routing.territory import load_territory

SEM = ClaimRules(source="convention 2023-2027, art. 6", police_report_hours=48,
                 depreciation=(100, 80, 60, 40, 20), beyond_table_rate=0, not_replaced_beyond_years=6)
INCIDENT = date(2026, 11, 24)


@pytest.mark.parametrize(("acquired", "rate"), [
    (date(2026, 1, 1), 100),     # N
    (date(2025, 12, 31), 80),    # N-1: one day earlier is one civil year older
    (date(2025, 1, 1), 80),
    (date(2024, 12, 31), 60),    # N-2
    (date(2023, 6, 1), 40),      # N-3
    (date(2022, 1, 1), 20),      # N-4
    (date(2021, 12, 31), 0),     # N-5: amortised, nothing owed, still replaced
    (date(2020, 11, 25), 0),     # N-6 but less than six years: still replaced, nothing owed
    (date(2020, 11, 24), 0),     # exactly six years: still replaced
    (date(2020, 11, 23), None),  # six years and a day: not replaced
    (date(2012, 3, 1), None),
    (date(2027, 2, 1), 100),     # acquired after the incident: a data error, refunded in full
])
def test_refund_rate_at_each_boundary(acquired: date, rate: int | None) -> None:
    assert refund_rate(SEM, acquired, INCIDENT) == rate
    assert replaced(SEM, acquired, INCIDENT) is (rate is not None)


def test_the_age_limit_on_29_february() -> None:
    """An incident on 29 February: six years before is 28 February of a common year."""
    assert replaced(SEM, date(2018, 2, 28), date(2024, 2, 29))
    assert not replaced(SEM, date(2018, 2, 27), date(2024, 2, 29))


def test_refund_amount_per_device() -> None:
    assert refund(SEM, 29_000, date(2025, 9, 1), INCIDENT) == Refund(True, 80, 23_200)
    assert refund(SEM, 33_333, date(2024, 1, 1), INCIDENT) == Refund(True, 60, 20_000)  # 199.998 € → 200 €
    assert refund(SEM, 52_000, date(2012, 1, 1), INCIDENT) == Refund(False, None, None)
    assert refund(SEM, None, date(2025, 9, 1), INCIDENT) == Refund(True, 80, None)      # value unknown
    assert refund(SEM, 29_000, None, INCIDENT) == Refund(True, None, None)              # age unknown


@pytest.mark.parametrize("preset", ["sem", "saint-denis", "vienne-condrieu"])
def test_every_preset_states_its_figures(preset: str) -> None:
    """Each territory file gives its table, what lies beyond it and the age limit, with the article."""
    rules = load_territory(preset).claims
    assert rules.source and "art" in rules.source
    assert rules.depreciation[0] == 100 and rules.beyond_table_rate <= rules.depreciation[-1]
    assert rules.not_replaced_beyond_years >= len(rules.depreciation) - 1

"""Theft, loss and damage figures of a territory's convention, and the refund they give (pure).

Convention 2023-2027 art. 6 (SEM): the commune (or OGEC) refunds the value of the equipment « amortis
sur 5 ans »: acquired in the incident's year (N) 100 %, N-1 80 %, N-2 60 %, N-3 40 %, N-4 20 %; from
N-5 on, nothing is owed (`beyond_table_rate`, 0 % in every preset). Equipment acquired more than six
years before the incident's date is not replaced at all: no replacement task, no refund. The rate
counts civil years (a device bought on 31 December is a year older on 1 January); the age limit
counts from date to date (bought exactly six years before the incident: still replaced).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["ClaimRules", "Refund", "refund", "refund_rate", "replaced"]


@dataclass(frozen=True, slots=True)
class ClaimRules:
    """The convention's figures for a claim (for SEM: convention 2023-2027, art. 6).

    `depreciation[k]` is the percentage of the value refunded for equipment acquired k years
    before the incident's year (N, N-1, ...); ages past the table refund `beyond_table_rate`;
    equipment acquired more than `not_replaced_beyond_years` before the incident is not replaced.
    """

    source: str
    police_report_hours: int
    depreciation: tuple[int, ...]
    beyond_table_rate: int
    not_replaced_beyond_years: int
    #: Thefts and damages of one school in a two-month period from which the committee reviews its
    #: security (art. 6 « amélioration de la sécurisation »).
    security_review_incidents: int = 3

    def age(self, acquired: date, incident: date) -> int:
        """Age in civil years, as the convention's table counts it (N = the incident's year)."""
        return incident.year - acquired.year


def _years_before(day: date, years: int) -> date:
    """The same day `years` earlier; 29 February falls back to the 28th in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def replaced(rules: ClaimRules, acquired: date, incident: date) -> bool:
    """Whether the equipment is still replaced: acquired at most `not_replaced_beyond_years` before."""
    return acquired >= _years_before(incident, rules.not_replaced_beyond_years)


def refund_rate(rules: ClaimRules, acquired: date, incident: date) -> int | None:
    """Percent of the value owed for a device acquired on `acquired`; None when it is not replaced."""
    if not replaced(rules, acquired, incident):
        return None
    age = rules.age(acquired, incident)
    if age < 0:
        return rules.depreciation[0]  # acquired after the incident's date: a data error, refund in full
    return rules.depreciation[age] if age < len(rules.depreciation) else rules.beyond_table_rate


@dataclass(frozen=True, slots=True)
class Refund:
    """What one device of a claim gives: its rate and the amount owed, or not replaced at all."""

    replaced: bool
    rate: int | None
    amount_cents: int | None


def refund(rules: ClaimRules, value_cents: int | None, acquired: date | None, incident: date) -> Refund:
    """The refund of one device; unknown value or acquisition date leave the amount (or rate) unknown."""
    if acquired is None:
        return Refund(replaced=True, rate=None, amount_cents=None)
    rate = refund_rate(rules, acquired, incident)
    if rate is None:
        return Refund(replaced=False, rate=None, amount_cents=None)
    if value_cents is None:
        return Refund(replaced=True, rate=rate, amount_cents=None)
    amount = (Decimal(value_cents) * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Refund(replaced=True, rate=rate, amount_cents=int(amount))

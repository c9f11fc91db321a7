"""Theft, loss and damage figures of a territory's convention, and the refund they give (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = ["ClaimRules", "refund_rate"]


@dataclass(frozen=True, slots=True)
class ClaimRules:
    """The convention's figures for a claim (for SEM: convention 2023-2027, art. 6).

    `depreciation[k]` is the percentage of the value refunded for equipment acquired k years
    before the incident's year (N, N-1, ...); ages past the table refund `beyond_table_rate`;
    equipment older than `not_replaced_beyond_years` is not replaced at all.
    """

    source: str
    police_report_hours: int
    depreciation: tuple[int, ...]
    beyond_table_rate: int
    not_replaced_beyond_years: int

    def age(self, acquired: date, incident: date) -> int:
        """Age in civil years, as the convention's table counts it (N = the incident's year)."""
        return incident.year - acquired.year


def refund_rate(rules: ClaimRules, acquired: date, incident: date) -> int | None:
    """Percent of the value owed for a device acquired on `acquired`; None when it is not replaced."""
    age = rules.age(acquired, incident)
    if age > rules.not_replaced_beyond_years:
        return None
    if age < 0:
        return rules.depreciation[0]  # acquired after the incident's date: a data error, refund in full
    return rules.depreciation[age] if age < len(rules.depreciation) else rules.beyond_table_rate

"""The territory file's retention (RGPD art. 5.1.e) and lifecycle delays: loaded, checked, and their dates."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from routing import TerritoryError, available_territories, load_territory, load_territory_file
from routing.calendar import Calendar
from routing.privacy import add_months, auto_close_times


@pytest.mark.parametrize("name", available_territories())
def test_every_preset_sets_retention_and_lifecycle(name):
    """Each preset has its retention, citing its source, and its lifecycle delays."""
    territory = load_territory(name)
    assert territory.privacy.attachments_months <= territory.privacy.messages_months <= territory.privacy.identities_months
    assert "RGPD art. 5.1.e" in territory.privacy.source and territory.privacy.statistics == "anonymised"
    assert territory.lifecycle.close_resolved_after_working_days >= 1 and territory.lifecycle.reopen_within_days >= 1


def test_saint_denis_cites_its_convention_article_5():
    """The Saint-Denis convention's art. 5 asks for the CNIL's recommendations: the source says so."""
    assert "art. 5" in load_territory("saint-denis").privacy.source
    assert "CNIL" in load_territory("saint-denis").privacy.source


@pytest.fixture
def edited(tmp_path: Path) -> Callable[[Callable[[dict[str, Any]], None]], Path]:
    text = resources.files("routing").joinpath("territories", "sem.yml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)

    def write(edit: Callable[[dict[str, Any]], None]) -> Path:
        copied = copy.deepcopy(data)
        edit(copied)
        path = tmp_path / "sem.yml"
        path.write_text(yaml.safe_dump(copied, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    return write


ERRORS = [
    (lambda d: d.pop("privacy"), "privacy", "missing required field"),
    (lambda d: d["privacy"].update(messages_months="douze"), "privacy.messages_months",
     "doit être un nombre entier de mois entre 1 et 120 / must be a whole number of months"),
    (lambda d: d["privacy"].update(attachments_months=0), "privacy.attachments_months", "RGPD art. 5.1.e"),
    (lambda d: d["privacy"].update(identities_months=600), "privacy.identities_months", "entre 1 et 120"),
    (lambda d: d["privacy"].update(identities_months=6), "privacy.identities_months",
     "ne peut pas être plus courte que privacy.messages_months"),
    (lambda d: d["privacy"].update(statistics="kept"), "privacy.statistics", "seule la valeur 'anonymised'"),
    (lambda d: d["privacy"].update(forever=True), "privacy.forever", "unknown field"),
    (lambda d: d["privacy"].pop("source"), "privacy.source", "missing required field"),
    (lambda d: d["lifecycle"].update(close_resolved_after_working_days=0),
     "lifecycle.close_resolved_after_working_days", "doit être un nombre entier de jours ouvrés"),
    (lambda d: d["lifecycle"].update(reopen_within_days=True), "lifecycle.reopen_within_days",
     "must be a whole number of days"),
]


@pytest.mark.parametrize(("edit", "field", "message"), ERRORS)
def test_errors_name_the_field_in_french_and_english(edited, edit, field, message):
    """A wrong retention or delay stops the load with the file, the field and the article."""
    path = edited(edit)
    with pytest.raises(TerritoryError) as caught:
        load_territory_file(path)
    assert caught.value.field == field
    assert message in caught.value.message


def test_add_months_clamps_to_the_end_of_the_month():
    """31 March minus one month is 28 February; twelve months back is the same day a year before."""
    assert add_months(datetime(2026, 3, 31, 9, tzinfo=UTC), -1) == datetime(2026, 2, 28, 9, tzinfo=UTC)
    assert add_months(datetime(2026, 1, 15, tzinfo=UTC), -12) == datetime(2025, 1, 15, tzinfo=UTC)
    assert add_months(datetime(2026, 11, 30, tzinfo=UTC), 3) == datetime(2027, 2, 28, tzinfo=UTC)


def test_auto_close_counts_working_days_on_the_territory_calendar():
    """Resolved on Thursday 30 April 2026 with 2 working days: 1 May and the weekend do not count."""
    paris = Calendar.from_dict("Europe/Paris", {"country": "FR"})
    times = auto_close_times(paris, datetime(2026, 4, 30, 14, tzinfo=UTC), 2)
    # Monday 4 and Tuesday 5 count; told on Tuesday at 08:00 Paris, closed on Wednesday at 08:00.
    assert times.notice_at == datetime(2026, 5, 5, 6, tzinfo=UTC)
    assert times.close_at == datetime(2026, 5, 6, 6, tzinfo=UTC) and times.close_day == date(2026, 5, 6)
    late = auto_close_times(paris, datetime(2026, 4, 30, 14, tzinfo=UTC), 2, notice_sent_at=datetime(2026, 5, 6, 9, tzinfo=UTC))
    assert late.close_day == date(2026, 5, 7)  # a late notice still leaves a working day to answer


def test_auto_close_in_la_reunion_skips_20_december():
    """La Réunion's 20 December (abolition of slavery) is not a working day there."""
    reunion = Calendar.from_dict("Indian/Reunion", {"country": "FR", "subdivision": "974"})
    times = auto_close_times(reunion, datetime(2027, 12, 16, 6, tzinfo=UTC), 1)  # Thursday
    assert times.notice_at.astimezone(reunion.tz).date() == date(2027, 12, 17)
    assert times.close_day == date(2027, 12, 21)  # Monday 20 December is a holiday

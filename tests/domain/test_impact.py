"""The scope a report stops gives the ticket its priority (issue 12, item 10)."""

from __future__ import annotations

import pytest

from domain.impact import IMPACT_FR, PRIORITY_FR, Impact, impact_of


@pytest.mark.parametrize(
    ("text", "intent", "quantity", "expected"),
    [
        ("Plus d'internet dans toute l'école depuis ce matin", "network_outage", 1, Impact.SCHOOL),
        ("plus de réseau, aucun ordinateur ne se connecte", "network_outage", 1, Impact.SCHOOL),
        ("Le wifi ne marche plus", "network_outage", 1, Impact.SCHOOL),  # a network serves the school
        ("le wifi ne marche plus dans ma classe", "network_outage", 1, Impact.CLASS),
        ("Aucun PC ne démarre ce matin, toutes les classes sont bloquées", "hardware_failure", 1, Impact.SCHOOL),
        ("L'ÉCOLE N'A PLUS de téléphone ni d'internet", "network_outage", 1, Impact.SCHOOL),
        ("Toute la classe est sans tablette : la valise ne charge plus", "hardware_failure", 1, Impact.CLASS),
        ("on nous a volé trois tablettes", "theft", 3, Impact.CLASS),
        ("les élèves ne peuvent pas se connecter à l'ENT", "account_access", 1, Impact.CLASS),
        ("le vidéoprojecteur de la classe de CM2 ne s'allume plus", "hardware_failure", 1, Impact.DEVICE),
        ("l'écran de l'ordinateur de la directrice clignote", "hardware_failure", 1, Impact.DEVICE),
        ("comment brancher le visualiseur ?", "howto", 1, Impact.NONE),
    ],
)
def test_impact_from_the_teachers_words(text: str, intent: str, quantity: int, expected: Impact) -> None:
    assert impact_of(text, intent=intent, quantity=quantity) is expected


def test_priorities_order_and_read_in_french() -> None:
    """1 is the most pressing; every level has its French wording for agents."""
    assert sorted(Impact) == [Impact.SCHOOL, Impact.CLASS, Impact.DEVICE, Impact.NONE]
    assert int(Impact.DEVICE) == 3  # the former default of every ticket
    assert set(IMPACT_FR) == set(PRIORITY_FR) == set(Impact)
    assert IMPACT_FR[Impact.SCHOOL] == "Toute l'école" and PRIORITY_FR[Impact.SCHOOL] == "Haute"

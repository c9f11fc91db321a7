"""Elision, contraction and articles around the names of places and organisations."""

from __future__ import annotations

import pytest

from domain.french import as_object, as_subject, commune_organisation_name, of_place


@pytest.mark.parametrize(("commune", "expected"), [
    ("Lorette", "Commune de Lorette"),
    ("Andrézieux-Bouthéon", "Commune d'Andrézieux-Bouthéon"),
    ("Le Chambon-Feugerolles", "Commune du Chambon-Feugerolles"),
    ("Les Noës", "Commune des Noës"),
    ("La Talaudière", "Commune de La Talaudière"),
    ("Unieux", "Commune d'Unieux"),
    ("Saint-Étienne", "Commune de Saint-Étienne"),
    ("Île-d'Abeau", "Commune d'Île-d'Abeau"),
])
def test_a_commune_takes_de_elided_or_contracted(commune: str, expected: str) -> None:
    assert commune_organisation_name(commune) == expected


def test_of_place_keeps_the_name_as_written() -> None:
    assert of_place("  Firminy ") == "de Firminy"


@pytest.mark.parametrize(("name", "subject", "inside"), [
    ("Commune de Lorette", "La commune de Lorette", "la commune de Lorette"),
    ("Commune d'Andrézieux-Bouthéon", "La commune d'Andrézieux-Bouthéon", "la commune d'Andrézieux-Bouthéon"),
    ("OGEC Sainte-Marie", "L'OGEC Sainte-Marie", "l'OGEC Sainte-Marie"),
    ("Saint-Étienne Métropole", "Saint-Étienne Métropole", "Saint-Étienne Métropole"),
])
def test_an_organisation_takes_its_article_in_a_sentence(name: str, subject: str, inside: str) -> None:
    assert as_subject(name) == subject
    assert as_object(name) == inside

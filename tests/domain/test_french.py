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


# --- typography -------------------------------------------------------------------------------

from domain.french import NBSP, NNBSP, typography  # noqa: E402


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Est-ce bien votre école ?", f"Est-ce bien votre école{NNBSP}?"),
        ("Statut : Nouvelle ; merci !", f"Statut{NBSP}: Nouvelle{NNBSP}; merci{NNBSP}!"),
        ("écrivez « où en est ma demande ? ».", f"écrivez «{NNBSP}où en est ma demande{NNBSP}?{NNBSP}»."),
        ("«sans espaces»", f"«{NNBSP}sans espaces{NNBSP}»"),
        # Guillemets inside guillemets become English quotes, the outer pair keeps its spaces.
        ("Avez-vous essayé « Le tutoriel « Le vidéoprojecteur ne s'allume pas » » ?",
         f"Avez-vous essayé «{NNBSP}Le tutoriel “Le vidéoprojecteur ne s'allume pas”{NNBSP}»{NNBSP}?"),
        # No space before the mark: a URL, a time, a reference are left alone.
        ("https://guichet.example/kb?q=projo à 10:30, 2026-00001?", "https://guichet.example/kb?q=projo à 10:30, 2026-00001?"),
        ("", ""),
        ("ligne 1\n? ligne 2", "ligne 1\n? ligne 2"),
    ],
)
def test_typography(text: str, expected: str) -> None:
    assert typography(text) == expected
    assert typography(expected) == expected  # idempotent: a text typeset twice stays the same


@pytest.mark.parametrize(("organisation", "expected"), [
    ("Commune de Firminy", "de la commune de Firminy"),
    ("Commune d'Andrézieux-Bouthéon", "de la commune d'Andrézieux-Bouthéon"),
    ("OGEC Sainte-Marie", "de l'OGEC Sainte-Marie"),
    ("Rectorat de Lyon", "du rectorat de Lyon"),
    ("Saint-Étienne Métropole", "de Saint-Étienne Métropole"),
    ("Agglomération Vienne Condrieu", "d'Agglomération Vienne Condrieu"),
])
def test_of_organisation(organisation: str, expected: str) -> None:
    from domain.french import of_organisation

    assert of_organisation(organisation) == expected

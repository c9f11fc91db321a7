"""A report that says nothing was taken reads as one word (`sansvol`), never as the word « vol »."""

from __future__ import annotations

import pytest

from nlu.text import normalize


@pytest.mark.parametrize(
    "text",
    [
        "cambriolage : rien n'a été pris mais ils ont cassé les écrans",
        "effraction sans vol, le VPI est cassé",
        "Rien n’a été volé, mais la vitre est brisée",
        "les intrus n'ont rien emporté",
        "rien de volé, le TBI est tagué",
        "aucun vol constaté par la police",
        "l'alarme a sonné, rien n'a disparu",
    ],
)
def test_a_theft_said_not_to_have_happened_is_marked(text):
    words = normalize(text).split()
    assert "sansvol" in words
    assert not {"vol", "vole", "volee", "pris", "emporte", "disparu"} & set(words)


@pytest.mark.parametrize(
    "text, kept",
    [
        ("vol de 3 tablettes cette nuit", "vol"),
        ("le portable a été volé pendant la récréation", "vole"),
        ("le volet roulant est cassé", "volet"),
        ("rien ne marche, le PC est volé ?", "vole"),
    ],
)
def test_a_theft_or_an_unrelated_word_is_left_alone(text, kept):
    words = normalize(text).split()
    assert kept in words and "sansvol" not in words

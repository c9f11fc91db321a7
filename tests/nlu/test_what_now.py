"""A bare « what do I do? » closing a report reads as one word (`zzqf`): the report's words decide
the intent, not the how-to words of the question (« comment faire pour … ? » stays a how-to)."""

from __future__ import annotations

import pytest

from nlu import LocalNlu
from nlu.text import normalize


@pytest.mark.parametrize(
    "text, head",
    [
        ("le VPI ne s'allume plus, comment je fais ?", "le vpi ne s allume plus"),
        ("rupture de ramettes A4, on fait comment ?", "rupture de ramettes a4"),
        ("Le portable a pris l'eau. Que faut-il faire ? Merci d'avance", "le portable a pris l eau"),
        ("la tablette est cassée, qu'est-ce que je dois faire ?", "la tablette est cassee"),
        ("plus de wifi du coup je fais quoi", "plus de wifi"),
        ("plus d'encre, comment doit-on procéder ?", "plus d encre"),
    ],
)
def test_a_bare_what_now_after_a_report_is_one_word(text, head):
    assert normalize(text) == head + " zzqf"


@pytest.mark.parametrize(
    "text",
    [
        "comment faire ?",  # the whole message: a question of its own
        "comment je fais pour étendre le bureau sur le deuxième écran ?",
        "je ne sais pas comment faire ma demande",
        "bonjour, comment faire une photocopie en A3 ?",
        "que faire des vieux PC du grenier ? la mairie veut les jeter",
    ],
)
def test_a_how_to_question_keeps_its_words(text):
    assert "zzqf" not in normalize(text).split()


def test_the_report_decides_the_intent():
    nlu = LocalNlu()
    assert nlu.parse("le vidéoprojecteur ne s'allume plus, comment je fais ?").intent.value == "hardware_failure"
    assert nlu.parse("rupture de ramettes de papier, on fait comment ?").intent.value == "consumables"
    assert nlu.parse("comment je fais pour brancher mon portable au vidéoprojecteur ?").intent.value == "howto"

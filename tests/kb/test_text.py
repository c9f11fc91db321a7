"""French analysis: folding, elision, stop words, the light stemmer and the synonym phrases."""

from __future__ import annotations

import pytest

from domain.vocabulary import Equipment
from kb.synonyms import EQUIPMENT_SYNONYMS, PHRASES
from kb.text import SynonymMatcher, fold, stem, tokens, words


def test_fold_removes_accents_case_and_ligatures() -> None:
    """« Vidéoprojecteur », « vidéoprojecteur » and « videoprojecteur » are one word; œ is oe."""
    assert fold("Vidéoprojecteur ÉTEINT, cœur") == "videoprojecteur eteint, coeur"


def test_words_drop_elision_and_stop_words() -> None:
    """« l' », « d' », « qu' » and function words disappear; meaningful words stay folded."""
    assert words("Comment brancher l'ordinateur d'une classe qu'on a déplacé ?") == [
        "brancher", "ordinateur", "deplace",
    ]
    assert words("l’écran") == ["ecran"]


@pytest.mark.parametrize(
    ("forms", "expected"),
    [
        (["bloquer", "bloqué", "bloquée", "bloqués", "bloquez", "bloque"], "bloqu"),
        (["imprimante", "imprimantes", "imprimer"], "imprim"),
        (["branchement", "branchements", "brancher", "branchez"], "branch"),
        (["installation", "installer"], "install"),
        (["calibrage", "calibrer"], "calibr"),
        (["tableaux", "tableau"], "tableau"),
    ],
)
def test_stem_conflates_inflections(forms: list[str], expected: str) -> None:
    """Plural, participle, infinitive and -ement/-ation/-age nouns share one stem."""
    assert {stem(fold(form)) for form in forms} == {expected}


@pytest.mark.parametrize("word", ["wifi", "cle", "fil", "file", "hdmi", "usb", "2024", "code"])
def test_stem_leaves_short_words_alone(word: str) -> None:
    """Short words are kept whole, so « fil » and « file » stay apart."""
    assert stem(word) == word


def test_stem_keeps_signal_apart_from_signaler() -> None:
    """The verb every article ends with (« signalez ») does not match « pas de signal »."""
    assert stem("signalez") == stem("signaler") != stem("signal")


@pytest.fixture(scope="module")
def matcher() -> SynonymMatcher:
    return SynonymMatcher({**EQUIPMENT_SYNONYMS, **PHRASES})


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("le vidéoprojo", Equipment.PROJECTOR),
        ("le projo", Equipment.PROJECTOR),
        ("le VP", Equipment.PROJECTOR),
        ("le VPI", Equipment.INTERACTIVE_PROJECTOR),
        ("le vidéoprojecteur interactif", Equipment.INTERACTIVE_PROJECTOR),
        ("le TNI", Equipment.INTERACTIVE_DISPLAY),
        ("le tbi", Equipment.INTERACTIVE_DISPLAY),
        ("le tableau blanc interactif", Equipment.INTERACTIVE_DISPLAY),
        ("le tableau blanc", Equipment.WHITEBOARD),
        ("l'ordi", Equipment.DESKTOP),
        ("l'ordi portable", Equipment.LAPTOP),
        ("l'imprimente", Equipment.PRINTER),
        ("les imprimantes", Equipment.PRINTER),
        ("l'imprimante multifonction", Equipment.COPIER),
        ("les enceintes", Equipment.SPEAKER),
        ("le point d'accès", Equipment.WIFI_ACCESS_POINT),
        ("la valise de recharge", Equipment.CHARGING_CART),
        ("la prise RJ45", Equipment.NETWORK_SOCKET),
    ],
)
def test_equipment_synonyms_become_the_canonical_token(
    matcher: SynonymMatcher, text: str, value: Equipment
) -> None:
    """Slang, acronyms, plurals and misspellings map to the one vocabulary value, longest first."""
    assert matcher.terms(tokens(text)) == [value.value]


def test_phrases_are_one_term(matcher: SynonymMatcher) -> None:
    """« clé USB » is not the door key and « pas de son » survives the stop words."""
    assert matcher.terms(tokens("copier sur une clé USB")) == ["copi", "cle_usb"]
    assert matcher.terms(tokens("la porte ferme à clé")) == ["port", "ferm", "cle"]
    assert matcher.terms(tokens("pas de son sur le projo")) == ["pas_de_son", "projector"]


def test_every_equipment_value_has_synonyms() -> None:
    """Each vocabulary value can be reached from French text."""
    assert set(EQUIPMENT_SYNONYMS) == set(Equipment)


def test_conflicting_synonym_is_refused() -> None:
    """A form listed under two values is a mistake in the table, caught at build."""
    with pytest.raises(ValueError, match="maps to"):
        SynonymMatcher({"projector": ["projo"], "laptop": ["projo"]})

"""English messages are recognised and understood through a French gloss (issue 12, item 15)."""

from __future__ import annotations

import pytest

from domain.vocabulary import Intent
from nlu import LocalNlu
from nlu.language import ENGLISH, FRENCH, UNDETERMINED, detect_language, french_gloss


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, the projector is not working", ENGLISH),
        ("I can't log in to the school ENT", ENGLISH),
        ("le vidéoprojecteur ne marche plus", FRENCH),
        ("bjr le pc de la classe est HS", FRENCH),
        ("Bonjour, the projector de la classe ne marche plus", FRENCH),
        ("ok", UNDETERMINED),
        ("", UNDETERMINED),
        # « à » folds to « a », and « on » is the French pronoun: neither is evidence of English
        ("impossible de me connecter à i-Prof", FRENCH),
        ("mise à jour Windows bloquée à 30%", FRENCH),
        ("tablette disparue, on a cherché partout", FRENCH),
        ("tout à fait", FRENCH),
        ("I can't log in to my email", ENGLISH),
    ],
)
def test_detect_language(text: str, expected: str):
    """Function words decide; a French message with one English word stays French."""
    assert detect_language(text) == expected


def test_gloss_rewrites_known_english_words():
    """Devices and failures are rewritten into the French the classifier knows."""
    assert french_gloss("The projector doesn't work") == "the vidéoprojecteur ne marche plus"


def test_switching_a_device_on_is_not_a_network_switch():
    """« how to switch on the document camera »: the verb, not the router (« switch » alone is one)."""
    assert french_gloss("how to switch on the document camera") == "comment allumer the visualiseur"
    nlu = LocalNlu(cache_dir=False)
    result = nlu.parse("Hi, could you tell me how to switch on the document camera and get the picture on the screen?")
    assert result.equipment == "document_camera"
    assert nlu.parse("Hello, the switch in the IT room has an orange light and no computer has network").equipment == "router"


def test_an_english_report_is_understood_and_flagged():
    """« Hello, the projector… » is a projector failure flagged English; French stays French (real data)."""
    nlu = LocalNlu(cache_dir=False)
    result = nlu.parse("Hello, the projector in my classroom won't turn on")
    assert result.language == ENGLISH
    assert result.intent is Intent.HARDWARE_FAILURE
    assert result.equipment == "projector"
    assert nlu.parse("le vidéoprojecteur ne s'allume plus").language == FRENCH

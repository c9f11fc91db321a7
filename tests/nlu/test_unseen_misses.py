"""Sets G, H and I: misses read after their blind scores (real data): the network device a network
outage is fixed on, the phone line said « tel » or by its dial tone, a desktop's screen, English
thefts and touch screens, a signature naming the school « élémentaire de … », and the parts of long
e-mails that say what works or who was told."""

from __future__ import annotations

import pytest

from domain.vocabulary import Intent
from nlu import LocalNlu

from .triage_json import triage_json


@pytest.fixture(scope="module")
def nlu() -> LocalNlu:
    return LocalNlu()


_triage = triage_json


def test_a_network_outage_is_about_the_network_device_named(nlu: LocalNlu) -> None:
    """The tablets show where the outage was seen; the access point is what gets fixed."""
    result = nlu.parse("Aile maternelle : les tablettes voient le réseau mais « impossible de se connecter ». "
                       "La borne du couloir clignote orange.")
    assert result.intent is Intent.NETWORK_OUTAGE
    assert result.equipment == "wifi_access_point"
    # no network device named: the device the outage was seen on stays
    assert nlu.parse("le portable de la classe n'a plus internet depuis ce matin").equipment == "laptop"
    # not an outage: the first device named stays the one at fault
    assert nlu.parse("la tablette ne charge plus sur la borne").equipment == "tablet"


def test_the_phone_line_said_tel_or_by_its_dial_tone_is_the_communes(nlu: LocalNlu) -> None:
    """Art. 2: phone lines are the commune's, not the internet access the SEM runs."""
    out = _triage(nlu, "plus de tonalité sur le tel de l'école depuis hier")
    assert (out["intent"], out["equipment"], out["org"]) == ("network_outage", "phone", "commune")


def test_a_lost_phone_line_and_a_lost_internet_are_two_problems(nlu: LocalNlu) -> None:
    out = _triage(nlu, "bjr depuis les travaux de la rue plus de ligne tel ET plus d'internet, box eteinte")
    assert (out["equipment"], out["org"]) == ("phone", "commune")
    assert [(p["intent"], p["org"]) for p in out["problems"]] == [
        ("network_outage", "commune"), ("network_outage", "sem")]


def test_the_screen_of_a_desktop_is_a_monitor(nlu: LocalNlu) -> None:
    """A desktop's screen is a device of its own (unlike a tablet's or a laptop's)."""
    assert nlu.parse("l'écran du poste de direction clignote puis reste noir").equipment == "monitor"
    assert nlu.parse("l'écran de la tablette est fissuré").equipment == "tablet"
    assert nlu.parse("vol cette nuit : les deux écrans des postes du coin informatique ont été emportés").equipment == "monitor"


def test_an_english_theft_and_touch_screen(nlu: LocalNlu) -> None:
    """« was taken from my desk » is a theft, « what do we need to do » no request for supplies, and
    a touch screen is found in the gloss even beside a code found in the text."""
    out = _triage(nlu, "Hello, I teach CM1 at école Paul Bert in Firminy. Our class laptop was taken from my "
                       "desk during the parents' evening yesterday, it had the sticker SEM-0038842. What do we "
                       "need to do to get it replaced? Thanks, Emma Collins")
    assert (out["intent"], out["org"], out["equipment"]) == ("theft", "commune", "laptop")
    assert "problems" not in out
    touch = nlu.parse("Hello, the big touch screen in room 2 shows the picture but doesn't respond when the "
                      "kids touch it. Label SEM-005187.")
    assert touch.equipment == "interactive_display"
    assert any(e.entity == "asset_tag" and e.value == "SEM-005187" for e in touch.entities)


def test_a_signature_naming_the_school_is_no_second_problem(nlu: LocalNlu) -> None:
    """« Cordialement, La direction, école élémentaire de Saint-Héand » is who writes, not a class change."""
    school = [e.value for e in nlu.parse("La direction, école élémentaire de Saint-Héand").entities if e.entity == "school"]
    assert school == ["Saint-Héand"]
    out = _triage(nlu, "Bonjour,\nLe technicien est passé ce matin pour raccorder l'école à la fibre mais il manque un "
                       "fourreau et il faut percer le mur du préau. Il nous a dit de voir avec la mairie.\nCordialement\n"
                       "La direction, école élémentaire de Saint-Héand")
    assert (out["intent"], out["org"]) == ("building_works", "commune")
    assert "problems" not in out


@pytest.mark.parametrize(
    "text",
    [
        # what works beside the problem
        "Bonjour, depuis ce matin la ligne téléphonique de l'école est coupée, plus aucune tonalité au bureau. "
        "Internet, lui, fonctionne normalement. Merci de faire le nécessaire.",
        "Bonjour, le vidéoprojecteur de la salle 6 ne s'allume plus du tout. J'ai vérifié le câble et la prise, "
        "tout semble bien branché. Merci",
        # the procedure under way after a theft
        "Bonjour, le portable de la classe de CM1 a disparu pendant le week-end, l'armoire a été forcée. "
        "La mairie est au courant et une main courante a été déposée.",
        # a class closing and who takes its equipment back
        "Bonjour, fermeture d'une classe à la rentrée, nous passons de 6 à 5 classes. Qui vient reprendre le matériel ?",
    ],
)
def test_what_works_and_what_is_under_way_are_no_second_problem(nlu: LocalNlu, text: str) -> None:
    """Set I's long e-mails: one problem, told with what was checked, what works and who was told."""
    assert "problems" not in _triage(nlu, text)


def test_a_part_that_works_and_fails_is_still_a_problem() -> None:
    """« le PC marche bien mais l'imprimante ne marche plus » still names what fails."""
    from domain.vocabulary import Intent
    from handlers.problems import names_a_problem
    from nlu import ParseResult

    assert names_a_problem(ParseResult("le PC marche bien mais l'imprimante ne marche plus", Intent.HARDWARE_FAILURE, 0.9))
    assert not names_a_problem(ParseResult("Internet, lui, fonctionne normalement", Intent.NETWORK_OUTAGE, 0.9))
    assert not names_a_problem(ParseResult("La mairie est au courant", Intent.BUILDING_WORKS, 0.9))
    assert names_a_problem(ParseResult("la mairie est prévenue mais la prise réseau pend toujours, arrachée",
                                       Intent.BUILDING_WORKS, 0.9))

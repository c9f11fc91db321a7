"""Set J: misses read after its blind score (real data): devices described rather than named, the
phrases that hold a device's name but name none, the apostrophe left out, a laptop's own
keyboard, the projector one writes on with a pen, « switch » the English verb, the parts of a
message that say who the writer is, what it is about or what still works, and the problems said
twice in other words (a dead box and no internet; a storm and what the rain did)."""

from __future__ import annotations

import pytest

from domain.vocabulary import Intent
from handlers.problems import announces_subject, names_a_problem, same_problem
from nlu import LocalNlu
from routing import decide, load_territory

from .triage_json import triage_json


@pytest.fixture(scope="module")
def nlu() -> LocalNlu:
    return LocalNlu()


_triage = triage_json


@pytest.mark.parametrize(("text", "device"), [
    ("la petite caméra montée sur un bras qu'on place au-dessus des cahiers donne une image floue", "document_camera"),
    ("Des jeunes ont arraché le boîtier wifi accroché sous le préau", "wifi_access_point"),
    ("le grand écran tactile de la classe des CE2 ne s'allume plus", "interactive_display"),
    ("je narrive plus a ouvrir ma session sur lordinateur de la classe", "desktop"),
    ("limprimante du bureau fait un bruit bizarre", "printer"),
])
def test_devices_described_or_written_without_the_apostrophe(nlu: LocalNlu, text: str, device: str) -> None:
    assert nlu.parse(text).equipment == device


def test_a_page_on_the_screen_or_screen_time_names_no_device(nlu: LocalNlu) -> None:
    assert nlu.parse("la page tourne puis revient à l'écran de connexion").equipment is None
    assert nlu.parse("une formation sur l'éducation aux médias et aux écrans pour le cycle 3").equipment is None
    # the screen itself is still a monitor
    assert nlu.parse("l'écran du PC de la direction clignote").equipment == "monitor"


def test_a_laptops_keyboard_is_the_laptop_and_a_pen_makes_the_projector_interactive(nlu: LocalNlu) -> None:
    spilled = "Un élève a renversé sa gourde sur le clavier de l'ordinateur portable de la classe"
    assert nlu.parse(spilled).equipment == "laptop"
    assert nlu.parse("le clavier du PC de la classe ne répond plus").equipment == "keyboard_mouse"
    pen = "Le projecteur avec le stylet ne réagit plus au stylet, l'image s'affiche bien"
    assert nlu.parse(pen).equipment == "interactive_projector"
    assert nlu.parse("le projecteur de la salle 4 ne s'allume plus").equipment == "projector"


def test_switch_the_english_verb_is_no_router(nlu: LocalNlu) -> None:
    display = nlu.parse("Hello, quick question: how do I switch the interactive display to whiteboard mode?")
    assert display.intent is Intent.HOWTO
    assert display.equipment == "interactive_display"
    assert nlu.parse("Hi, how can I switch the tablets' language to English?").equipment == "tablet"
    # the network switch is still one
    assert nlu.parse("Hello, the switch in the office has no lights since this morning").equipment == "router"


def test_parts_saying_who_writes_what_about_or_what_works(nlu: LocalNlu) -> None:
    intro = nlu.parse("Je suis professeure des écoles stagiaire, affectée depuis le 1er septembre à l'école "
                      "élémentaire Paul-Bert de Saint-Chamond (classe de CE1).")
    assert not names_a_problem(intro)
    # an introduction that asks or says what fails is a problem
    assert names_a_problem(nlu.parse("Je suis la nouvelle directrice et nous voudrions des tablettes"))
    assert not names_a_problem(nlu.parse("Les autres tablettes chargent normalement."))
    assert not names_a_problem(nlu.parse_many(["École élémentaire Jules-Ferry, Saint-Étienne"], routing_only=True)[0])
    subject = nlu.parse("Bonjour, je me permets de vous écrire au sujet du vidéoprojecteur de la classe de CM2")
    assert announces_subject(subject)
    assert not announces_subject(nlu.parse("je vous écris pour le vidéoprojecteur qui ne s'allume plus"))


def test_one_problem_said_in_other_words() -> None:
    assert same_problem(("network_outage", "sem", None), ("hardware_failure", "sem", "router"))
    assert same_problem(("hardware_failure", "sem", "wifi_access_point"), ("network_outage", "sem", None))
    assert not same_problem(("network_outage", "sem", None), ("hardware_failure", "sem", "printer"))
    assert same_problem(("damage", "commune", None), ("hardware_failure", "sem", "projector"))
    assert same_problem(("building_works", "commune", "network_socket"), ("network_outage", "commune", "network_socket"))
    assert same_problem(("hardware_failure", "sem", "interactive_projector"), ("hardware_failure", "sem", "projector"))
    assert not same_problem(("building_works", "commune", "network_socket"), ("network_outage", "sem", "router"))


def test_the_problems_device_is_the_one_its_other_parts_name(nlu: LocalNlu) -> None:
    """On every door through `handlers.problems`: the first ticket is the box's, the announced projector's."""
    box = ("Deux soucis : 1) depuis hier, plus aucune connexion internet ; tous les voyants de la box sont "
           "éteints alors qu'elle est bien branchée ; 2) sans rapport : ma collègue n'arrive plus à se connecter "
           "à sa messagerie académique.")
    out = _triage(nlu, box)
    assert (out["intent"], out["equipment"]) == ("network_outage", "router")
    assert [(p["intent"], p["org"]) for p in out["problems"]] == [("network_outage", "sem"), ("account_access", "rectorat")]
    storm = ("Avec la tempête de cette nuit, une branche a cassé la fenêtre de la classe de CM1 ; la pluie est "
             "entrée et a trempé le vidéoprojecteur fixé au plafond, qui ne s'allume plus.")
    out = _triage(nlu, storm)
    assert (out["intent"], out["org"]) == ("damage", "commune")
    assert "problems" not in out
    announced = ("Bonjour, je me permets de vous écrire au sujet du vidéoprojecteur de la classe de CM2. Depuis lundi, "
                 "il s'éteint tout seul au bout de cinq minutes. Par ailleurs, nous n'avons plus aucune cartouche "
                 "d'encre pour l'imprimante du bureau.")
    out = _triage(nlu, announced)
    assert [(p["intent"], p["equipment"]) for p in out["problems"]][0] == ("hardware_failure", "projector")


def test_usb_keys_asked_for_are_consumables_whatever_the_reading() -> None:
    """Art. 7: SEM supplies no consumables, even when the message reads as a request for equipment."""
    sem = load_territory("sem", check_holidays=False)
    keys = decide(sem, intent=Intent.EQUIPMENT_REQUEST, equipment=None,
                  text="Serait-il possible d'avoir une vingtaine de clés USB pour l'école ?")
    assert (keys.rule_id, keys.org_kind) == ("equipment-request-consumables", "commune")
    tablets = decide(sem, intent=Intent.EQUIPMENT_REQUEST, equipment=None, text="nous voudrions des tablettes")
    assert tablets.org_kind == "sem"

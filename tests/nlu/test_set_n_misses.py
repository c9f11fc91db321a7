"""Set N: misses read after its blind score (real data), tested on texts of our own: a device the
commune or the OGEC bought, or that is not the plan's, said in every way (art. 3); what was tried
said with a participle (« Testé depuis trois postes », « - recalibrage tenté », « firmware déjà à
jour »); an outage seen on the tablets and told on the access point is one outage; the move's
network is the move; a request beside a device that works; a part naming the device it reports;
« we need it »; a workshop that « tombe à l'eau » is no water damage."""

from __future__ import annotations

import pytest

from handlers.problems import _tried_part, same_problem
from nlu import LocalNlu
from nlu.text import normalize

from .triage_json import triage_json


@pytest.fixture(scope="module")
def nlu() -> LocalNlu:
    return LocalNlu()


@pytest.mark.parametrize(
    ("text", "status", "org"),
    [
        ("Le logiciel de la BCD se ferme au démarrage sur le PC de la bibliothèque. Pour info, ce PC a été acheté "
         "et installé par la mairie, il ne fait pas partie de la dotation Métropole.", "public", "commune"),
        ("Le PC du secrétariat plante au démarrage. C'est l'OGEC qui l'a acheté l'an dernier.", "private", "ogec"),
        ("L'imprimante du bureau affiche « Erreur 59 » et reste bloquée ; elle n'est pas du matériel Métropole.",
         "public", "commune"),
    ],
)
def test_a_device_the_school_authority_bought_is_its_own(nlu: LocalNlu, text: str, status: str, org: str) -> None:
    assert triage_json(nlu, text, status)["org"] == org


@pytest.mark.parametrize(
    "tried",
    [
        "Testé depuis deux postes et une tablette, en filaire et en wifi, même résultat.",
        "Par précaution j'ai débranché le portable du réseau et coupé le wifi.",
        "Désinstallation / réinstallation tentée, même comportement.",
    ],
)
def test_what_was_tried_with_a_participle_is_no_second_ticket(nlu: LocalNlu, tried: str) -> None:
    text = "Bonjour,\nLe site de la médiathèque est bloqué par le filtrage web : « Accès refusé ». " + tried
    out = triage_json(nlu, text)
    assert (out["intent"], out["org"]) == ("account_access", "rectorat")
    assert "problems" not in out


def test_a_list_of_checks_tells_the_one_failure(nlu: LocalNlu) -> None:
    text = ("Écran interactif de la salle 2 (étiquette SEM-TNI-0042) :\n- image OK, mais le tactile ne répond plus\n"
            "- recalibrage tenté, redémarrage complet\n- câble USB remplacé, testé sur un portable : rien\n"
            "- firmware déjà à jour")
    out = triage_json(nlu, text)
    assert (out["intent"], out["equipment"]) == ("hardware_failure", "interactive_display")
    assert "problems" not in out
    # a failure told after a participle is not only what was tried
    assert not _tried_part("La tablette a été changée hier mais elle ne charge plus")
    assert _tried_part("- câble USB remplacé, testé sur un portable : rien")


def test_one_outage_seen_on_the_tablets_and_told_on_the_access_point(nlu: LocalNlu) -> None:
    assert same_problem(("network_outage", "sem", "tablet"), ("network_outage", "sem", "wifi_access_point"))
    assert same_problem(("network_outage", "sem", "wifi_access_point"), ("network_outage", "sem", "desktop"))
    assert not same_problem(("network_outage", "sem", "router"), ("network_outage", "sem", "wifi_access_point"))
    out = triage_json(nlu, "Plus de wifi dans la salle 4 depuis lundi : le réseau n'apparaît plus sur les tablettes. "
                           "La borne wifi de la salle a sa LED qui clignote en orange.")
    assert (out["intent"], out["equipment"]) == ("network_outage", "wifi_access_point")
    assert "problems" not in out


def test_the_move_takes_its_network_and_a_request_beside_a_working_device_counts(nlu: LocalNlu) -> None:
    move = triage_json(nlu, "Bonjour, l'école déménage dans les nouveaux locaux de l'OGEC pendant les vacances de "
                            "février. Tout le matériel du plan est concerné, ainsi que la connexion internet. Qui "
                            "coordonne le transfert côté Métropole ?", "private")
    assert "problems" not in move
    text = ("1) la fixation murale du VPI de la salle 7 a du jeu, il faudrait la refaire (l'appareil lui-même "
            "fonctionne) ;\n2) sur les portables de la classe, le logiciel du VPI ne se lance plus depuis la mise à jour.")
    assert [p["intent"] for p in triage_json(nlu, text)["problems"]] == ["building_works", "software_issue"]


def test_a_part_naming_its_device_reports_it(nlu: LocalNlu) -> None:
    out = triage_json(nlu, "Le toit a fui pendant l'orage et l'imprimante de la classe a pris l'eau, elle est "
                           "fichue, la mairie a prévenu l'assurance. En plus on n'a plus de papier du tout, il nous "
                           "faudrait des ramettes.")
    assert (out["intent"], out["equipment"]) == ("damage", "printer")
    assert [p["intent"] for p in out["problems"]] == ["damage", "consumables"]


def test_needing_the_device_and_a_plan_called_off(nlu: LocalNlu) -> None:
    out = triage_json(nlu, "Hi, the head teacher asked me to write: the laptop from the Métropole plan won't turn "
                           "on at all, no lights even when it's plugged in. We need it for the school play on Friday!")
    assert out["intent"] == "hardware_failure" and "problems" not in out
    assert "eau" not in normalize("du coup mon atelier de l'après-midi tombe à l'eau").split()
    assert "eau" in normalize("la tablette est tombée à l'eau").split()


def test_the_review_s_counter_examples_stay_problems(nlu: LocalNlu) -> None:
    """What the narrowed rules must not swallow: a present tense, an update asked for, an impersonal
    « il », a request welcome without asking, the works asked beside a storm's damage."""
    assert not _tried_part("Le PC du bureau redémarre tout seul toutes les 5 minutes")
    assert not _tried_part("Pouvez-vous mettre à jour Pronote sur le poste de la direction ?")
    out = triage_json(nlu, "Le vidéoprojecteur de la salle 2 ne s'allume plus depuis lundi. Il est impossible de "
                           "se connecter à l'ENT depuis les postes élèves.")
    assert [p["intent"] for p in out["problems"]] == ["hardware_failure", "account_access"]
    assert not same_problem(("damage", "commune", None), ("building_works", "commune", "network_socket"))
    assert same_problem(("damage", "commune", None), ("building_works", "commune", "desktop"))


def test_a_line_and_a_count_beside_digits(nlu: LocalNlu) -> None:
    assert nlu.parse("La ligne téléphonique 04 77 22 31 08 n'a plus de tonalité").equipment == "phone"
    found = nlu.parse("Salle 6 : 4 tablettes ne chargent plus").entities
    assert [e.value for e in found if e.entity == "quantity"] == ["4"]

"""Set P: misses read after its blind score (real data), tested on texts of our own: devices named
by their look, as a supply teacher names them; a box's lights are no lighting (art. 2 premises);
a site that refuses one's login on the school's « espace numérique » is the ENT, not filtering;
a part that says it is another problem counts at a lower confidence; a place after a school's
name reports nothing; « où elle est branchée » says where, not that it works; dictation
(« oui fi », « point d'interrogation ») and SMS words (« cmt », « maj »)."""

from __future__ import annotations

import pytest

from domain.vocabulary import Intent
from handlers.problems import ANOTHER_THRESHOLD, confident_part, names_a_problem
from nlu import CLARIFY_THRESHOLD, LocalNlu, ParseResult
from nlu.problems import problem_spans
from nlu.text import normalize

from .triage_json import triage_json


@pytest.fixture(scope="module")
def nlu() -> LocalNlu:
    return LocalNlu()


@pytest.mark.parametrize(
    ("text", "equipment"),
    [
        ("la grande télé de la classe des CP ne s'allume plus", "interactive_display"),
        ("le petit appareil photo sur pied qui filme les cahiers ne donne plus d'image", "document_camera"),
        ("la grosse machine de la salle des maîtres affiche un bourrage papier", "copier"),
        ("le boîtier accroché au plafond ne projette plus rien sur le tableau", "projector"),
        ("le stylo du projecteur n'écrit plus sur l'image", "interactive_projector"),
    ],
)
def test_devices_named_by_their_look(nlu: LocalNlu, text: str, equipment: str) -> None:
    assert triage_json(nlu, text)["equipment"] == equipment


def test_the_lights_of_a_box_are_no_lighting(nlu: LocalNlu) -> None:
    text = "plus d'internet dans toute l'école depuis ce matin, la boîte avec les lumières dans le bureau clignote rouge"
    out = triage_json(nlu, text)
    assert (out["intent"], out["org"], out["rule"]) == ("network_outage", "sem", "network-internet")


def test_the_rooms_lighting_is_still_the_communes(nlu: LocalNlu) -> None:
    out = triage_json(nlu, "les lumières de la classe de CE1 ne s'allument plus, on est dans le noir")
    assert out["org"] == "commune"


def test_a_site_refusing_ones_login_on_the_schools_digital_space_is_the_ent(nlu: LocalNlu) -> None:
    text = ("Je n'arrive pas à entrer sur l'espace numérique de l'école, le site refuse mes identifiants "
            "(« identifiant inconnu »).")
    out = triage_json(nlu, text)
    assert (out["intent"], out["org"]) == ("account_access", "sem")


def test_a_blocked_site_is_still_the_rectorats(nlu: LocalNlu) -> None:
    out = triage_json(nlu, "le site de la médiathèque est bloqué par le filtrage depuis lundi")
    assert out["org"] == "rectorat"


def _part(text: str, confidence: float) -> ParseResult:
    return ParseResult(text, Intent.ACCOUNT_ACCESS, confidence)


def test_a_part_saying_it_is_another_problem_counts_at_a_lower_confidence() -> None:
    assert ANOTHER_THRESHOLD < CLARIFY_THRESHOLD
    said = "Et, autre chose, deux collègues n'arrivent plus à se connecter à l'ENT"
    assert confident_part(_part(said, 0.6))
    assert not confident_part(_part(said, ANOTHER_THRESHOLD - 0.01))
    assert not confident_part(_part("deux collègues n'arrivent plus à se connecter à l'ENT", 0.6))


def test_another_problem_said_so_is_split(nlu: LocalNlu) -> None:
    text = ("Bonjour,\nSur les tablettes de la classe, l'application de calcul se ferme dès qu'on l'ouvre. "
            "Et, autre chose, ma collègue de CM1 n'arrive plus à ouvrir sa session sur l'ENT depuis lundi.\nMerci")
    out = triage_json(nlu, text)
    assert [p["intent"] for p in out.get("problems", [])][:1] == ["software_issue"]


def test_a_place_after_a_schools_name_reports_nothing() -> None:
    assert not names_a_problem(ParseResult("École Fauriel, Saint-Étienne, classe de CE2", Intent.CLASS_CHANGE, 0.9))
    assert names_a_problem(ParseResult("École Fauriel, Saint-Étienne : Internet ne marche plus", Intent.NETWORK_OUTAGE, 0.9))


def test_where_it_is_plugged_in_is_no_saying_it_works() -> None:
    part = ParseResult("la prise du mur où elle est branchée sort à moitié du mur", Intent.BUILDING_WORKS, 0.99)
    assert names_a_problem(part)
    assert not names_a_problem(ParseResult("tout est bien branché", Intent.HARDWARE_FAILURE, 0.9))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("le oui fi marche plus", "wifi"),
        ("cmt on fait", "comment"),
        ("la tablette dmd une maj", "mise a jour"),
        ("qui déplace le matériel point d'interrogation", "qmark"),
    ],
)
def test_dictation_and_sms_words(text: str, expected: str) -> None:
    assert expected in normalize(text)


def test_a_dictated_question_mark_ends_a_part() -> None:
    text = "qui s'occupe de déplacer le matériel point d'interrogation et aussi la borne wifi du couloir est éteinte"
    assert len(problem_spans(text)) == 2

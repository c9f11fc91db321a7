"""Set M: misses read after its blind score (real data), tested on texts of our own: an e-mail's
signature (its « Tél. : 04 77 … », the school's address) is neither a telephone to repair nor a
second problem; « M. Brunel » ends no sentence; « et sinon », « pardon j'ai oublié de dire » and an
English « access point » cut where a second problem starts; the parts of an e-mail that tell more
of the first problem (the list of what was tried, what the other devices do, what a third party
did or said, a sentence about « il », the room set up already, why a request is made) are no
second ticket; a water leak over the computers is one damage; « le meuble à roulettes »."""

from __future__ import annotations

import pytest

from handlers.problems import names_a_problem, same_problem, tells_more
from nlu import LocalNlu
from nlu.problems import problem_spans
from nlu.text import body_end

from .triage_json import triage_json


@pytest.fixture(scope="module")
def nlu() -> LocalNlu:
    return LocalNlu()


_SIGNATURE = ("\n\nBien cordialement,\n\nClaire Besson\nDirectrice\nÉcole élémentaire publique Les Tilleuls\n"
              "8 rue des Écoles, 42100 Saint-Étienne\nUAI : 0421999X\nTél. : 04 77 12 34 56")


def _parts(text: str) -> list[str]:
    return [text[a:b] for a, b in problem_spans(text)]


def test_the_signature_ends_the_body() -> None:
    text = "Bonjour,\n\nLe visualiseur de la classe de CP ne s'allume plus." + _SIGNATURE
    assert text[: body_end(text)].endswith("ne s'allume plus.")
    assert _parts(text) == ["Bonjour,\n\nLe visualiseur de la classe de CP ne s'allume plus."]
    english = "Hello,\n\nThe printer in room 4 is jammed again.\n\nKind regards,\nAnna Smith\nEnglish assistant"
    assert english[: body_end(english)].endswith("jammed again.")
    assert body_end("pas de signature ici, cordialement") == len("pas de signature ici, cordialement")


def test_a_signature_names_no_telephone_and_counts_nothing(nlu: LocalNlu) -> None:
    text = "Bonjour,\n\nJe souhaiterais une formation sur l'ENT pour deux collègues." + _SIGNATURE
    out = triage_json(nlu, text)
    assert (out["intent"], out["org"], out["equipment"]) == ("training_request", "rectorat", None)
    assert "problems" not in out
    # « deux collègues » is a count; the address's and the phone number's digits are not
    assert [e["value"] for e in out["entities"] if e["entity"] == "quantity"] == ["2"]
    # the school's code is still read from the signature
    assert any(e["entity"] == "school" and e["value"] == "0421999X" for e in out["entities"])
    # a number to call back in a chat message is no line at fault either; a phone line still is one
    assert nlu.parse("rappelez-moi au téléphone 06 12 34 56 78, le PC de la classe ne démarre plus").equipment == "desktop"
    assert nlu.parse("le téléphone du bureau n'a plus de tonalité").equipment == "phone"


def test_a_title_ends_no_sentence_and_the_spoken_connectors_cut() -> None:
    assert len(_parts("Pour information, M. Garnier, président de l'OGEC, a été prévenu hier soir")) == 1
    assert _parts("le portable de la classe plante au démarrage et sinon est-ce qu'on pourrait avoir des casques") == [
        "le portable de la classe plante au démarrage", "est-ce qu'on pourrait avoir des casques"]
    assert _parts("plus de cartouches pour l'imprimante et pardon j'ai oublié de dire aussi que le PC s'éteint tout seul") == [
        "plus de cartouches pour l'imprimante", "le PC s'éteint tout seul"]
    english = "the access point on the ceiling of room 2 is dead, and also the printer has no paper left"
    assert _parts(english) == ["the access point on the ceiling of room 2 is dead", "also the printer has no paper left"]


def test_what_was_tried_listed_after_the_problem_is_no_second_ticket(nlu: LocalNlu) -> None:
    text = ("Bonjour,\n\nLe vidéoprojecteur de la salle 5 ne s'allume plus depuis lundi : le voyant reste rouge.\n"
            "Nous avons déjà :\n1) vérifié la prise et le câble d'alimentation ;\n2) changé les piles de la télécommande ;\n"
            "3) attendu une nuit appareil débranché." + _SIGNATURE)
    spans = problem_spans(text)
    items = [(a, b) for a, b in spans if text[a:b].lstrip().startswith(("1)", "2)", "3)"))]
    assert len(items) == 3 and all(tells_more(text, a, b) for a, b in items)
    out = triage_json(nlu, text)
    assert (out["intent"], out["org"], out["equipment"]) == ("hardware_failure", "sem", "projector")
    assert "problems" not in out
    # a list that is not what was tried keeps its items
    listed = "Bonjour,\n\nDeux demandes :\n1) le PC du bureau ne démarre plus ;\n2) il nous faudrait du papier."
    assert not any(tells_more(listed, a, b) for a, b in problem_spans(listed))


@pytest.mark.parametrize(
    "detail",
    [
        "Les autres tablettes de la classe ne présentent pas ce défaut.",
        "Les services techniques de la mairie ont sécurisé la porte.",
        "Selon l'agent de la mairie, aucune coupure n'a eu lieu dans le quartier.",
        "Il affiche « Erreur 0x80070005 » puis se ferme.",
    ],
)
def test_what_the_others_do_or_said_is_no_second_ticket(nlu: LocalNlu, detail: str) -> None:
    text = "Bonjour,\n\nLe logiciel de lecture du poste 3 se ferme dès qu'on l'ouvre depuis la mise à jour. " + detail
    out = triage_json(nlu, text)
    assert (out["intent"], out["org"]) == ("software_issue", "sem")
    assert "problems" not in out


def test_a_pronoun_with_a_new_request_still_reports_it(nlu: LocalNlu) -> None:
    text = ("Le vidéoprojecteur est tombé du plafond ce matin, le boîtier est fendu. "
            "Il faudra aussi refaire la fixation au plafond avant d'en installer un autre.")
    out = triage_json(nlu, text)
    assert [p["intent"] for p in out["problems"]] == ["damage", "building_works"]


def test_a_leak_over_the_computers_is_one_damage() -> None:
    assert same_problem(("damage", "commune", None), ("building_works", "commune", "desktop"))
    assert not same_problem(("damage", "commune", "projector"), ("building_works", "commune", "desktop"))


def test_why_a_request_is_made_and_a_room_set_up_already(nlu: LocalNlu) -> None:
    why = nlu.parse("Les enseignants de CP et de CE1 utilisent à tour de rôle l'unique visualiseur de l'école")
    if why.intent.value in ("training_request", "equipment_request"):
        assert not names_a_problem(why)
    assert names_a_problem(nlu.parse("Nous aimerions deux visualiseurs de plus pour les classes de cycle 2"))
    text = ("Bonjour,\n\nL'OGEC a aménagé cet été une nouvelle salle de classe au rez-de-chaussée. Il n'y a aucune "
            "prise réseau dans cette pièce : il faudrait tirer un câble depuis la baie et poser deux prises RJ45.")
    out = triage_json(nlu, text, "private")
    assert [p["intent"] for p in out.get("problems", [])] in ([], ["building_works"])
    assert out["org"] == "ogec"


def test_the_rolling_cabinet_is_the_charging_cart(nlu: LocalNlu) -> None:
    assert nlu.parse("le meuble à roulettes des tablettes ne charge plus rien").equipment == "charging_cart"

"""Set O: misses read after its blind score (real data), tested on texts of our own: a service's
signature on the last line is no works request; the complaint to come and the papers asked for
after a theft are its procedure, not a request; an English report that a device « won't start »,
bought by the OGEC or the town council (art. 3); the fixed phone line is the phone (art. 2)."""

from __future__ import annotations

import pytest

from nlu import LocalNlu
from nlu.language import french_gloss
from routing.text import stated_owner

from .triage_json import triage_json


@pytest.fixture(scope="module")
def nlu() -> LocalNlu:
    return LocalNlu()


@pytest.mark.parametrize(
    "signature",
    ["Services techniques, Ville de Roche-la-Molière", "Service scolaire, Saint-Jean-Bonnefonds",
     "La comptable de l'OGEC", "Secrétariat de mairie de Cellieu"],
)
def test_a_service_signing_on_the_last_line_reports_nothing(nlu: LocalNlu, signature: str) -> None:
    text = ("Bonjour,\nL'imprimante du bureau de direction affiche « erreur 49 » et n'imprime plus rien depuis mardi. "
            "Merci de noter la panne.\n" + signature)
    out = triage_json(nlu, text)
    assert (out["intent"], out["equipment"]) == ("hardware_failure", "printer")
    assert "problems" not in out


def test_a_signature_line_that_reports_something_still_counts(nlu: LocalNlu) -> None:
    text = ("Le vidéoprojecteur de la classe de CM1 ne s'allume plus depuis lundi.\n"
            "Et la prise réseau du bureau est arrachée, il faudrait la refixer.")
    assert len(triage_json(nlu, text).get("problems", [])) == 2


@pytest.mark.parametrize(
    "after",
    ["Nous allons porter plainte cet après-midi. Quels documents devons-nous vous transmettre ?",
     "La directrice va déposer plainte. Que faut-il fournir pour le dossier d'assurance ?"],
)
def test_the_complaint_to_come_and_its_papers_are_the_thefts_procedure(nlu: LocalNlu, after: str) -> None:
    text = ("Bonjour, la tablette de la Métropole de la classe de CP a disparu de l'armoire pendant le week-end, "
            "sans effraction. " + after)
    out = triage_json(nlu, text, "public")
    assert (out["intent"], out["org"]) == ("theft", "commune")
    assert "problems" not in out


@pytest.mark.parametrize(
    ("text", "owner"),
    [
        ("The printer the OGEC bought two years ago won't start anymore.", "ogec"),
        ("The laptops were purchased last spring by the town council, one of them doesn't boot.", "commune"),
        ("The projector was paid for by the municipality.", "commune"),
        ("The school bought a laptop that won't start.", None),
    ],
)
def test_who_bought_it_said_in_english(text: str, owner: str | None) -> None:
    assert stated_owner(text) == owner


def test_an_english_device_that_wont_start_is_a_failure_of_its_buyers(nlu: LocalNlu) -> None:
    assert "ne démarre plus" in french_gloss("the laptop won't start anymore")
    text = ("Hello, one of the laptops the OGEC bought with its own funds won't start anymore, "
            "just a black screen after the logo. Thanks")
    out = triage_json(nlu, text, "private")
    assert (out["intent"], out["org"], out["equipment"]) == ("hardware_failure", "ogec", "laptop")


@pytest.mark.parametrize(("status", "org"), [("public", "commune"), ("private", "ogec")])
def test_the_fixed_line_is_the_phone(nlu: LocalNlu, status: str, org: str) -> None:
    out = triage_json(nlu, "Bonjour, notre ligne fixe ne sonne plus depuis hier, plus aucun appel n'arrive.", status)
    assert (out["intent"], out["equipment"], out["org"]) == ("network_outage", "phone", org)

"""The rule that tells one problem said twice from two problems (`handlers.problems`), shared by
`guichet triage` and every door."""

from __future__ import annotations

import pytest

from domain.vocabulary import Intent
from handlers.problems import find_problems, find_problems_beside_question, names_a_problem, not_covered, reading_of, same_problem, without
from nlu import LocalNlu
from routing import load_territory

SOCKET = "le vidéoprojecteur de la classe de CM2 ne s'allume plus et la prise est arrachée"


@pytest.fixture(scope="module")
def nlu() -> LocalNlu:
    return LocalNlu()


def test_a_detail_without_a_device_belongs_to_the_problem_before() -> None:
    """Same intent and organisation: a part naming no device, the same device, or another item of
    one event or list is the problem already found; another device failing is another problem."""
    printer = ("hardware_failure", "sem", "printer")
    assert same_problem(printer, ("hardware_failure", "sem", None))
    assert same_problem(("equipment_request", "sem", None), ("equipment_request", "sem", "tablet"))
    assert same_problem(("theft", "commune", "tablet"), ("theft", "commune", "projector"))
    assert not same_problem(printer, ("hardware_failure", "sem", "projector"))
    assert not same_problem(printer, ("software_issue", "sem", None))
    assert not same_problem(("damage", "commune", "tablet"), ("damage", "sem", "tablet"))


def test_what_a_damage_did_to_the_device_is_the_same_event() -> None:
    """After a damage or a theft, a failure naming no device, the same one, or the screen of the
    device is what the event did (one declaration, art. 6); another device failing is another
    problem, and a failure first then a damage stays two."""
    copier = ("damage", "commune", "copier")
    assert same_problem(copier, ("hardware_failure", "sem", None))
    assert same_problem(copier, ("hardware_failure", "sem", "copier"))
    assert same_problem(("damage", "ogec", "laptop"), ("hardware_failure", "sem", "monitor"))
    assert same_problem(("theft", "commune", "display_dongle"), ("hardware_failure", "sem", None))
    assert not same_problem(copier, ("hardware_failure", "sem", "projector"))
    assert not same_problem(copier, ("hardware_failure", "sem", "monitor"))
    assert not same_problem(copier, ("network_outage", "sem", None))
    assert not same_problem(("hardware_failure", "sem", "copier"), ("damage", "commune", "copier"))


async def test_a_damage_and_its_consequences_is_one_problem(nlu: LocalNlu) -> None:
    """« des coups de pied dans le copieur, la vitre est brisée et le bac papier ne rentre plus »:
    one damage on every door (the parts after it are what the kicks did)."""
    territory = load_territory("sem")
    kicked = ("Un élève en colère a donné des coups de pied dans la photocopieuse du couloir, la vitre "
              "du scanner est cassée et le bac papier ne rentre plus.")
    assert await find_problems(nlu, territory, kicked) == []
    dropped = ("Bonjour, un ordinateur portable est tombé du chariot ce matin, la charnière est cassée et "
               "l'écran ne tient plus debout. École Sainte-Anne de Lourdes, classe de CM1")
    assert await find_problems(nlu, territory, dropped) == []
    two = "Un élève a fait tomber la tablette de la classe. Par ailleurs l'imprimante du bureau ne marche plus."
    assert [p.key[0] for p in await find_problems(nlu, territory, two)] == ["damage", "hardware_failure"]


async def test_two_problems_for_two_bodies_are_found_and_routed_each_on_its_own(nlu: LocalNlu) -> None:
    problems = await find_problems(nlu, load_territory("sem"), SOCKET)
    assert [p.key for p in problems] == [("hardware_failure", "sem", "projector"), ("building_works", "commune", None)]
    assert problems[1].decision.role is not None and problems[1].text == "la prise est arrachée"


async def test_one_problem_said_twice_is_not_split(nlu: LocalNlu) -> None:
    territory = load_territory("sem")
    assert await find_problems(nlu, territory, "Le TNI ne s'allume plus. On l'a débranché et rebranché, rien.") == []
    assert await find_problems(nlu, territory, "Le TNI de la classe ne s'allume plus du tout. Salle 8, classe de CE1") == []


async def test_a_problem_beside_a_status_question_is_found(nlu: LocalNlu) -> None:
    """« …HS, et svp où en est la demande… » reads as a status question, which opens no ticket: the
    mouse is found on its own (and is no « second » problem: there is one ticket to open)."""
    territory = load_territory("sem")
    text = "la souris du poste 5 en salle info est HS, et svp où en est la demande 2026-00042 ?"
    assert nlu.parse(text).intent is Intent.TICKET_STATUS
    assert await find_problems(nlu, territory, text) == []
    [mouse] = await find_problems_beside_question(nlu, territory, text)
    assert mouse.key == ("hardware_failure", "sem", "keyboard_mouse")
    assert mouse.text == "la souris du poste 5 en salle info est HS"
    # A status question alone, or a report without a question, finds nothing here.
    assert await find_problems_beside_question(nlu, territory, "où en est ma demande 2026-00042 ? merci d'avance") == []
    assert await find_problems_beside_question(nlu, territory, SOCKET) == []


def test_a_room_or_a_school_alone_names_no_problem(nlu: LocalNlu) -> None:
    assert not names_a_problem(nlu.parse("Salle 8, classe de CE1"))
    assert not names_a_problem(nlu.parse("École privée La Salle"))
    assert names_a_problem(nlu.parse("la prise est arrachée"))


async def test_the_first_ticket_reads_its_own_problem_and_leaves_the_other(nlu: LocalNlu) -> None:
    """The message as a whole reads as a mix (building works naming the projector); the ticket is
    the first problem's, the other is left for its own ticket, and the rules read the first without it."""
    problems = [p.to_pending() for p in await find_problems(nlu, load_territory("sem"), SOCKET)]

    def key(p: dict) -> tuple:
        return (p["intent"], p["org"], p["equipment"])

    # Whatever the whole message reads as, the first ticket is the first problem said.
    assert reading_of(problems, "building_works", "projector", key=key) == ("hardware_failure", "projector")
    assert reading_of(problems, "damage", None, key=key) == ("hardware_failure", "projector")
    assert reading_of([], "damage", None, key=key) == ("damage", None)
    left = not_covered(problems, "hardware_failure", "projector", key=key)
    assert [p["intent"] for p in left] == [Intent.BUILDING_WORKS.value]
    assert "prise" not in without(SOCKET, left) and "vidéoprojecteur" in without(SOCKET, left)
    assert not_covered(problems, "building_works", None, key=key)[0]["equipment"] == "projector"

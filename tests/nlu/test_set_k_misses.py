"""Set K: misses read after its blind score (real data), tested on texts of our own: the dictated
« point », « au fait » and « au passage » that open a second problem; the parts of a long e-mail
that tell more of the first problem (what was tried, what works, who was told, what the room
has, a move already made, the same account said again) and are no second ticket; a desktop's
screen is its monitor; « route » is no router; the network device an English message names; the
ENT's reset mail is the ENT's."""

from __future__ import annotations

import pytest

from domain.vocabulary import Intent
from handlers.problems import names_a_problem, same_problem, tells_more
from nlu import LocalNlu
from nlu.problems import problem_spans
from routing import decide, load_territory

from .triage_json import triage_json


@pytest.fixture(scope="module")
def nlu() -> LocalNlu:
    return LocalNlu()


_triage = triage_json


def _parts(text: str) -> list[str]:
    return [text[a:b] for a, b in problem_spans(text)]


def test_the_dictated_full_stop_and_the_spoken_connectors_cut() -> None:
    dictated = ("la tablette de la classe des CP s'éteint toute seule point on l'a rechargée toute la nuit "
                "pareil point et aussi il nous faudrait du papier pour la photocopieuse")
    assert _parts(dictated) == [
        "la tablette de la classe des CP s'éteint toute seule",
        "on l'a rechargée toute la nuit pareil",
        "il nous faudrait du papier pour la photocopieuse",
    ]
    # « point » the noun is no full stop
    assert len(_parts("le point d'accès du préau ne s'allume plus depuis lundi")) == 1
    assert len(_parts("le portable est au point mort il ne démarre plus")) == 1
    assert _parts("le pc de la BCD ne s'allume plus et au passage il manque une souris en salle 2") == [
        "le pc de la BCD ne s'allume plus", "il manque une souris en salle 2"]
    # « aussi » inside a clause cuts nothing
    assert len(_parts("Le câble marche aussi sur la prise du couloir, c'est donc la prise de la classe")) == 1


def test_a_dictated_second_problem_gets_its_own_ticket(nlu: LocalNlu) -> None:
    out = _triage(nlu, "le vidéoprojecteur de la salle trois s'éteint au bout de deux minutes point et aussi on a "
                       "plus une seule cartouche noire pour l'imprimante merci")
    assert (out["intent"], out["org"], out["equipment"]) == ("hardware_failure", "sem", "projector")
    assert [(p["intent"], p["org"]) for p in out["problems"]] == [("hardware_failure", "sem"), ("consumables", "commune")]


@pytest.mark.parametrize("text", [
    "Les autres logiciels et la messagerie fonctionnent.",
    "là, internet revient",
    "Tous les autres sites s'ouvrent, internet n'est pas en panne",
    "Le reste du matériel n'a rien",
    "La classe concernée dispose d'un vidéoprojecteur et d'un ordinateur portable",
    "Il y a déjà une prise réseau libre derrière le bureau",
    "Les parents ont été informés",
    "j'ai vérifié avec une autre souris que le port USB reconnaît bien les appareils",
])
def test_parts_that_say_what_works_who_was_told_or_what_there_is(nlu: LocalNlu, text: str) -> None:
    assert not names_a_problem(nlu.parse(text))


def test_parts_that_still_fail_are_problems(nlu: LocalNlu) -> None:
    assert names_a_problem(nlu.parse("Rien ne fonctionne."))
    assert names_a_problem(nlu.parse("le vidéoprojecteur ne fonctionne toujours pas"))
    assert names_a_problem(nlu.parse("la salle dispose d'un vidéoprojecteur qui ne s'allume plus"))


def test_parts_that_tell_more_of_the_problem_before() -> None:
    text = ("Le traitement de texte se ferme dès que j'ouvre un document. J'ai redémarré l'ordinateur deux fois, "
            "c'est pareil. Par ailleurs, j'ai essayé d'imprimer et l'imprimante ne répond pas. "
            "Nous voudrions notamment apprendre à utiliser le logiciel. J'ai déjà signalé un souci avec ce même "
            "ordinateur. Serait-il possible de le réparer ?")
    spans = problem_spans(text)
    told = {text[a:b].split(",")[0].split(" ")[1]: tells_more(text, a, b) for a, b in spans}
    assert told == {"traitement": False, "redémarré": True, "essayé": False, "voudrions": True,
                    "déjà": True, "possible": True}


def test_the_details_of_a_long_e_mail_are_no_second_ticket(nlu: LocalNlu) -> None:
    mail = ("Bonjour,\n\nDepuis lundi, le logiciel de calcul mental se ferme tout seul au bout d'une minute sur "
            "l'ordinateur de la classe (poste fixe, salle 5).\n\nLes autres programmes, internet et la messagerie "
            "fonctionnent. J'ai redémarré le poste et réinstallé le raccourci, sans effet.\n\nLes parents ont été "
            "informés.\n\nCordialement,\nPaul Girard\nClasse de CM1 – École du Centre, Saint-Genest-Malifaux")
    out = _triage(nlu, mail)
    assert (out["intent"], out["org"]) == ("software_issue", "sem")
    assert "problems" not in out


def test_the_same_account_said_again_is_one_problem(nlu: LocalNlu) -> None:
    mail = ("Bonjour, j'ai oublié le mot de passe de ma messagerie académique et mon compte est maintenant bloqué. "
            "La page de réinitialisation me demande un code que je n'ai pas reçu. Pouvez-vous m'aider ?")
    out = _triage(nlu, mail)
    assert (out["intent"], out["org"]) == ("account_access", "rectorat")
    assert "problems" not in out
    # another account, said to be another, stays a second problem
    two = ("Bonjour, ma messagerie académique refuse mon mot de passe depuis hier. Par ailleurs, je n'arrive plus "
           "à me connecter à l'ENT de l'école.")
    assert [(p["intent"], p["org"]) for p in _triage(nlu, two)["problems"]] == [
        ("account_access", "rectorat"), ("account_access", "sem")]


def test_a_class_moved_already_is_the_setting_of_the_report(nlu: LocalNlu) -> None:
    mail = ("Bonjour, nous avons déménagé la classe de CM2 dans le bâtiment neuf pendant les vacances. "
            "L'ordinateur portable de la classe, rangé dans le placard fermé à clé, a disparu et la serrure a été "
            "forcée.")
    out = _triage(nlu, mail)
    assert out["intent"] == "theft"
    assert not any(p["intent"] == "class_change" for p in out.get("problems", []))


def test_another_problem_said_so_is_not_merged() -> None:
    # a damage then a failure of the same device is what the damage did …
    assert same_problem(("damage", "ogec", "tablet"), ("hardware_failure", "sem", "tablet"))
    # … a desktop's or a laptop's screen said after it is the same problem
    assert same_problem(("hardware_failure", "sem", "laptop"), ("hardware_failure", "sem", "monitor"))
    assert same_problem(("hardware_failure", "sem", "desktop"), ("hardware_failure", "sem", "monitor"))
    assert same_problem(("damage", "commune", None), ("building_works", "commune", None))
    assert not same_problem(("theft", "commune", None), ("building_works", "commune", None))


def test_sans_rapport_opens_a_second_problem(nlu: LocalNlu) -> None:
    mail = ("Bonjour, hier un élève a fait tomber une tablette, l'écran est fissuré (SEM-TAB-00120). "
            "Sans aucun rapport, une autre tablette ne s'allume plus depuis lundi alors qu'elle n'a subi aucun choc.")
    out = _triage(nlu, mail)
    assert [(p["intent"], p["org"]) for p in out["problems"]] == [("damage", "commune"), ("hardware_failure", "sem")]


def test_a_desktops_screen_is_its_monitor_and_a_road_no_router(nlu: LocalNlu) -> None:
    assert nlu.parse("l'écran de l'ordinateur de la direction fait des rayures verticales").equipment == "monitor"
    assert nlu.parse("écran noir sur le PC de la salle 3").equipment == "desktop"
    assert nlu.parse("l'écran de l'ordinateur portable est fissuré").equipment == "laptop"
    assert nlu.parse("Au revoir et bonne route à toute l'équipe").equipment is None
    assert nlu.parse("le car scolaire passera-t-il pendant les travaux de la route ?").equipment is None


def test_the_network_device_an_english_message_names(nlu: LocalNlu) -> None:
    result = nlu.parse("Hello, no internet in the whole school today, the access point in the corridor is dark "
                       "and the pupils cannot use their tablets.")
    assert result.intent is Intent.NETWORK_OUTAGE
    assert result.equipment == "wifi_access_point"


def test_the_ents_reset_mail_is_the_ents() -> None:
    sem = load_territory("sem", check_holidays=False)
    ent = decide(sem, intent=Intent.ACCOUNT_ACCESS, equipment=None,
                 text="Je ne peux plus me connecter à l'ENT, et le mail de réinitialisation n'arrive jamais")
    assert (ent.rule_id, ent.org_kind) == ("account-ent-login", "sem")
    academic = decide(sem, intent=Intent.ACCOUNT_ACCESS, equipment=None,
                      text="Depuis l'ENT je n'ouvre plus ma messagerie académique, le mail reste bloqué")
    assert academic.org_kind == "rectorat"
    numen = decide(sem, intent=Intent.ACCOUNT_ACCESS, equipment=None, text="on me demande mon NUMEN pour réinitialiser")
    assert numen.org_kind == "rectorat"
    assert numen.by_words and not decide(sem, intent=Intent.ACCOUNT_ACCESS, equipment=None, text="mon code").by_words


# -- set L: misses read after its blind score -------------------------------------------------


def test_set_l_devices_named_short_or_described(nlu: LocalNlu) -> None:
    assert nlu.parse("écran de la tab fissuré après une chute").equipment == "tablet"
    assert nlu.parse("la petite caméra sur pied du bureau donne une image figée").equipment == "document_camera"
    assert nlu.parse("plus de cartouches pour la jet d'encre du CP").equipment == "printer"
    # her own phone is no school line
    assert nlu.parse("le code de confirmation n'arrive jamais sur mon téléphone").equipment is None
    assert nlu.parse("le téléphone de l'école ne sonne plus").equipment == "phone"


def test_set_l_parts_that_are_no_second_ticket(nlu: LocalNlu) -> None:
    for text in ("La famille de l'élève a été prévenue", "La famille a été reçue mardi",
                 "Le portable a été fourni par le plan numérique, il porte l'étiquette de la Métropole"):
        assert not names_a_problem(nlu.parse(text)), text
    text = "Le logiciel de la BCD ne démarre plus. La directrice a déjà redémarré le poste plusieurs fois."
    a, b = problem_spans(text)[1]
    assert tells_more(text, a, b)
    # « de plus en plus » is no connector
    assert len(_parts("le support mural du TBI se descelle, il penche de plus en plus, j'ai peur qu'il tombe")) == 1


def test_set_l_one_problem_said_by_the_socket_and_the_outage() -> None:
    assert same_problem(("building_works", "ogec", "network_socket"), ("network_outage", "sem", "desktop"))
    assert same_problem(("network_outage", "sem", "desktop"), ("building_works", "commune", "network_socket"))
    assert not same_problem(("network_outage", "sem", "router"), ("building_works", "commune", "network_socket"))
    assert same_problem(("network_outage", "sem", "tablet"), ("building_works", "commune", "wifi_access_point"))


def test_set_l_a_status_question_then_a_new_problem(nlu: LocalNlu) -> None:
    """« Je reviens vers vous au sujet de la demande … » asks how a ticket is going: the new problem
    beside it is reported (the rule of every door)."""
    from handlers.problems import problems_beside_question

    text = ("Je reviens vers vous au sujet de la demande 2026-00315 concernant l'imprimante : avez-vous des "
            "nouvelles de la réparation ?\nJ'en profite pour signaler un autre problème : depuis hier, l'ordinateur "
            "portable de la classe de CE1 ne s'allume plus, aucun voyant ne réagit.")
    spans = problem_spans(text)
    parts = [nlu.parse(text[a:b]) for a, b in spans]
    found = problems_beside_question(load_territory("sem", check_holidays=False), text, spans, parts)
    assert [(p.intent.value, p.equipment) for p in found] == [("hardware_failure", "laptop")]

"""Premises equipment (sockets, lighting, cabling, locks, blinds) goes to the keeper of the premises."""

from __future__ import annotations

import re

import pytest

from domain.vocabulary import Equipment, Intent, Role, SchoolStatus
from routing import decide, load_territory

PRESETS = ["sem", "saint-denis", "vienne-condrieu"]

PREMISES = [
    (Intent.HARDWARE_FAILURE, "la prise électrique de la classe de CP ne marche plus"),
    (Intent.HARDWARE_FAILURE, "les néons de la salle 5 sont grillés"),
    (Intent.HARDWARE_FAILURE, "l'éclairage de la salle de motricité est en panne"),
    (Intent.NETWORK_OUTAGE, "interrupteur casse dans la classe, plus de lumiere"),
    (Intent.DAMAGE, "la serrure de la salle informatique a été forcée et ne ferme plus"),
    (Intent.BUILDING_WORKS, "le store de la classe de CE1 est bloqué en bas"),
    (Intent.HARDWARE_FAILURE, "le disjoncteur de la salle des maîtres saute sans arrêt"),
]


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize(("intent", "text"), PREMISES)
def test_premises_route_to_the_school_authority_with_the_article(preset: str, intent: Intent, text: str):
    """Whatever the classifier guessed, premises equipment is the commune's (or OGEC's), article cited."""
    territory = load_territory(preset)
    decision = decide(territory, intent=intent, equipment=None, text=text)
    assert decision.role is Role.SCHOOL_AUTHORITY
    assert decision.rule_id == "premises"
    assert re.search(r"art\. (L212-4|\d)", decision.reason)


@pytest.mark.parametrize("preset", ["sem", "vienne-condrieu"])
def test_premises_of_a_private_school_go_to_its_ogec(preset: str):
    """A broken lock in a private school is the OGEC's."""
    decision = decide(
        load_territory(preset), intent=Intent.BUILDING_WORKS, equipment=None,
        school_status=SchoolStatus.PRIVATE, text="la gâche de la porte est cassée, la serrure ne ferme plus",
    )
    assert decision.org_kind == "ogec"


@pytest.mark.parametrize("preset", PRESETS)
def test_a_broken_socket_beside_a_device_still_goes_to_the_premises(preset: str):
    """A device is named but the fault is the wall socket: the keeper of the premises, not the operator."""
    decision = decide(
        load_territory(preset), intent=Intent.HARDWARE_FAILURE, equipment=Equipment.CHARGING_CART,
        text="la prise murale ne marche plus, le chariot ne charge pas",
    )
    assert decision.rule_id == "premises-beside-device"
    assert decision.role is Role.SCHOOL_AUTHORITY


def test_a_device_fault_with_a_working_socket_stays_with_the_operator():
    """« La prise murale marche » is a check the teacher made: the cart itself is SEM's."""
    decision = decide(
        load_territory("sem"), intent=Intent.HARDWARE_FAILURE, equipment=Equipment.CHARGING_CART,
        text="le chariot ne charge plus les tablettes, pourtant la prise murale marche",
    )
    assert decision.org_kind == "sem"


def test_a_projector_with_its_indicator_light_off_is_not_premises():
    """« Lumière » of a device (its indicator) with the device named is the device's failure."""
    decision = decide(
        load_territory("sem"), intent=Intent.HARDWARE_FAILURE, equipment=Equipment.LAPTOP,
        text="le portable ne démarre plus, la petite lumière ne s'allume même pas",
    )
    assert decision.org_kind == "sem"


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("text", [
    "le petit boîtier ne répond plus, il reste avec sa lumière rouge fixe",
    "plus rien ne s'affiche, juste une lumiere orange qui clignote sur le côté",
])
def test_an_unnamed_device_with_its_indicator_colour_is_not_premises(preset: str, text: str):
    """« Sa lumière rouge fixe » is a device's indicator, not the room's lighting, even when the
    device was not recognised: the premises rule does not take it."""
    decision = decide(load_territory(preset), intent=Intent.HARDWARE_FAILURE, equipment=None, text=text)
    assert decision.rule_id != "premises"
    assert decision.role is Role.OPERATOR


def test_a_wireless_hdmi_box_is_the_display_dongle_and_stays_with_the_operator():
    """« Le boîtier HDMI pour projeter sans fil » is the plan's display dongle (SEM's)."""
    from guichet.triage import triage_lines
    from nlu import LocalNlu

    line = '{"text": "Le boîtier HDMI de la salle 2 n\'est plus reconnu, il reste avec sa lumière rouge fixe"}'
    out = triage_lines(load_territory("sem", check_holidays=False), LocalNlu(), [line])
    assert '"equipment": "display_dongle"' in out
    assert '"org": "sem"' in out

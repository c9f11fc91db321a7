"""The rule engine and what each territory preset decides."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from domain.vocabulary import (
    AssetOwner,
    Equipment,
    Intent,
    Role,
    SchoolStatus,
    SlaPolicy,
    SMALL_TALK_INTENTS,
    TICKET_INTENTS,
)
from routing import Decision, Territory, decide, load_territory, normalise
from routing.text import Keyword, stated_owner

PUBLIC, PRIVATE = SchoolStatus.PUBLIC, SchoolStatus.PRIVATE
OP, SA, ED = Role.OPERATOR, Role.SCHOOL_AUTHORITY, Role.EDUCATION
EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval" / "triage_public.jsonl"


@pytest.fixture(scope="module")
def sem() -> Territory:
    return load_territory("sem")


@pytest.fixture(scope="module")
def saint_denis() -> Territory:
    return load_territory("saint-denis")


@pytest.fixture(scope="module")
def vienne() -> Territory:
    return load_territory("vienne-condrieu")


def route(t: Territory, intent: str, equipment: str | None = None, *, status: SchoolStatus = PUBLIC,
          owner: str | None = None, text: str = "") -> Decision:
    return decide(t, intent=Intent(intent), equipment=Equipment(equipment) if equipment else None,
                  school_status=status, asset_owner=AssetOwner(owner) if owner else None, text=text)


# -- SEM: every row of DOMAIN §4 ------------------------------------------------------------

SEM_TABLE = [
    # intent, equipment, owner, text, role, org, sla, rule
    ("hardware_failure", "projector", None, "", OP, "sem", SlaPolicy.REPLACEMENT, "hardware-plan"),
    ("hardware_failure", "tablet", None, "", OP, "sem", SlaPolicy.REPLACEMENT, "hardware-plan"),
    ("software_issue", "laptop", None, "", OP, "sem", SlaPolicy.RESOLUTION, "software-plan"),
    ("hardware_failure", None, None, "écran noir", OP, "sem", SlaPolicy.REPLACEMENT, "hardware-unidentified"),
    ("software_issue", None, None, "Excel plante", OP, "sem", SlaPolicy.RESOLUTION, "software-unidentified"),
    ("hardware_failure", "desktop", "commune", "", SA, "commune", SlaPolicy.RESOLUTION, "failure-non-plan"),
    ("software_issue", "desktop", "other", "", SA, "commune", SlaPolicy.RESOLUTION, "failure-non-plan"),
    ("hardware_failure", "copier", None, "", SA, "commune", SlaPolicy.RESOLUTION, "failure-non-plan"),
    ("network_outage", None, None, "plus d'internet", OP, "sem", SlaPolicy.RESOLUTION, "network-internet"),
    ("network_outage", "router", None, "la box clignote", OP, "sem", SlaPolicy.RESOLUTION, "network-internet"),
    ("network_outage", "wifi_access_point", None, "", OP, "sem", SlaPolicy.RESOLUTION, "network-internet"),
    ("network_outage", "nas", None, "", OP, "sem", SlaPolicy.RESOLUTION, "network-internet"),
    ("network_outage", "phone", None, "", SA, "commune", SlaPolicy.RESOLUTION, "network-phone-cabling"),
    ("network_outage", "network_socket", None, "", SA, "commune", SlaPolicy.RESOLUTION, "network-phone-cabling"),
    ("building_works", "interactive_projector", None, "fixer le VPI", SA, "commune", SlaPolicy.RESOLUTION, "building-works"),
    ("building_works", None, None, "passage de la fibre", SA, "commune", SlaPolicy.RESOLUTION, "building-works"),
    ("consumables", "printer", None, "plus d'encre", SA, "commune", SlaPolicy.RESOLUTION, "consumables"),
    ("hardware_failure", "whiteboard", None, "", SA, "commune", SlaPolicy.RESOLUTION, "whiteboard"),
    ("equipment_request", "whiteboard", None, "", SA, "commune", SlaPolicy.RESOLUTION, "whiteboard"),
    ("theft", "tablet", None, "3 tablettes volées", SA, "commune", SlaPolicy.DECLARATION, "theft-damage"),
    ("damage", "projector", None, "", SA, "commune", SlaPolicy.DECLARATION, "theft-damage"),
    ("account_access", None, None, "mot de passe de la messagerie académique oublié", ED, "rectorat", SlaPolicy.RESOLUTION, "account-education"),
    ("account_access", None, None, "le site est bloqué par le filtrage", ED, "rectorat", SlaPolicy.RESOLUTION, "account-education"),
    ("account_access", None, None, "je n'arrive plus à me connecter à l'ENT", OP, "sem", SlaPolicy.RESOLUTION, "account-territory"),
    ("account_access", "desktop", None, "le mot de passe du PC a expiré", OP, "sem", SlaPolicy.RESOLUTION, "account-territory"),
    ("training_request", "tablet", None, "", ED, "rectorat", SlaPolicy.FIRST_RESPONSE, "training"),
    ("equipment_request", "interactive_projector", None, "nous voudrions un VPI", OP, "sem", SlaPolicy.FIRST_RESPONSE, "equipment-request"),
    ("class_change", None, None, "fermeture d'une classe", OP, "sem", SlaPolicy.FIRST_RESPONSE, "class-change"),
    ("equipment_removal", "desktop", None, "", OP, "sem", SlaPolicy.RESOLUTION, "removal-plan"),
    ("equipment_removal", None, None, "du matériel inutilisé", OP, "sem", SlaPolicy.RESOLUTION, "removal-plan"),
    ("equipment_removal", "desktop", "commune", "", SA, "commune", SlaPolicy.RESOLUTION, "removal-non-plan"),
    ("equipment_removal", "printer", "other", "", SA, "commune", SlaPolicy.RESOLUTION, "removal-non-plan"),
]


@pytest.mark.parametrize(("intent", "equipment", "owner", "text", "role", "org", "sla", "rule"), SEM_TABLE)
def test_sem_domain_table(sem, intent, equipment, owner, text, role, org, sla, rule):
    """Each DOMAIN §4 row routes to the documented role, organisation kind and SLA policy."""
    d = route(sem, intent, equipment, owner=owner, text=text)
    assert (d.role, d.org_kind, d.sla, d.rule_id) == (role, org, sla, rule)


@pytest.mark.parametrize("intent", sorted({Intent.TICKET_STATUS, Intent.HOWTO} | SMALL_TALK_INTENTS))
def test_sem_no_ticket_intents(sem, intent):
    """Ticket status, how-to questions and small talk open no ticket."""
    d = route(sem, intent, "projector")
    assert (d.role, d.org_kind, d.sla, d.followup) == (None, "none", None, None)
    assert not d.opens_ticket


@pytest.mark.parametrize("intent", sorted(TICKET_INTENTS))
def test_sem_ticket_intents_open_a_ticket(sem, intent):
    """Every ticket intent gets a role, an organisation kind and an SLA policy."""
    d = route(sem, intent, "laptop")
    assert d.role is not None and d.org_kind != "none" and d.sla is not None


def test_theft_is_declared_then_replaced(sem):
    """Theft: the commune declares within 48 h, then SEM replaces (art. 6)."""
    d = route(sem, "theft", "laptop", text="le portable a disparu")
    assert (d.role, d.org_kind, d.sla) == (SA, "commune", SlaPolicy.DECLARATION)
    assert d.followup == Decision(
        rule_id="theft-damage-replacement", role=OP, org_kind="sem", sla=SlaPolicy.REPLACEMENT,
        reason=d.followup.reason,
    )
    assert "48 h" in d.reason and "art. 6" in d.followup.reason
    assert d.followup.followup is None


def test_damage_without_equipment_still_plans_a_replacement(sem):
    """A water leak in the computer room names no device but SEM still replaces its equipment."""
    d = route(sem, "damage", None, text="dégât des eaux dans la salle info")
    assert d.followup is not None and d.followup.org_kind == "sem"


def test_theft_of_non_plan_equipment_has_no_sem_replacement(sem):
    """The commune replaces what it bought itself: no SEM follow-up."""
    d = route(sem, "theft", "laptop", owner="commune")
    assert (d.org_kind, d.sla, d.followup) == ("commune", SlaPolicy.DECLARATION, None)
    assert route(sem, "theft", "whiteboard").followup is None


# -- private schools ---------------------------------------------------------------------------

PRIVATE_TABLE = [
    ("hardware_failure", "tablet", None, OP, "sem"),
    ("software_issue", "interactive_projector", None, OP, "sem"),
    ("hardware_failure", "copier", None, SA, "ogec"),
    ("hardware_failure", "desktop", "ogec", SA, "ogec"),
    ("building_works", "interactive_display", None, SA, "ogec"),
    ("consumables", "printer", None, SA, "ogec"),
    ("network_outage", "phone", None, SA, "ogec"),
    ("network_outage", "router", None, OP, "sem"),
    ("damage", "whiteboard", None, SA, "ogec"),
    ("class_change", None, None, OP, "sem"),
    ("equipment_removal", "desktop", "ogec", SA, "ogec"),
    ("training_request", None, None, ED, "rectorat"),
]


@pytest.mark.parametrize(("intent", "equipment", "owner", "role", "org"), PRIVATE_TABLE)
def test_sem_private_school(sem, intent, equipment, owner, role, org):
    """A private school's school authority is its OGEC; SEM still maintains the plan equipment it lent."""
    d = route(sem, intent, equipment, status=PRIVATE, owner=owner)
    assert (d.role, d.org_kind) == (role, org)


def test_private_school_theft(sem):
    """Theft in a private school: the OGEC declares, SEM replaces."""
    d = route(sem, "theft", "interactive_projector", status=PRIVATE)
    assert (d.org_kind, d.followup.org_kind) == ("ogec", "sem")


def test_default_owner_reads_commune_as_ogec_in_a_private_school(sem):
    """The territory says `commune` for a phone; in a private school that keeper is the OGEC."""
    assert sem.default_owner(Equipment.PHONE) is AssetOwner.COMMUNE
    assert sem.default_owner(Equipment.PHONE, school_status=PRIVATE) is AssetOwner.OGEC
    assert sem.default_owner(Equipment.LAPTOP, school_status=PRIVATE) is AssetOwner.SEM


# -- asset owner from the inventory -------------------------------------------------------------


@pytest.mark.parametrize(
    ("intent", "equipment", "owner", "org"),
    [
        ("hardware_failure", "laptop", "commune", "commune"),
        ("hardware_failure", "headset", "other", "commune"),
        ("hardware_failure", "copier", "sem", "sem"),
        ("software_issue", "desktop", "commune", "commune"),
        ("network_outage", "wifi_access_point", "commune", "commune"),
        ("equipment_removal", "printer", "sem", "sem"),
        ("hardware_failure", None, "commune", "commune"),
    ],
)
def test_inventory_owner_overrides_the_default(sem, intent, equipment, owner, org):
    """The inventory's owner wins over the territory default for the equipment type."""
    assert route(sem, intent, equipment, owner=owner).org_kind == org


def test_effective_owner(sem):
    """Inventory owner, else default by equipment, else unknown."""
    assert sem.effective_owner(Equipment.COPIER, None) is AssetOwner.COMMUNE
    assert sem.effective_owner(Equipment.COPIER, AssetOwner.SEM) is AssetOwner.SEM
    assert sem.effective_owner(None, None) is None


# -- keywords ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "org", "rule"),
    [
        ("MA BOITE MAIL ACADEMIQUE EST PLEINE", "rectorat", "account-education"),
        ("ma boîte mail académique est pleine, « quota dépassé »", "rectorat", "account-education"),
        ("plus accès à mes mails", "rectorat", "account-education"),
        ("Webmail inaccessible", "rectorat", "account-education"),
        ("impossible de me connecter à i-Prof", "rectorat", "account-education"),
        ("mon identifiant ARENA ne marche plus", "rectorat", "account-education"),
        ("page 'site interdit par la politique de filtrage'", "rectorat", "account-education"),
        ("Le site d'un éditeur est bloqué à l'école", "rectorat", "account-blocked-site"),
        ("cette page est bloquée sur les tablettes", "rectorat", "account-blocked-site"),
        ("la page de l'ENT est bloquée", "sem", "account-territory"),
        ("la messagerie de l'ENT ne s'ouvre plus", "sem", "account-ent-messaging"),
        ("mon compte ENT est désactivé", "sem", "account-territory"),
        ("impossible d'ouvrir ma session Windows", "sem", "account-territory"),
        ("l'enseignante n'a pas son compte", "sem", "account-territory"),
        ("", "sem", "account-territory"),
    ],
)
def test_account_access_keywords(sem, text, org, rule):
    """Mail and filtering go to the rectorat, the ENT and sessions to SEM, whatever the accents and case."""
    d = route(sem, "account_access", text=text)
    assert (d.org_kind, d.rule_id) == (org, rule)


@pytest.mark.parametrize(
    ("intent", "text", "org", "rule"),
    [
        ("account_access", "Youtube est bloqué sur les postes depuis la rentrée", "rectorat", "filtering-blocked-site"),
        ("software_issue", "YOUTUBE BLOQUÉ sur le TNI, impossible de montrer la vidéo", "rectorat", "filtering-blocked-site"),
        ("network_outage", "le site internet de la bibliothèque est bloqué sur les tablettes", "rectorat",
         "filtering-blocked-site"),
        ("network_outage", "plus aucun site ne s'ouvre, internet est coupé", "sem", "network-internet"),
        ("software_issue", "l'ENT est bloqué sur youtube", "sem", "software-unidentified"),
        # English (a language assistant): the rules read the message as she wrote it.
        ("network_outage", "Hi, the phonics website we use is blocked on the class laptops", "rectorat",
         "filtering-blocked-site"),
        ("account_access", "the reading site is blocked by the school filter, could you unblock it?", "rectorat",
         "account-education"),
    ],
)
def test_blocked_sites_are_filtering_whatever_the_intent(sem, intent, text, org, rule):
    """A site or a video platform blocked is the Education nationale's filtering, also when the
    model read the report as a fault of the post or of the network (art. 1)."""
    d = route(sem, intent, text=text)
    assert (d.org_kind, d.rule_id) == (org, rule)


@pytest.mark.parametrize(
    ("text", "owner"),
    [
        ("enlèvement des vieux ordinateurs achetés par la mairie en 2012", "commune"),
        ("Le PC que la mairie a acheté pour la BCD ne s'allume plus", "commune"),
        ("les tablettes financées par l'OGEC ne chargent plus", "ogec"),
        ("l'imprimante payée sur le budget de la commune est en panne", "commune"),
        ("l'imprimante laser que la commune nous a fournie ne marche plus", "commune"),
        ("les casques fournis par la mairie grésillent", "commune"),
        ("ce PC et ce logiciel ont été achetés et installés par la mairie", "commune"),
        ("3 vieilles imprimantes achetées il y a des années par l'OGEC", "ogec"),
        ("c'est la mairie de Sorbiers qui l'a achetée en 2022", "commune"),
        ("Ce PC c'est l'OGEC qui l'a acheté", "ogec"),
        # not the plan's, whoever bought it: the school authority's (art. 3)
        ("il fait pas partie du plan de la Métropole", "other"),
        ("Aucune n'est du matériel Métropole (pas d'étiquette)", "other"),
        ("cette imprimante n'est pas une dotation Métropole", "other"),
        ("le TBI acheté l'an dernier a été installé par la mairie", None),
        ("le VPI de la Métropole ne marche pas", None),
        ("le portable fourni par la Métropole ne démarre plus", None),
        ("on a acheté du papier", None),
        ("j'ai payé la facture de la mairie", None),
        ("le pc ne marche plus", None),
    ],
)
def test_stated_owner(text, owner):
    """Who bought a device, when the message says it."""
    assert stated_owner(text) == owner


def test_the_message_says_whose_device_it_is(sem):
    """Without an inventory owner, « acheté par la mairie » routes a fault as the commune's (art. 3);
    an inventory owner wins over the text."""
    text = "le PC acheté par la mairie pour la BCD ne s'allume plus"
    assert route(sem, "hardware_failure", "desktop", text=text).org_kind == "commune"
    assert route(sem, "hardware_failure", "desktop", text="le PC ne s'allume plus").org_kind == "sem"
    assert route(sem, "hardware_failure", "desktop", owner=AssetOwner.SEM, text=text).org_kind == "sem"


def test_normalise_strips_accents_case_and_punctuation():
    """Keywords and texts are compared without accents, case, ligatures or punctuation."""
    assert normalise("  Œuvre À l'ÉCOLE — i-Prof!  ") == "oeuvre a l ecole i prof"


@pytest.mark.parametrize(
    ("keyword", "text", "found"),
    [
        ("ENT", "l'ENT ne répond pas", True),
        ("ENT", "un enseignant", False),
        ("ENT", "comment faire", False),
        ("mail*", "mes mails", True),
        ("mail", "mes mails", False),
        ("mail*", "email", False),
        ("boîte mail", "BOITE  MAIL", True),
        ("site bloqué", "site bloque", True),
        ("i-Prof", "i prof", True),
    ],
)
def test_keyword_matching(keyword, text, found):
    """Keywords match whole words, or word prefixes with a trailing star."""
    assert Keyword.parse(keyword).found_in(normalise(text)) is found


def test_keyword_with_nothing_searchable_is_rejected():
    """A keyword made only of punctuation can never match and is refused."""
    with pytest.raises(ValueError, match="no letters or digits"):
        Keyword.parse(" -*")


# -- first match wins and explanations ----------------------------------------------------------


def test_first_match_wins(sem):
    """A stolen whiteboard matches both the whiteboard and the theft rules: the earlier one decides."""
    ids = [r.id for r in sem.rules]
    assert ids.index("whiteboard") < ids.index("theft-damage")
    assert route(sem, "theft", "whiteboard").rule_id == "whiteboard"


def test_howto_wins_over_whiteboard(sem):
    """A how-to question about a whiteboard opens no ticket."""
    assert route(sem, "howto", "whiteboard").role is None


def test_rule_describes_its_conditions(sem):
    """Rules explain themselves in the words of the file."""
    assert sem.rule("network-phone-cabling").describe() == (
        "intents: [network_outage]; equipment: [network_socket, phone]"
    )
    assert sem.rule("fallback").describe() == "always"
    with pytest.raises(KeyError):
        sem.rule("no-such-rule")


_CITATION = re.compile(r"\((?=[^()]*(?:art\.|délibération))[^()]+\)\s*$")


@pytest.mark.parametrize("name", ["sem", "saint-denis", "vienne-condrieu"])
def test_reasons_cite_an_article(name):
    """Every rule that opens a ticket, and every follow-up, ends by citing its article or deliberation."""
    territory = load_territory(name)
    outcomes = [r.outcome for r in territory.rules] + [r.followup for r in territory.rules if r.followup]
    for outcome in outcomes:
        if outcome.role is not None:
            assert _CITATION.search(outcome.reason), (outcome.rule_id, outcome.reason)


def test_decide_accepts_plain_strings(sem):
    """Callers holding JSON strings get the same decision as with enums."""
    d = decide(sem, intent="hardware_failure", equipment="projector", school_status="public", asset_owner=None)
    assert (d.role, d.org_kind, d.sla) == (OP, "sem", SlaPolicy.REPLACEMENT)
    assert d.reason == "Équipement de la Métropole : maintenance SEM (convention 2023-2027, art. 3)"


def test_decide_rejects_unknown_values(sem):
    """An intent outside the vocabulary is a programming error, not a routing question."""
    with pytest.raises(ValueError):
        decide(sem, intent="coffee_machine", equipment=None)


@pytest.mark.skipif(not EVAL.exists(), reason="shared/eval is not next to the project")
def test_public_eval_orgs_with_gold_triage(sem):
    """With the labelled intent and equipment, every public example routes to its labelled org."""
    for line in EVAL.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        d = decide(sem, intent=row["intent"], equipment=row["equipment"], school_status=row["school_status"],
                   asset_owner=row["asset_owner"], text=row["text"])
        assert d.org_kind == row["org"], row["text"]


# -- Saint-Denis -----------------------------------------------------------------------------------

SAINT_DENIS_TABLE = [
    ("hardware_failure", "laptop", None, "", OP, "commune", "hardware-municipal"),
    ("hardware_failure", "copier", None, "", OP, "commune", "hardware-municipal"),
    ("software_issue", "desktop", None, "Word plante au démarrage", ED, "rectorat", "software-rectorat"),
    ("software_issue", "desktop", None, "l'antivirus affiche une alerte", ED, "rectorat", "software-rectorat"),
    ("software_issue", "tablet", None, "le logiciel éducatif de lecture ne s'ouvre plus", ED, "rectorat", "software-rectorat"),
    ("software_issue", None, None, "la suite bureautique refuse d'enregistrer", ED, "rectorat", "software-rectorat"),
    ("software_issue", "desktop", None, "mise à jour Windows bloquée", OP, "commune", "software-municipal"),
    ("software_issue", "desktop", "other", "le logiciel offert par l'association plante", SA, "commune", "failure-non-municipal"),
    ("network_outage", "router", None, "", OP, "commune", "network"),
    ("network_outage", "network_socket", None, "", OP, "commune", "network"),
    ("network_outage", "phone", None, "", OP, "commune", "network"),
    ("account_access", None, None, "boîte aux lettres académique saturée", ED, "rectorat", "account-education"),
    ("account_access", None, None, "le site de l'école n'est plus à jour", ED, "rectorat", "account-education"),
    ("account_access", None, None, "compte ENT bloqué", OP, "commune", "account-municipal"),
    ("training_request", None, None, "formation des ERUN au nouveau TNI", OP, "commune", "training-erun"),
    ("training_request", "tablet", None, "une formation sur les tablettes pour l'équipe", ED, "rectorat", "training"),
    ("building_works", None, None, "", SA, "commune", "building-works"),
    ("consumables", None, None, "", SA, "commune", "consumables"),
    ("equipment_request", "tablet", None, "", OP, "commune", "equipment-request"),
    ("equipment_removal", "desktop", None, "", OP, "commune", "removal-municipal"),
]


@pytest.mark.parametrize(("intent", "equipment", "owner", "text", "role", "org", "rule"), SAINT_DENIS_TABLE)
def test_saint_denis(saint_denis, intent, equipment, owner, text, role, org, rule):
    """The Ville is operator and school authority; the rectorat has mail, filtering, software (art. 3, 6, 7)."""
    d = route(saint_denis, intent, equipment, owner=owner, text=text)
    assert (d.role, d.org_kind, d.rule_id) == (role, org, rule)


def test_saint_denis_theft_stays_with_the_ville(saint_denis):
    """In Saint-Denis the same Ville declares the theft and replaces the equipment."""
    d = route(saint_denis, "theft", "tablet")
    assert (d.role, d.org_kind, d.sla) == (SA, "commune", SlaPolicy.DECLARATION)
    assert (d.followup.role, d.followup.org_kind, d.followup.sla) == (OP, "commune", SlaPolicy.REPLACEMENT)
    ville = saint_denis.organisation_for(SA, school_status=PUBLIC, commune_slug="ignored")
    assert ville == saint_denis.organisation_for(OP, school_status=PUBLIC)
    assert ville.slug == "commune-saint-denis" and ville.name == "Ville de Saint-Denis"


def test_saint_denis_private_school_is_outside_the_convention(saint_denis):
    """The 2017 convention covers public schools: a private school's equipment and software are its OGEC's."""
    assert route(saint_denis, "hardware_failure", "desktop", status=PRIVATE).org_kind == "ogec"
    assert route(saint_denis, "software_issue", "desktop", status=PRIVATE, text="antivirus").org_kind == "ogec"
    assert route(saint_denis, "account_access", status=PRIVATE, text="webmail").org_kind == "rectorat"


def test_saint_denis_calendar(saint_denis):
    """La Réunion: its own time zone and the 974 holidays."""
    assert saint_denis.timezone == "Indian/Reunion"
    assert saint_denis.calendar["subdivision"] == "974"


# -- Vienne Condrieu -------------------------------------------------------------------------------

VIENNE_TABLE = [
    ("hardware_failure", "interactive_display", None, PUBLIC, OP, "agglomeration"),
    ("hardware_failure", "interactive_display", "agglomeration", PUBLIC, OP, "agglomeration"),
    ("hardware_failure", "copier", None, PUBLIC, SA, "commune"),
    ("hardware_failure", "laptop", "commune", PUBLIC, SA, "commune"),
    ("software_issue", "tablet", None, PRIVATE, OP, "agglomeration"),
    ("network_outage", None, None, PUBLIC, OP, "agglomeration"),
    ("network_outage", "phone", None, PRIVATE, SA, "ogec"),
    ("building_works", None, None, PRIVATE, SA, "ogec"),
    ("consumables", None, None, PUBLIC, SA, "commune"),
    ("training_request", None, None, PUBLIC, ED, "rectorat"),
    ("equipment_request", "tablet", None, PUBLIC, OP, "agglomeration"),
    ("equipment_request", "phone", None, PUBLIC, SA, "commune"),
    ("equipment_removal", "desktop", None, PUBLIC, OP, "agglomeration"),
    ("equipment_removal", "desktop", "other", PUBLIC, SA, "commune"),
]


@pytest.mark.parametrize(("intent", "equipment", "owner", "status", "role", "org"), VIENNE_TABLE)
def test_vienne_condrieu(vienne, intent, equipment, owner, status, role, org):
    """The agglomeration runs the plan; communes (or OGECs) keep the premises."""
    d = route(vienne, intent, equipment, status=status, owner=owner)
    assert (d.role, d.org_kind) == (role, org)


def test_vienne_theft(vienne):
    """The commune declares, the agglomeration replaces."""
    d = route(vienne, "theft", "tablet")
    assert (d.org_kind, d.followup.org_kind) == ("commune", "agglomeration")
    assert vienne.organisation_for(OP, school_status=PUBLIC).slug == "vienne-condrieu-agglomeration"


def test_vienne_owner_unknown_to_the_territory_falls_back(vienne):
    """An owner the preset never mentions (`sem` in Vienne) reaches the desk's catch-all, not a crash."""
    d = route(vienne, "hardware_failure", "laptop", owner="sem")
    assert (d.rule_id, d.org_kind) == ("fallback", "agglomeration")


# -- role -> organisation -----------------------------------------------------------------------------


def test_organisation_for_a_public_school(sem):
    """A public school's school authority is its commune, `commune-<slug>`."""
    org = sem.organisation_for(SA, school_status=PUBLIC, commune_slug="firminy")
    assert (org.kind, org.slug, org.name) == ("commune", "commune-firminy", "Commune Firminy")
    named = sem.organisation_for(SA, school_status=PUBLIC, commune_slug="commune-firminy",
                                 commune_name="Ville de Firminy")
    assert (named.slug, named.name) == ("commune-firminy", "Ville de Firminy")


def test_organisation_for_a_private_school(sem):
    """A private school's school authority is its OGEC, `ogec-<slug>`; the other roles do not change."""
    org = sem.organisation_for(SA, school_status=PRIVATE, ogec_slug="saint-regis", commune_slug="saint-etienne")
    assert (org.kind, org.slug) == ("ogec", "ogec-saint-regis")
    assert sem.organisation_for(OP, school_status=PRIVATE).slug == "sem"
    assert sem.organisation_for(ED, school_status=PRIVATE).kind == "rectorat"


def test_organisation_for_needs_the_school_slug(sem):
    """Without the school's commune or OGEC the school authority cannot be named."""
    with pytest.raises(ValueError, match="ogec_slug"):
        sem.organisation_for(SA, school_status=PRIVATE)
    with pytest.raises(ValueError, match="commune_slug"):
        sem.organisation_for(SA, school_status=PUBLIC)
    with pytest.raises(ValueError, match="lower-case"):
        sem.organisation_for(SA, school_status=PUBLIC, commune_slug="Saint Étienne")


@pytest.mark.parametrize(
    "text",
    ["Le VPI ne marche pas. Matériel Métropole.", "la tablette ne charge pas (dotation Métropole 2023)",
     "le PC fourni par la Métropole et installé par la mairie ne démarre plus"],
)
def test_the_plan_s_own_device_is_not_said_otherwise(text):
    """« Matériel Métropole » beside a negation, or installed (not bought) by the mairie: no owner told."""
    assert stated_owner(text) is None

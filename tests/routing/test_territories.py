"""Territory presets: loading, the data they hold, and validation errors that name file, rule and field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from domain.vocabulary import AssetOwner, ClockMode, Equipment, Intent, OrgKind, Role, SchoolStatus, SlaPolicy
from routing import (
    DEFAULT_TERRITORY,
    PerSchool,
    TerritoryError,
    available_territories,
    decide,
    load_territory,
    load_territory_file,
)

PRESETS = ["sem", "saint-denis", "vienne-condrieu"]


def test_available_territories_lists_the_presets_default_first():
    """The three presets are bundled and SEM, the default, comes first."""
    names = available_territories()
    assert DEFAULT_TERRITORY == "sem" and names[0] == "sem"
    assert sorted(names) == sorted(PRESETS)


def test_load_territory_is_cached_and_defaults_to_sem():
    """Presets are parsed once; the default is SEM."""
    assert load_territory() is load_territory("sem")
    assert load_territory().label.startswith("Saint-Étienne Métropole")


def test_unknown_territory_names_the_available_ones():
    """A typo in GUICHET_TERRITORY says what exists."""
    with pytest.raises(TerritoryError, match=r"unknown territory 'lyon' \(available: sem, "):
        load_territory("lyon")


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_is_complete(name):
    """Each preset names its three roles, every equipment's default owner, four SLA policies and a catch-all."""
    t = load_territory(name)
    assert t.name == name and t.label and t.reference and t.source.endswith(f"{name}.yml")
    assert set(t.default_owners) == set(Equipment) and all(t.owner_sources.values())
    assert set(t.sla) == set(SlaPolicy)
    assert t.sla[SlaPolicy.REPLACEMENT]["mode"] == ClockMode.BUSINESS_DAYS
    assert (t.sla["replacement"]["target_hours"], t.sla["replacement"]["breach_hours"]) == (48, 72)
    assert t.sla[SlaPolicy.DECLARATION]["breach_hours"] == 48
    assert t.sla[SlaPolicy.FIRST_RESPONSE]["mode"] == ClockMode.BUSINESS_HOURS
    assert t.calendar["country"] == "FR" and tuple(t.calendar["opening_hours"]) == ("08:00", "18:00")
    assert not t.rules[-1].conditions and t.rules[-1].outcome.role is Role.OPERATOR
    assert t.education.kind == OrgKind.RECTORAT
    assert isinstance(t.school_authority[SchoolStatus.PRIVATE], PerSchool)


def test_territory_is_hashable_by_identity():
    """A loaded preset can key caches (calendars, policies) in other modules."""
    assert {load_territory(): 1}[load_territory("sem")] == 1


def test_preset_data_is_read_only():
    """Shared presets cannot be changed by one caller behind the others' back."""
    t = load_territory()
    with pytest.raises(TypeError):
        t.sla[SlaPolicy.REPLACEMENT]["breach_hours"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        t.default_owners[Equipment.PHONE] = AssetOwner.SEM  # type: ignore[index]


SEM_COMMUNE_EQUIPMENT = {Equipment.PHONE, Equipment.WHITEBOARD, Equipment.NETWORK_SOCKET, Equipment.COPIER}


@pytest.mark.parametrize("equipment", list(Equipment))
def test_sem_default_owners(equipment):
    """SEM owns the plan's equipment (art. 2); phone, whiteboard, cabling and copier are the commune's."""
    t = load_territory("sem")
    expected = AssetOwner.COMMUNE if equipment in SEM_COMMUNE_EQUIPMENT else AssetOwner.SEM
    assert t.default_owner(equipment) is expected
    assert "Art. 2" in t.owner_sources[equipment] or "art. 3" in t.owner_sources[equipment]


def test_territory_organisations():
    """SEM, the Ville de Saint-Denis and the agglomeration each hold the operator role of their preset."""
    sem, sd, vca = (load_territory(n) for n in PRESETS)
    assert (sem.operator.kind, sem.operator.slug) == ("sem", "sem")
    assert isinstance(sem.school_authority[SchoolStatus.PUBLIC], PerSchool)
    assert sd.operator == sd.school_authority[SchoolStatus.PUBLIC]
    assert (sd.operator.kind, sd.education.name) == ("commune", "Rectorat de La Réunion")
    assert sd.timezone == "Indian/Reunion" and sem.timezone == vca.timezone == "Europe/Paris"
    assert vca.operator.kind == OrgKind.AGGLOMERATION
    assert vca.default_owner(Equipment.TABLET) is AssetOwner.AGGLOMERATION
    assert all(o is AssetOwner.COMMUNE for o in sd.default_owners.values())


# -- validation: broken files in tmp_path ---------------------------------------------------------


@pytest.fixture(scope="module")
def sem_data() -> dict[str, Any]:
    text = resources.files("routing").joinpath("territories", "sem.yml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@pytest.fixture
def broken(tmp_path: Path, sem_data: dict[str, Any]) -> Callable[[Callable[[dict[str, Any]], None]], Path]:
    """Write a copy of the SEM preset changed by `edit` and return its path."""

    def write(edit: Callable[[dict[str, Any]], None]) -> Path:
        data = copy.deepcopy(sem_data)
        edit(data)
        path = tmp_path / "sem.yml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    return write


def rule(data: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for r in data["rules"] if r["id"] == rule_id)


def test_unchanged_copy_loads(broken):
    """The round-tripped preset is valid, so each failure below comes from its one edit."""
    t = load_territory_file(broken(lambda d: None))
    assert len(t.rules) == len(load_territory("sem").rules)


def test_a_path_loads_through_load_territory(broken):
    """load_territory also accepts the path of a custom .yml file."""
    path = broken(lambda d: None)
    assert load_territory(str(path)).source == str(path)


def _set(rule_id: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(d: dict[str, Any]) -> None:
        rule(d, rule_id)[key] = value

    return edit


def _set_when(rule_id: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(d: dict[str, Any]) -> None:
        rule(d, rule_id).setdefault("when", {})[key] = value

    return edit


def _drop(rule_id: str, key: str) -> Callable[[dict[str, Any]], None]:
    def edit(d: dict[str, Any]) -> None:
        del rule(d, rule_id)[key]

    return edit


RULE_ERRORS = [
    (_set_when("hardware-plan", "intents", ["hardware_failure", "coffee"]), "hardware-plan", "when.intents", "unknown intent 'coffee'"),
    (_set("consumables", "role", "mairie"), "consumables", "role", "unknown role 'mairie'"),
    (_set_when("whiteboard", "equipment", ["blackboard"]), "whiteboard", "when.equipment", "unknown equipment 'blackboard'"),
    (_set_when("removal-non-plan", "asset_owner", ["mairie"]), "removal-non-plan", "when.asset_owner", "unknown asset owner 'mairie'"),
    (_set_when("training", "school_status", "publique"), "training", "when.school_status", "unknown school status"),
    (_set_when("training", "colour", "red"), "training", "when.colour", "unknown condition"),
    (_set_when("training", "keywords_any", ["?!"]), "training", "when.keywords_any", "no letters or digits"),
    (_set_when("training", "keywords_any", "formation"), "training", "when.keywords_any", "non-empty list"),
    (_set_when("training", "equipment_missing", "yes"), "training", "when.equipment_missing", "true or false"),
    (_set_when("whiteboard", "equipment_missing", True), "whiteboard", "when.equipment_missing", "cannot be true"),
    (_set_when("training", "intents", []), "training", "when.intents", "at least one value"),
    (_drop("consumables", "reason"), "consumables", "reason", "missing required field"),
    (_drop("consumables", "role"), "consumables", "role", "missing required field"),
    (_drop("consumables", "sla"), "consumables", "sla", "missing required field"),
    (_set("consumables", "reason", "  "), "consumables", "reason", "non-empty string"),
    (_set("consumables", "sla", "fast"), "consumables", "sla", "unknown SLA policy 'fast'"),
    (_set("small-talk", "sla", "resolution"), "small-talk", "sla", "role: none"),
    (_set("consumables", "priority", 1), "consumables", "priority", "unknown field"),
    (_set("consumables", "when", ["consumables"]), "consumables", "when", "mapping"),
    (_set("consumables", "id", "training"), "training", "id", "duplicate rule id"),
    (_set("small-talk", "followup", {"role": "operator", "sla": None, "reason": "x"}), "small-talk", "followup", "no ticket"),
    (lambda d: rule(d, "theft-damage")["followup"].update(role="none", sla=None), "theft-damage", "followup.role", "must name a role"),
    (lambda d: rule(d, "theft-damage")["followup"].update(role="insurer"), "theft-damage", "followup.role", "unknown role 'insurer'"),
    (lambda d: rule(d, "theft-damage")["followup"].pop("reason"), "theft-damage", "followup.reason", "missing required field"),
    (_set("fallback", "when", {"intents": ["help"]}), "fallback", "when", "catch-all"),
    (lambda d: d["sla"].pop("declaration"), "theft-damage-non-plan", "sla", "'declaration' is not defined under `sla:`"),
]


@pytest.mark.parametrize(("edit", "rule_id", "field", "message"), RULE_ERRORS)
def test_rule_errors_name_file_rule_and_field(broken, edit, rule_id, field, message):
    """A bad rule is refused with the file, the rule id, the field and what is wrong."""
    path = broken(edit)
    with pytest.raises(TerritoryError) as caught:
        load_territory_file(path)
    err = caught.value
    assert (err.source, err.rule_id, err.field) == (str(path), rule_id, field)
    assert message in err.message
    assert str(err).startswith(f"{path}: rule {rule_id!r}: field {field!r}: ")


def test_catch_all_in_the_middle_makes_the_next_rule_unreachable(broken):
    """A rule without `when` before others hides them: refused."""
    path = broken(_drop("consumables", "when"))
    with pytest.raises(TerritoryError, match="unreachable: rule 'consumables'") as caught:
        load_territory_file(path)
    assert caught.value.rule_id == "building-works"


def test_rule_without_id(broken):
    """A rule without id is named by its position."""
    path = broken(lambda d: d["rules"][3].pop("id"))
    with pytest.raises(TerritoryError) as caught:
        load_territory_file(path)
    assert (caught.value.rule_id, caught.value.field) == (None, "rules[3].id")


def _pop(*keys: str) -> Callable[[dict[str, Any]], None]:
    def edit(d: dict[str, Any]) -> None:
        target = d
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return edit


FILE_ERRORS = [
    (_pop("name"), "name", "missing required field"),
    (_pop("label"), "label", "missing required field"),
    (_pop("timezone"), "timezone", "missing required field"),
    (lambda d: d.update(timezone="Europe/Saint-Etienne"), "timezone", "unknown time zone"),
    (lambda d: d.update(name="lyon"), "name", "differs from the file name 'sem'"),
    (lambda d: d.update(colour="blue"), "colour", "unknown field"),
    (_pop("rules"), "rules", "missing required field"),
    (lambda d: d.update(rules=[]), "rules", "non-empty list"),
    (_pop("organisations", "education"), "organisations.education", "missing required field"),
    (_pop("organisations", "operator", "slug"), "organisations.operator.slug", "missing required field"),
    (lambda d: d["organisations"]["operator"].update(slug="Saint Étienne"), "organisations.operator.slug", "lower-case words"),
    (lambda d: d["organisations"].update(mayor={}), "organisations.mayor", "unknown field"),
    (lambda d: d["organisations"]["school_authority"].update(private="diocese"), "organisations.school_authority.private", "neither 'commune', 'ogec'"),
    (lambda d: d["default_owners"][1]["equipment"].append("blackboard"), "default_owners[1].equipment", "unknown equipment 'blackboard'"),
    (lambda d: d["default_owners"][1].update(owner="mairie"), "default_owners[1].owner", "unknown asset owner 'mairie'"),
    (lambda d: d["default_owners"][1]["equipment"].remove("copier"), "default_owners", "no default owner for: copier"),
    (lambda d: d["default_owners"][1]["equipment"].append("laptop"), "default_owners[1].equipment", "'laptop' already has an owner"),
    (lambda d: d["sla"]["replacement"].update(mode="lunar"), "sla.replacement", "unknown mode 'lunar'"),
    (lambda d: d["calendar"].update(working_days=["lundi", "funday"]), "calendar", "unknown weekday 'funday'"),
]


@pytest.mark.parametrize(("edit", "field", "message"), FILE_ERRORS)
def test_file_errors_name_file_and_field(broken, edit, field, message):
    """Errors outside the rules name the file and the field."""
    path = broken(edit)
    with pytest.raises(TerritoryError) as caught:
        load_territory_file(path)
    assert (caught.value.source, caught.value.rule_id, caught.value.field) == (str(path), None, field)
    assert message in caught.value.message


def test_duplicate_yaml_keys_are_refused(tmp_path):
    """A key written twice would silently drop a rule's condition: refused with its line."""
    path = tmp_path / "dup.yml"
    path.write_text("name: dup\nname: dup\n", encoding="utf-8")
    with pytest.raises(TerritoryError, match=r"dup\.yml: invalid YAML at line 2, column 1: duplicate key 'name'"):
        load_territory_file(path)


def test_missing_file(tmp_path):
    """A missing custom file is a TerritoryError naming it."""
    with pytest.raises(TerritoryError, match="nowhere.yml: cannot read"):
        load_territory_file(tmp_path / "nowhere.yml")


def test_first_match_wins_in_a_custom_file(broken):
    """A rule inserted before `consumables` wins where it matches and leaves other cases alone."""
    def edit(d: dict[str, Any]) -> None:
        special = {"id": "consumables-private", "when": {"intents": ["consumables"], "school_status": "private"},
                   "role": "operator", "sla": "resolution", "reason": "Essai (art. 0)"}
        d["rules"].insert(0, special)

    t = load_territory_file(broken(edit))
    assert decide(t, intent=Intent.CONSUMABLES, equipment=None, school_status=SchoolStatus.PRIVATE).rule_id == (
        "consumables-private"
    )
    assert decide(t, intent=Intent.CONSUMABLES, equipment=None).rule_id == "consumables"


def test_unknown_subdivision_fails_at_load(broken):
    """The calendar's country and subdivision are looked up in `holidays` when the file is loaded."""
    path = broken(lambda d: d["calendar"].update(subdivision="999"))
    with pytest.raises(TerritoryError) as caught:
        load_territory_file(path)
    assert (caught.value.source, caught.value.field) == (str(path), "calendar")
    assert "no public holidays for FR/999" in caught.value.message


def test_routing_only_load_skips_the_holidays_and_a_later_load_checks_them(broken):
    """`guichet triage` loads without the `holidays` lookup (every country's module, 0.15 s of a
    start); the same cached territory is checked by the next default load, and refused there."""
    path = str(broken(lambda d: d["calendar"].update(subdivision="999")))
    routing_only = load_territory(path, check_holidays=False)
    assert routing_only.calendar["subdivision"] == "999"
    with pytest.raises(TerritoryError) as caught:
        load_territory(path)
    assert caught.value.field == "calendar" and "FR/999" in caught.value.message


def test_a_good_territory_is_the_same_object_with_or_without_the_holidays_check():
    assert load_territory("sem", check_holidays=False) is load_territory("sem")

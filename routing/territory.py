"""Territory presets: loading and validating routing/territories/*.yml into frozen objects."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from importlib.resources.abc import Traversable
from os import PathLike, fspath
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from domain.vocabulary import AssetOwner, Equipment, OrgKind, Role, SchoolStatus, SlaPolicy

from .calendar import Calendar
from .claims import ClaimRules
from .clocks import Policy
from .privacy import GDPR_ARTICLE, STATISTICS_ANONYMISED, LifecycleRules, RetentionRules
from .rules import NO_TICKET, ConditionError, Outcome, Rule, enum_values, parse_conditions

DEFAULT_TERRITORY = "sem"

_E = TypeVar("_E", bound=StrEnum)

_TERRITORIES = "territories"
_SUFFIX = ".yml"
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_LEVEL = frozenset(
    {"name", "label", "reference", "timezone", "calendar", "organisations", "default_owners", "rules", "sla",
     "claims", "privacy", "lifecycle"}
)
_PRIVACY_KEYS = frozenset({"source", "messages_months", "attachments_months", "identities_months", "statistics"})
_LIFECYCLE_KEYS = frozenset({"source", "close_resolved_after_working_days", "reopen_within_days"})
#: Longest retention a territory may set: ten years (past that, no purpose of the desk holds).
_MAX_MONTHS = 120
_CLAIM_KEYS = frozenset(
    {"source", "police_report_hours", "depreciation", "beyond_table_rate", "not_replaced_beyond_years",
     "security_review_incidents"}
)
_RULE_KEYS = frozenset({"id", "when", "role", "sla", "reason", "followup"})
_FOLLOWUP_KEYS = frozenset({"id", "role", "sla", "reason"})
#: A school authority given by kind alone is the school's own organisation, named by its slug.
_PER_SCHOOL_KINDS = {"commune": OrgKind.COMMUNE, "ogec": OrgKind.OGEC}


class TerritoryError(ValueError):
    """A territory file that cannot be used; the message names the file, the rule and the field."""

    def __init__(
        self, source: str, message: str, *, rule_id: str | None = None, field: str | None = None
    ) -> None:
        where = [source]
        if rule_id is not None:
            where.append(f"rule {rule_id!r}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{': '.join(where)}: {message}")
        self.source = source
        self.rule_id = rule_id
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class OrgRef:
    """A concrete organisation: its kind (`sem`, `commune`, `ogec`, `rectorat`...), slug and name."""

    kind: str
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class PerSchool:
    """A role held by each school's own organisation: its commune (public) or its OGEC (private)."""

    kind: str


def _title(slug: str) -> str:
    """A readable place name from a slug, for labels when no real name is given."""
    return "-".join(part.capitalize() for part in slug.split("-"))


@dataclass(frozen=True, eq=False)
class Territory:
    """One territory preset (organisations, default owners, rules, calendar, SLA); loaded once, equal by identity."""

    name: str
    label: str
    reference: str
    timezone: str
    source: str
    operator: OrgRef
    school_authority: Mapping[SchoolStatus, OrgRef | PerSchool]
    education: OrgRef
    default_owners: Mapping[Equipment, AssetOwner]
    owner_sources: Mapping[Equipment, str]
    rules: tuple[Rule, ...]
    calendar: Mapping[str, Any]
    sla: Mapping[SlaPolicy | str, Mapping[str, Any]]
    claims: ClaimRules
    privacy: RetentionRules
    lifecycle: LifecycleRules

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id; KeyError when there is none."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def default_owner(
        self, equipment: Equipment, *, school_status: SchoolStatus = SchoolStatus.PUBLIC
    ) -> AssetOwner:
        """Who owns this type of equipment when the inventory does not say; a private school's keeper is its OGEC."""
        owner = self.default_owners[Equipment(equipment)]
        if owner is AssetOwner.COMMUNE and SchoolStatus(school_status) is SchoolStatus.PRIVATE:
            return AssetOwner.OGEC
        return owner

    def effective_owner(
        self,
        equipment: Equipment | None,
        asset_owner: AssetOwner | None,
        *,
        school_status: SchoolStatus = SchoolStatus.PUBLIC,
    ) -> AssetOwner | None:
        """The inventory's owner when known, else the default for the equipment, else None."""
        if asset_owner is not None:
            return AssetOwner(asset_owner)
        if equipment is None:
            return None
        return self.default_owner(equipment, school_status=school_status)

    def org_kind_for(self, role: Role, *, school_status: SchoolStatus) -> str:
        """The kind of organisation that holds a role for a public or private school."""
        match Role(role):
            case Role.OPERATOR:
                return self.operator.kind
            case Role.EDUCATION:
                return self.education.kind
            case Role.SCHOOL_AUTHORITY:
                return self.school_authority[SchoolStatus(school_status)].kind

    def organisation_for(
        self,
        role: Role,
        *,
        school_status: SchoolStatus,
        commune_slug: str | None = None,
        ogec_slug: str | None = None,
        commune_name: str | None = None,
        ogec_name: str | None = None,
    ) -> OrgRef:
        """The organisation holding a role for one school (public: `commune-<slug>`; private: `ogec-<slug>`)."""
        role = Role(role)
        if role is Role.OPERATOR:
            return self.operator
        if role is Role.EDUCATION:
            return self.education
        spec = self.school_authority[SchoolStatus(school_status)]
        if isinstance(spec, OrgRef):
            return spec
        if spec.kind == OrgKind.COMMUNE:
            slug, name, label = commune_slug, commune_name, "Commune"
        else:
            slug, name, label = ogec_slug, ogec_name, "OGEC"
        if not slug:
            raise ValueError(
                f"{self.name}: the school authority of a {school_status} school is its {spec.kind};"
                f" pass {spec.kind}_slug"
            )
        bare = slug.removeprefix(f"{spec.kind}-")
        if not _SLUG.match(bare):
            raise ValueError(f"{spec.kind}_slug {slug!r} must be lower-case words joined by '-'")
        return OrgRef(spec.kind, f"{spec.kind}-{bare}", name or f"{label} {_title(bare)}")


# -- loading --------------------------------------------------------------------------


# libyaml's parser when the wheel has it (the preset is read at every start of `guichet triage`).
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """A safe YAML loader that refuses duplicate keys instead of keeping the last one silently."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        out[key] = loader.construct_object(value_node, deep=True)
    return out


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def _freeze(value: Any) -> Any:
    """Deep read-only copy of plain YAML data (mappings become proxies, lists tuples)."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


class _Reader:
    """Validates one file's data, raising TerritoryError with the file, the current rule and the field."""

    def __init__(self, source: str, *, check_holidays: bool = True) -> None:
        self.source = source
        self.check_holidays = check_holidays
        self.rule_id: str | None = None  # the rule being read, named in errors

    def fail(self, message: str, *, field: str | None = None) -> NoReturn:
        raise TerritoryError(self.source, message, rule_id=self.rule_id, field=field)

    def mapping(self, data: Any, field: str) -> Mapping[str, Any]:
        if not isinstance(data, Mapping):
            self.fail("must be a mapping", field=field)
        return data

    def required(self, data: Mapping[str, Any], key: str, field: str) -> Any:
        if key not in data:
            self.fail("missing required field", field=field)
        return data[key]

    def text(self, data: Mapping[str, Any], key: str, field: str) -> str:
        value = self.required(data, key, field)
        if not isinstance(value, str) or not value.strip():
            self.fail(f"must be a non-empty string, not {value!r}", field=field)
        return value.strip()

    def slug(self, value: Any, field: str) -> str:
        if not isinstance(value, str) or not _SLUG.match(value):
            self.fail(f"{value!r} must be lower-case words joined by '-'", field=field)
        return value

    def only(self, data: Mapping[str, Any], allowed: frozenset[str], prefix: str = "") -> None:
        for key in data:
            if key not in allowed:
                self.fail(f"unknown field (expected one of: {', '.join(sorted(allowed))})", field=f"{prefix}{key}")

    def member(self, enum: type[_E], value: Any, field: str, what: str) -> _E:
        try:
            return enum(value)
        except ValueError:
            choices = ", ".join(m.value for m in enum)
            self.fail(f"unknown {what} {value!r} (expected one of: {choices})", field=field)

    def org(self, data: Any, field: str) -> OrgRef:
        data = self.mapping(data, field)
        self.only(data, frozenset({"kind", "slug", "name"}), f"{field}.")
        kind = self.text(data, "kind", f"{field}.kind")
        if not _KIND.match(kind):
            self.fail(f"organisation kind {kind!r} must be a lower-case identifier", field=f"{field}.kind")
        slug = self.slug(self.text(data, "slug", f"{field}.slug"), f"{field}.slug")
        return OrgRef(kind, slug, self.text(data, "name", f"{field}.name"))

    def school_authority(self, data: Any, field: str) -> dict[SchoolStatus, OrgRef | PerSchool]:
        data = self.mapping(data, field)
        self.only(data, frozenset(SchoolStatus), f"{field}.")
        out: dict[SchoolStatus, OrgRef | PerSchool] = {}
        for status in SchoolStatus:
            sub = f"{field}.{status.value}"
            value = self.required(data, status.value, sub)
            if not isinstance(value, str):
                out[status] = self.org(value, sub)
            elif value in _PER_SCHOOL_KINDS:
                out[status] = PerSchool(_PER_SCHOOL_KINDS[value].value)
            else:
                self.fail(f"{value!r} is neither 'commune', 'ogec' nor an organisation {{kind, slug, name}}", field=sub)
        return out

    def owners(self, data: Any) -> tuple[dict[Equipment, AssetOwner], dict[Equipment, str]]:
        if not isinstance(data, list) or not data:
            self.fail("must be a non-empty list of {owner, source, equipment}", field="default_owners")
        owners: dict[Equipment, AssetOwner] = {}
        sources: dict[Equipment, str] = {}
        for i, group in enumerate(data):
            field = f"default_owners[{i}]"
            group = self.mapping(group, field)
            self.only(group, frozenset({"owner", "source", "equipment"}), f"{field}.")
            raw_owner = self.required(group, "owner", f"{field}.owner")
            owner = self.member(AssetOwner, raw_owner, f"{field}.owner", "asset owner")
            source = self.text(group, "source", f"{field}.source")
            raw = self.required(group, "equipment", f"{field}.equipment")
            try:
                types = enum_values(Equipment, raw, f"{field}.equipment", what="equipment")
            except ConditionError as exc:
                self.fail(exc.message, field=exc.field)
            for equipment in sorted(types):
                if equipment in owners:
                    self.fail(f"equipment {equipment.value!r} already has an owner", field=f"{field}.equipment")
                owners[equipment] = owner
                sources[equipment] = source
        missing = [e.value for e in Equipment if e not in owners]
        if missing:
            self.fail(f"no default owner for: {', '.join(missing)}", field="default_owners")
        return owners, sources

    def percent(self, value: Any, field: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
            self.fail(f"must be a whole percentage between 0 and 100, not {value!r}", field=field)
        return value

    def claims(self, data: Any) -> ClaimRules:
        """The convention's theft/damage figures: delays, depreciation table, age limit."""
        data = self.mapping(data, "claims")
        self.only(data, _CLAIM_KEYS, "claims.")
        table = self.required(data, "depreciation", "claims.depreciation")
        if not isinstance(table, list) or not table:
            self.fail("must be a non-empty list of percentages (N, N-1, ...)", field="claims.depreciation")
        rates = tuple(self.percent(v, f"claims.depreciation[{i}]") for i, v in enumerate(table))
        if any(later > earlier for earlier, later in zip(rates, rates[1:])):
            self.fail(f"must not increase with age, got {list(rates)}", field="claims.depreciation")
        hours = self.required(data, "police_report_hours", "claims.police_report_hours")
        if not isinstance(hours, int) or isinstance(hours, bool) or hours <= 0:
            self.fail(f"must be a positive number of hours, not {hours!r}", field="claims.police_report_hours")
        limit = self.required(data, "not_replaced_beyond_years", "claims.not_replaced_beyond_years")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < len(rates) - 1:
            self.fail(f"must be a whole number of years covering the table, not {limit!r}",
                      field="claims.not_replaced_beyond_years")
        return ClaimRules(
            source=self.text(data, "source", "claims.source"),
            police_report_hours=hours,
            depreciation=rates,
            beyond_table_rate=self.percent(self.required(data, "beyond_table_rate", "claims.beyond_table_rate"),
                                           "claims.beyond_table_rate"),
            not_replaced_beyond_years=limit,
            security_review_incidents=self._threshold(data),
        )

    def _threshold(self, data: Mapping[str, Any]) -> int:
        value = data.get("security_review_incidents", 3)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            self.fail(f"must be a whole number of incidents, not {value!r}", field="claims.security_review_incidents")
        return value

    def privacy(self, data: Any) -> RetentionRules:
        """The retention of personal data (RGPD art. 5.1.e); errors in French and English, citing it."""
        data = self.mapping(data, "privacy")
        self.only(data, _PRIVACY_KEYS, "privacy.")
        source = self.text(data, "source", "privacy.source")
        months = {}
        for key in ("messages_months", "attachments_months", "identities_months"):
            value = self.required(data, key, f"privacy.{key}")
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= _MAX_MONTHS:
                self.fail(f"doit être un nombre entier de mois entre 1 et {_MAX_MONTHS} / must be a whole number "
                          f"of months between 1 and {_MAX_MONTHS}, not {value!r} ({GDPR_ARTICLE})",
                          field=f"privacy.{key}")
            months[key] = value
        if months["identities_months"] < months["messages_months"]:
            self.fail("ne peut pas être plus courte que privacy.messages_months : un message sans son auteur "
                      "ne se rattache plus à personne / cannot be shorter than privacy.messages_months "
                      f"({GDPR_ARTICLE})", field="privacy.identities_months")
        statistics = data.get("statistics", STATISTICS_ANONYMISED)
        if statistics != STATISTICS_ANONYMISED:
            self.fail(f"seule la valeur {STATISTICS_ANONYMISED!r} est permise : les statistiques sont gardées "
                      f"anonymisées / only {STATISTICS_ANONYMISED!r} is allowed: statistics are kept anonymised, "
                      f"not {statistics!r} ({GDPR_ARTICLE})", field="privacy.statistics")
        return RetentionRules(source=source, statistics=statistics, **months)

    def lifecycle(self, data: Any) -> LifecycleRules:
        """The automatic closure of resolved tickets and the reopening window (DOMAIN.md §8)."""
        data = self.mapping(data, "lifecycle")
        self.only(data, _LIFECYCLE_KEYS, "lifecycle.")
        source = self.text(data, "source", "lifecycle.source")
        values = {}
        for key, unit, top in (("close_resolved_after_working_days", ("jours ouvrés", "working days"), 60),
                               ("reopen_within_days", ("jours", "days"), 365)):
            value = self.required(data, key, f"lifecycle.{key}")
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
                self.fail(f"doit être un nombre entier de {unit[0]} entre 1 et {top} / must be a whole number of "
                          f"{unit[1]} between 1 and {top}, not {value!r} ({source})", field=f"lifecycle.{key}")
            values[key] = value
        return LifecycleRules(source=source, **values)

    def sla(self, data: Any) -> dict[SlaPolicy | str, Mapping[str, Any]]:
        """Check each policy with the clocks' own parser; keep the plain data for them."""
        data = self.mapping(data, "sla")
        out: dict[SlaPolicy | str, Mapping[str, Any]] = {}
        for name, spec in data.items():
            try:
                policy = Policy.from_dict(str(name), spec)
            except (TypeError, ValueError) as exc:
                self.fail(str(exc), field=f"sla.{name}")
            out[policy.name] = _freeze(spec)
        return out

    def calendar(self, timezone: str, data: Any) -> Mapping[str, Any]:
        """Check the calendar with the calendar's own parser; keep the plain data."""
        data = self.mapping(data, "calendar")
        try:
            Calendar.from_dict(timezone, data, check_holidays=self.check_holidays)
        except (TypeError, ValueError) as exc:
            self.fail(str(exc), field="calendar")
        return _freeze(data)

    def outcome(self, data: Mapping[str, Any], prefix: str, policies: Mapping[Any, Any], outcome_id: str) -> Outcome:
        raw_role = self.required(data, "role", f"{prefix}role")
        role = None if raw_role == NO_TICKET else self.member(Role, raw_role, f"{prefix}role", "role")
        raw_sla = self.required(data, "sla", f"{prefix}sla")
        sla = None
        if raw_sla is not None:
            sla = self.member(SlaPolicy, raw_sla, f"{prefix}sla", "SLA policy")
            if sla not in policies:
                self.fail(f"SLA policy {sla.value!r} is not defined under `sla:`", field=f"{prefix}sla")
            if role is None:
                self.fail("a rule that opens no ticket (role: none) takes sla: null", field=f"{prefix}sla")
        return Outcome(outcome_id, role, sla, self.text(data, "reason", f"{prefix}reason"))

    def followup(self, raw: Any, rule_id: str, outcome: Outcome, policies: Mapping[Any, Any]) -> Outcome:
        raw = self.mapping(raw, "followup")
        self.only(raw, _FOLLOWUP_KEYS, "followup.")
        if outcome.role is None:
            self.fail("a rule that opens no ticket cannot have a follow-up", field="followup")
        followup_id = self.slug(raw.get("id", f"{rule_id}-followup"), "followup.id")
        followup = self.outcome(raw, "followup.", policies, followup_id)
        if followup.role is None:
            self.fail("a follow-up must name a role", field="followup.role")
        return followup

    def rule(self, index: int, raw: Any, policies: Mapping[Any, Any]) -> Rule:
        self.rule_id = None
        raw = self.mapping(raw, f"rules[{index}]")
        rule_id = self.slug(raw.get("id"), f"rules[{index}].id")
        self.rule_id = rule_id
        self.only(raw, _RULE_KEYS)
        try:
            conditions = parse_conditions(raw.get("when"))
        except ConditionError as exc:
            self.fail(exc.message, field=exc.field)
        outcome = self.outcome(raw, "", policies, rule_id)
        followup = None
        if raw.get("followup") is not None:
            followup = self.followup(raw["followup"], rule_id, outcome, policies)
        return Rule(rule_id, conditions, outcome, followup)

    def rules(self, data: Any, policies: Mapping[Any, Any]) -> tuple[Rule, ...]:
        if not isinstance(data, list) or not data:
            self.fail("must be a non-empty list of rules", field="rules")
        rules: list[Rule] = []
        for index, raw in enumerate(data):
            rule = self.rule(index, raw, policies)
            if any(r.id == rule.id for r in rules):
                self.fail("duplicate rule id", field="id")
            if rules and not rules[-1].conditions:
                self.fail(f"unreachable: rule {rules[-1].id!r} before it has no `when` and matches everything")
            rules.append(rule)
        if rules[-1].conditions:
            self.fail("the last rule must have no `when` (a catch-all) so that every message is decided", field="when")
        self.rule_id = None
        return tuple(rules)

    def territory(self, data: Any, expected_name: str | None) -> Territory:
        data = self.mapping(data, "(top level)")
        self.only(data, _TOP_LEVEL)
        name = self.text(data, "name", "name")
        if expected_name is not None and name != expected_name:
            self.fail(f"name {name!r} differs from the file name {expected_name!r}", field="name")
        reference = data.get("reference", "")
        if not isinstance(reference, str):
            self.fail(f"must be a string, not {reference!r}", field="reference")
        timezone = self.text(data, "timezone", "timezone")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(f"unknown time zone {timezone!r}", field="timezone")
        orgs = self.mapping(self.required(data, "organisations", "organisations"), "organisations")
        self.only(orgs, frozenset(Role), "organisations.")
        for role in Role:
            self.required(orgs, role.value, f"organisations.{role.value}")
        school_authority = self.school_authority(orgs["school_authority"], "organisations.school_authority")
        owners, sources = self.owners(self.required(data, "default_owners", "default_owners"))
        policies = self.sla(self.required(data, "sla", "sla"))
        return Territory(
            name=name,
            label=self.text(data, "label", "label"),
            reference=reference.strip(),
            timezone=timezone,
            source=self.source,
            operator=self.org(orgs["operator"], "organisations.operator"),
            school_authority=MappingProxyType(school_authority),
            education=self.org(orgs["education"], "organisations.education"),
            default_owners=MappingProxyType(owners),
            owner_sources=MappingProxyType(sources),
            rules=self.rules(self.required(data, "rules", "rules"), policies),
            calendar=self.calendar(timezone, self.required(data, "calendar", "calendar")),
            sla=MappingProxyType(policies),
            claims=self.claims(self.required(data, "claims", "claims")),
            privacy=self.privacy(self.required(data, "privacy", "privacy")),
            lifecycle=self.lifecycle(self.required(data, "lifecycle", "lifecycle")),
        )


def parse_territory(
    text: str, *, source: str, expected_name: str | None = None, check_holidays: bool = True
) -> Territory:
    """Validate a territory's YAML text; `source` names it in errors. With `check_holidays` False the
    calendar's country and subdivision are not looked up in `holidays` (`check_public_holidays`)."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise TerritoryError(source, f"invalid YAML{where}: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise TerritoryError(source, f"invalid YAML: {exc}") from None
    return _Reader(source, check_holidays=check_holidays).territory(data, expected_name)


def load_territory_file(path: str | PathLike[str], *, check_holidays: bool = True) -> Territory:
    """Load and validate a territory file outside the presets (not cached)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TerritoryError(fspath(path), f"cannot read: {exc.strerror or exc}") from None
    return parse_territory(text, source=fspath(path), expected_name=path.stem, check_holidays=check_holidays)


def _presets() -> Traversable:
    return resources.files(__package__).joinpath(_TERRITORIES)


def available_territories() -> list[str]:
    """Names of the bundled presets, the default first."""
    names = sorted(
        entry.name.removesuffix(_SUFFIX)
        for entry in _presets().iterdir()
        if entry.is_file() and entry.name.endswith(_SUFFIX)
    )
    return sorted(names, key=lambda n: n != DEFAULT_TERRITORY)


def load_territory(name: str = DEFAULT_TERRITORY, *, check_holidays: bool = True) -> Territory:
    """A bundled preset by name (or a path to a .yml/.yaml file), validated once and cached.

    `check_holidays=False` is for the callers that route and never count time (`guichet triage`):
    looking the calendar up in `holidays` imports every country's module, 0.15 s of a start. The
    territory is the same object either way; a later default call checks the calendar then.
    """
    territory = _load_cached(name.strip())
    if check_holidays:
        check_public_holidays(territory)
    return territory


@functools.cache
def check_public_holidays(territory: Territory) -> None:
    """TerritoryError when `holidays` knows no public holidays for the territory's calendar
    (checked once per territory)."""
    try:
        Calendar.from_dict(territory.timezone, territory.calendar)
    except (TypeError, ValueError) as exc:
        raise TerritoryError(territory.source, str(exc), field="calendar") from None


@functools.cache
def _load_cached(name: str) -> Territory:
    if name.endswith((".yml", ".yaml")):
        return load_territory_file(name, check_holidays=False)
    entry = _presets().joinpath(name + _SUFFIX)
    source = f"routing/{_TERRITORIES}/{name}{_SUFFIX}"
    if not _SLUG.match(name) or not entry.is_file():
        raise TerritoryError(
            source,
            f"unknown territory {name!r} (available: {', '.join(available_territories())})",
        )
    return parse_territory(entry.read_text(encoding="utf-8"), source=source, expected_name=name, check_holidays=False)

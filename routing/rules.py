"""Routing rules as data: small composable conditions and the outcome of the first rule that holds."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from domain.vocabulary import AssetOwner, Equipment, Intent, Role, SchoolStatus, SlaPolicy

from .text import Keyword, any_found_in

_E = TypeVar("_E", bound=StrEnum)

#: Written as `role: none` in a territory file: the message opens no ticket.
NO_TICKET = "none"


class ConditionError(ValueError):
    """A bad condition in a rule's `when`; the loader adds the file and the rule id."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Facts:
    """What a rule may look at: the triage of one message, with the effective asset owner."""

    intent: Intent
    equipment: Equipment | None
    school_status: SchoolStatus
    asset_owner: AssetOwner | None
    text: str  # already normalised by routing.text.normalise


class Condition(Protocol):
    """One predicate of a rule; all of a rule's conditions must hold."""

    def holds(self, facts: Facts) -> bool: ...

    def describe(self) -> str: ...


def _names(values: Iterable[StrEnum]) -> str:
    return ", ".join(sorted(v.value for v in values))


@dataclass(frozen=True, slots=True)
class IntentIn:
    """The intent is one of the listed ones."""

    values: frozenset[Intent]

    def holds(self, facts: Facts) -> bool:
        return facts.intent in self.values

    def describe(self) -> str:
        return f"intents: [{_names(self.values)}]"


@dataclass(frozen=True, slots=True)
class EquipmentIn:
    """The equipment is known and is one of the listed types."""

    values: frozenset[Equipment]

    def holds(self, facts: Facts) -> bool:
        return facts.equipment in self.values

    def describe(self) -> str:
        return f"equipment: [{_names(self.values)}]"


@dataclass(frozen=True, slots=True)
class EquipmentMissing:
    """The message names no equipment (or, with `false`, names one)."""

    missing: bool

    def holds(self, facts: Facts) -> bool:
        return (facts.equipment is None) is self.missing

    def describe(self) -> str:
        return f"equipment_missing: {str(self.missing).lower()}"


@dataclass(frozen=True, slots=True)
class OwnerIn:
    """The effective owner (inventory, else territory default) is one of the listed ones."""

    values: frozenset[AssetOwner]

    def holds(self, facts: Facts) -> bool:
        return facts.asset_owner in self.values

    def describe(self) -> str:
        return f"asset_owner: [{_names(self.values)}]"


@dataclass(frozen=True, slots=True)
class StatusIn:
    """The school is public or private as listed."""

    values: frozenset[SchoolStatus]

    def holds(self, facts: Facts) -> bool:
        return facts.school_status in self.values

    def describe(self) -> str:
        return f"school_status: [{_names(self.values)}]"


@dataclass(frozen=True, slots=True)
class KeywordsAny:
    """At least one keyword occurs in the message."""

    keywords: tuple[Keyword, ...]

    def holds(self, facts: Facts) -> bool:
        return any_found_in(self.keywords, facts.text)

    def describe(self) -> str:
        return f"keywords_any: [{', '.join(k.source for k in self.keywords)}]"


@dataclass(frozen=True, slots=True)
class KeywordsAll:
    """Every entry occurs in the message, in any order; an entry may list alternatives (any of them)."""

    groups: tuple[tuple[Keyword, ...], ...]

    def holds(self, facts: Facts) -> bool:
        return all(any_found_in(group, facts.text) for group in self.groups)

    def describe(self) -> str:
        entries = (
            g[0].source if len(g) == 1 else f"[{', '.join(k.source for k in g)}]" for g in self.groups
        )
        return f"keywords_all: [{', '.join(entries)}]"


@dataclass(frozen=True, slots=True)
class KeywordsNone:
    """No keyword occurs in the message."""

    keywords: tuple[Keyword, ...]

    def holds(self, facts: Facts) -> bool:
        return not any_found_in(self.keywords, facts.text)

    def describe(self) -> str:
        return f"keywords_none: [{', '.join(k.source for k in self.keywords)}]"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a rule decides: a role (None for no ticket), an SLA policy and the reason shown to people."""

    rule_id: str
    role: Role | None
    sla: SlaPolicy | None
    reason: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule of a territory: when all conditions hold, the outcome applies, then the follow-up task if any."""

    id: str
    conditions: tuple[Condition, ...]
    outcome: Outcome
    followup: Outcome | None = None

    def matches(self, facts: Facts) -> bool:
        """Whether every condition holds (a rule without conditions always matches)."""
        return all(c.holds(facts) for c in self.conditions)

    def describe(self) -> str:
        """The rule's conditions as written in the file, for explanations and logs."""
        return "; ".join(c.describe() for c in self.conditions) or "always"


def first_match(rules: Iterable[Rule], facts: Facts) -> Rule | None:
    """The first rule that matches: order in the file is priority."""
    return next((rule for rule in rules if rule.matches(facts)), None)


#: Conditions that read only the triage facts, not the message's text.
_FACT_CONDITIONS = (IntentIn, EquipmentIn, EquipmentMissing, OwnerIn, StatusIn)


def split_conditions(rule: Rule) -> tuple[tuple[Condition, ...], tuple[Condition, ...]]:
    """A rule's conditions on the facts alone, and those that read the text (keywords)."""
    on_facts = tuple(c for c in rule.conditions if isinstance(c, _FACT_CONDITIONS))
    on_text = tuple(c for c in rule.conditions if not isinstance(c, _FACT_CONDITIONS))
    return on_facts, on_text


# -- parsing the `when:` mapping of a territory file -------------------------------------


def enum_values(enum: type[_E], raw: Any, field: str, *, what: str) -> frozenset[_E]:
    """Parse a scalar or a non-empty list of enum values, naming the field on error."""
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise ConditionError(field, "must list at least one value")
    out: set[_E] = set()
    for item in items:
        try:
            out.add(enum(item))
        except ValueError:
            raise ConditionError(
                field, f"unknown {what} {item!r} (expected one of: {_names(enum)})"
            ) from None
    return frozenset(out)


def _keywords(raw: Any, field: str) -> tuple[Keyword, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConditionError(field, "must be a non-empty list of strings")
    out = []
    for item in raw:
        if not isinstance(item, str):
            raise ConditionError(field, f"keyword {item!r} is not a string")
        try:
            out.append(Keyword.parse(item))
        except ValueError as exc:
            raise ConditionError(field, str(exc)) from None
    return tuple(out)


def _keyword_groups(raw: Any, field: str) -> KeywordsAll:
    if not isinstance(raw, list) or not raw:
        raise ConditionError(field, "must be a non-empty list of keywords or lists of alternatives")
    return KeywordsAll(
        tuple(_keywords(item if isinstance(item, list) else [item], field) for item in raw)
    )


def _missing(raw: Any, field: str) -> EquipmentMissing:
    if not isinstance(raw, bool):
        raise ConditionError(field, f"must be true or false, not {raw!r}")
    return EquipmentMissing(raw)


_PARSERS: dict[str, Callable[[Any, str], Condition]] = {
    "intents": lambda raw, f: IntentIn(enum_values(Intent, raw, f, what="intent")),
    "equipment": lambda raw, f: EquipmentIn(enum_values(Equipment, raw, f, what="equipment")),
    "equipment_missing": _missing,
    "asset_owner": lambda raw, f: OwnerIn(enum_values(AssetOwner, raw, f, what="asset owner")),
    "school_status": lambda raw, f: StatusIn(
        enum_values(SchoolStatus, raw, f, what="school status")
    ),
    "keywords_any": lambda raw, f: KeywordsAny(_keywords(raw, f)),
    "keywords_all": _keyword_groups,
    "keywords_none": lambda raw, f: KeywordsNone(_keywords(raw, f)),
}

CONDITION_KEYS: tuple[str, ...] = tuple(_PARSERS)


def parse_conditions(when: Mapping[str, Any] | None) -> tuple[Condition, ...]:
    """Compile a rule's `when:` mapping; an empty or absent mapping is a catch-all."""
    if when is None:
        return ()
    if not isinstance(when, Mapping):
        raise ConditionError("when", "must be a mapping of conditions")
    conditions: list[Condition] = []
    for key, raw in when.items():
        field = f"when.{key}"
        parser = _PARSERS.get(key)
        if parser is None:
            raise ConditionError(
                field, f"unknown condition (expected one of: {', '.join(CONDITION_KEYS)})"
            )
        conditions.append(parser(raw, field))
    if "equipment" in when and when.get("equipment_missing") is True:
        raise ConditionError("when.equipment_missing", "cannot be true together with `equipment`")
    return tuple(conditions)

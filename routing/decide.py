"""The routing decision: which role (and kind of organisation) handles a triaged message, and why."""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from domain.vocabulary import AssetOwner, Equipment, Intent, Role, SchoolStatus, SlaPolicy

from .rules import NO_TICKET, Facts, KeywordsAll, KeywordsAny, Outcome, Rule, split_conditions
from .territory import Territory
from .text import normalise, stated_owner


#: Per territory: the candidate rules of each (intent, equipment, status, owner).
_CANDIDATES: weakref.WeakKeyDictionary[
    Territory, dict[tuple[object, ...], tuple[tuple[Rule, tuple[object, ...], bool], ...]]
] = weakref.WeakKeyDictionary()
#: Conditions that read words of the message.
_WORD_CONDITIONS = (KeywordsAny, KeywordsAll)


@dataclass(frozen=True, slots=True)
class Decision:
    """Who handles a message: role None and org_kind "none" mean no ticket; followup is the next task."""

    rule_id: str
    role: Role | None
    org_kind: str
    sla: SlaPolicy | None
    reason: str
    followup: Decision | None = None
    #: Whether the rule read words of the message (keywords), not only its intent and device: a
    #: part of a message routed by the intent's catch-all said nothing of its own to route on.
    by_words: bool = False

    @property
    def opens_ticket(self) -> bool:
        """Whether the message should become a ticket."""
        return self.role is not None


def _decision(
    territory: Territory, outcome: Outcome, school_status: SchoolStatus, followup: Decision | None,
    by_words: bool = False,
) -> Decision:
    org_kind = (
        NO_TICKET
        if outcome.role is None
        else territory.org_kind_for(outcome.role, school_status=school_status)
    )
    return Decision(outcome.rule_id, outcome.role, org_kind, outcome.sla, outcome.reason, followup, by_words)


def decide(
    territory: Territory,
    *,
    intent: Intent,
    equipment: Equipment | None,
    school_status: SchoolStatus = SchoolStatus.PUBLIC,
    asset_owner: AssetOwner | None = None,
    text: str = "",
) -> Decision:
    """Apply the territory's rules in order to one triaged message; the first rule that matches wins."""
    # Members pass as they are (the enums' call costs more than the test).
    if type(school_status) is not SchoolStatus:
        school_status = SchoolStatus(school_status)
    if equipment is not None and type(equipment) is not Equipment:
        equipment = Equipment(equipment)
    if type(intent) is not Intent:
        intent = Intent(intent)
    if asset_owner is None and text:
        # « le PC acheté par la mairie »: the message says whose the device is (art. 3: the
        # maintenance of what the commune or the OGEC bought is theirs).
        told = stated_owner(text)
        if told is not None:
            asset_owner = AssetOwner(told)
    owner = territory.effective_owner(equipment, asset_owner, school_status=school_status)
    # The rules whose conditions on the facts hold, in order, with their text conditions left to
    # test (memoised per territory and facts: the text is then read only by keyword rules).
    key = (intent, equipment, school_status, owner)
    by_facts = _CANDIDATES.get(territory)
    if by_facts is None:
        by_facts = _CANDIDATES[territory] = {}
    candidates = by_facts.get(key)
    if candidates is None:
        bare = Facts(intent=intent, equipment=equipment, school_status=school_status, asset_owner=owner, text="")
        candidates = by_facts[key] = tuple(
            (rule, on_text, any(isinstance(c, _WORD_CONDITIONS) for c in on_text))
            for rule, (on_facts, on_text) in ((r, split_conditions(r)) for r in territory.rules)
            if all(c.holds(bare) for c in on_facts)
        )
    facts: Facts | None = None
    rule = None
    by_words = False
    for candidate, on_text, by_words in candidates:
        if on_text:
            if facts is None:
                facts = Facts(intent=intent, equipment=equipment, school_status=school_status,
                              asset_owner=owner, text=normalise(text))
            if not all(c.holds(facts) for c in on_text):
                continue
        rule = candidate
        break
    if rule is None:  # pragma: no cover - the loader guarantees a final catch-all rule
        raise AssertionError(f"{territory.source}: no rule matched")
    followup = (
        _decision(territory, rule.followup, school_status, None) if rule.followup is not None else None
    )
    return _decision(territory, rule.outcome, school_status, followup, by_words)

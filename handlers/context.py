"""What every use case needs about the territory: its rules, calendar, policies and the clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from desk.clock import utcnow
from domain.vocabulary import SlaPolicy
from routing import Territory, load_territory
from routing.calendar import Calendar
from routing.clocks import Policy


@dataclass(frozen=True)
class DeskContext:
    """The territory's rules, calendar and SLA policies, and the clock (an input, for tests)."""

    territory: Territory
    calendar: Calendar
    policies: Mapping[str, Policy]
    now: Callable[[], datetime] = field(default=utcnow)

    def policy(self, name: SlaPolicy | str | None) -> Policy | None:
        if name is None:
            return None
        return self.policies.get(str(name))


@lru_cache(maxsize=16)
def _calendar_and_policies(name: str) -> tuple[Territory, Calendar, dict[str, Policy]]:
    territory = load_territory(name)
    calendar = Calendar.from_dict(territory.timezone, territory.calendar)
    policies = {
        str(key): Policy.from_dict(str(key), dict(value))
        for key, value in territory.sla.items()
    }
    return territory, calendar, policies


def context_for(name: str, now: Callable[[], datetime] = utcnow) -> DeskContext:
    """The context of a territory preset (loaded once per process)."""
    territory, calendar, policies = _calendar_and_policies(name)
    return DeskContext(territory=territory, calendar=calendar, policies=policies, now=now)


def calendar_for(name: str) -> Calendar:
    return _calendar_and_policies(name)[1]

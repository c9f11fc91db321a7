"""Pure routing decisions: territory presets, the rule engine, role -> organisation."""

from .decide import Decision, decide
from .rules import Facts, Rule
from .territory import (
    DEFAULT_TERRITORY,
    OrgRef,
    PerSchool,
    Territory,
    TerritoryError,
    available_territories,
    load_territory,
    load_territory_file,
)
from .text import normalise

__all__ = [
    "DEFAULT_TERRITORY",
    "Decision",
    "Facts",
    "OrgRef",
    "PerSchool",
    "Rule",
    "Territory",
    "TerritoryError",
    "available_territories",
    "decide",
    "load_territory",
    "load_territory_file",
    "normalise",
]

"""French wording of SLA instants and thresholds for teachers and agents (pure functions)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

__all__ = ["POLICY_LABELS", "THRESHOLD_LABELS", "format_due_fr", "policy_label"]

_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)

#: What each commitment promises, as an agent reads it in a notice.
POLICY_LABELS: dict[str, str] = {
    "replacement": "remplacement du matériel",
    "declaration": "déclaration à l'assureur et à la police",
    "first_response": "prise en compte",
    "resolution": "résolution",
}

#: The notice a threshold triggers, as a short French phrase.
THRESHOLD_LABELS: dict[str, str] = {
    "warning": "échéance proche",
    "target": "objectif atteint",
    "breach": "délai dépassé",
}


def policy_label(name: str) -> str:
    """The French label of a policy, or its name when the territory declared its own."""
    return POLICY_LABELS.get(str(name), str(name))


def format_due_fr(instant: datetime, timezone: str | tzinfo) -> str:
    """« le mardi 13 janvier à 10 h » (« à 10 h 30 », « le 1er ») in the territory's local time."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instant must be timezone-aware, got naive {instant.isoformat()}")
    tz = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    local = instant.astimezone(tz)
    day = "1er" if local.day == 1 else str(local.day)
    hour = f"{local.hour} h" if local.minute == 0 else f"{local.hour} h {local.minute:02d}"
    return f"le {_DAYS[local.weekday()]} {day} {_MONTHS[local.month - 1]} à {hour}"

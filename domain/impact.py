"""How much of a school a report stops, and the priority it gives the ticket (issue 12, item 10).

A whole school without network and one projector in one class are not the same emergency,
even when both race against the same clock. The impact is read from the teacher's words —
the scope she names (« toute l'école », « toute la classe », « aucun ordinateur »), how many
devices (« trois tablettes ») — and from what kind of problem it is (a network outage stops
a school unless she names one room). The agents' queue sorts by priority within each urgency
band (handlers.agent_queue).
"""

from __future__ import annotations

import re
import unicodedata
from enum import IntEnum

__all__ = ["IMPACT_FR", "PRIORITY_FR", "Impact", "impact_of"]


class Impact(IntEnum):
    """The ticket's priority: 1 is the most pressing (the value stored in `tickets.priority`)."""

    SCHOOL = 1
    CLASS = 2
    DEVICE = 3
    NONE = 4


#: The scope each priority stands for, as agents read it.
IMPACT_FR: dict[int, str] = {
    Impact.SCHOOL: "Toute l'école",
    Impact.CLASS: "Une classe ou plusieurs appareils",
    Impact.DEVICE: "Un appareil",
    Impact.NONE: "Sans panne",
}
#: The priority's level, as agents read it.
PRIORITY_FR: dict[int, str] = {Impact.SCHOOL: "Haute", Impact.CLASS: "Moyenne", Impact.DEVICE: "Normale",
                               Impact.NONE: "Basse"}


def _fold(text: str) -> str:
    """Lower case without accents, apostrophes and dashes as spaces: « L’École » → « l ecole »."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s'’`\-]+", " ", plain)


_SCHOOL = re.compile(
    r"\b(?:"
    r"(?:toute|dans toute|sur toute) l (?:ecole|etablissement)|tout l etablissement|tout le groupe scolaire"
    r"|toutes les classes|dans toutes les salles|tous les postes de l ecole|toute l ecole"
    r"|l ensemble de l ecole|l ecole entiere|(?:aucun|plus aucun) (?:ordinateur|poste|pc|appareil)s? ne"
    r"|plus rien ne (?:marche|fonctionne)|plus d internet dans l ecole|l ecole n a plus"
    r"|(?:tous|toutes) les (?:ordinateurs|postes|pc|tablettes|classes) de l ecole"
    r")\b"
)
_CLASS = re.compile(
    r"\b(?:"
    r"toute la classe|la classe entiere|toute la salle|tous les (?:ordinateurs|postes|pc|eleves)"
    r"|toutes les tablettes|la classe mobile|le chariot|la valise|aucun eleve|les eleves ne peuvent"
    r"|(?:tous|toutes) les (?:ordinateurs|postes|pc|tablettes) de la (?:classe|salle)"
    r")\b"
)
#: A room named with the outage: the network of one class, not of the school.
_ONE_ROOM = re.compile(r"\b(?:de|dans) (?:la|ma|notre) (?:classe|salle)\b|\b(?:en|de) (?:cp|ce1|ce2|cm1|cm2)\b")

#: Intents that report no failure: a question, a status, small talk.
_NO_FAILURE = frozenset({
    "howto", "ticket_status", "greet", "thanks", "goodbye", "affirm", "deny", "help", "out_of_scope",
})


def impact_of(text: str, *, intent: str | None = None, quantity: int = 1) -> Impact:
    """The scope a report stops, from the teacher's words, the intent and the number of devices.

    « plus d'internet dans toute l'école » → SCHOOL; « aucun ordinateur ne démarre » → SCHOOL;
    « toute la classe est sans tablette » or « trois tablettes volées » → CLASS; « le
    vidéoprojecteur ne s'allume plus » → DEVICE; a network outage with no room named → SCHOOL.
    """
    folded = _fold(text)
    if _SCHOOL.search(folded):
        return Impact.SCHOOL
    if intent == "network_outage" and not _ONE_ROOM.search(folded):
        return Impact.SCHOOL
    if _CLASS.search(folded) or quantity >= 2 or intent == "network_outage":
        return Impact.CLASS
    if intent in _NO_FAILURE:
        return Impact.NONE
    return Impact.DEVICE

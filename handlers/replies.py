"""What a teacher's short written answer means, for doors without buttons (e-mail).

The chat's buttons « Oui, c'est réglé / Non, toujours pas », « Annuler » and the 1-to-5 scale
have a written form: a mail answered « oui », « non, toujours en panne », « annulez ma
demande » or « 4/5 ». Only the first line the teacher wrote counts (quotes are stripped by
the door), and only a short, unambiguous one: anything else is a message for the ticket.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Meaning", "Reply", "read_reply"]

#: A longer first line is a message, not an answer.
MAX_ANSWER_CHARS = 80


class Meaning(StrEnum):
    SOLVED = "solved"
    NOT_SOLVED = "not_solved"
    CANCEL = "cancel"
    RATING = "rating"
    MESSAGE = "message"


@dataclass(frozen=True, slots=True)
class Reply:
    meaning: Meaning
    score: int | None = None


_SOLVED = re.compile(
    r"^(oui|yes|ok|c est (bon|regle|resolu|ok)|(c est |probleme |tout est )?(regle|resolu)|ca (marche|fonctionne)"
    r"( a nouveau| de nouveau)?|tout fonctionne|parfait)\b(?! pas)"
)
_NOT_SOLVED = re.compile(
    r"^(non|no|pas (regle|resolu)|toujours (pas|en panne|le meme probleme)|ca ne (marche|fonctionne) (toujours )?pas"
    r"|le probleme persiste|ce n est pas (regle|resolu))\b"
)
_CANCEL = re.compile(r"^(merci d |pouvez vous |vous pouvez )?(annuler|annulez|annulation)\b")
_RATING = re.compile(r"^(note\s*:?\s*)?([1-5])\s*(/\s*5|sur 5)?\s*$")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9/:]+", " ", stripped.replace("’", "'")).split())


def read_reply(text: str) -> Reply:
    """The meaning of the first line of a written answer."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first or len(first) > MAX_ANSWER_CHARS:
        return Reply(Meaning.MESSAGE)
    words = _plain(first)
    if " mais " in f" {words} ":  # « oui mais … »: a message, not an answer
        return Reply(Meaning.MESSAGE)
    if (match := _RATING.match(words)) is not None:
        return Reply(Meaning.RATING, int(match.group(2)))
    if _CANCEL.match(words):
        return Reply(Meaning.CANCEL)
    if _NOT_SOLVED.match(words):
        return Reply(Meaning.NOT_SOLVED)
    if _SOLVED.match(words):
        return Reply(Meaning.SOLVED)
    return Reply(Meaning.MESSAGE)

"""Accent- and case-insensitive keyword matching on French free text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
_NON_WORD = re.compile(r"[^a-z0-9]+")
#: « acheté par la mairie », « que l'OGEC a financé », « payés par la ville », « fourni par la
#: commune »: who bought a device, said in the message (matched on the text `normalise` returns).
_BOUGHT = r"(?:achet|financ|pay|offert|offer|fourni)[a-z]*"
_BUYER = r"(?:la |l )?(mairie|commune|ville|ogec)"
_BOUGHT_EN = r"(?:bought|purchased|paid for|funded)"
_BUYER_EN = r"(ogec|mairie|commune|town hall|town council|council|city council|municipality)"
_STATED_OWNER = re.compile(
    # « acheté par la mairie », « achetés et installés par la mairie », « achetées il y a des années par l'OGEC »
    rf"(?<![a-z0-9]){_BOUGHT}(?: et [a-z]+)? (?:(?:(?!par )[a-z0-9]+ ){{0,5}}?par |avec |sur )?"
    rf"(?:le budget (?:de |du )?|les fonds (?:de |du )?)?{_BUYER}(?![a-z0-9])"
    # « que l'OGEC a financé », « c'est la mairie de Sorbiers qui l'a achetée », « l'OGEC qui les a payés »
    rf"|(?<![a-z0-9])(?:que |qu )?{_BUYER}(?: de [a-z]+(?: [a-z]+)?)? (?:qui )?(?:nous )?(?:l |les |nous l |nous les )?"
    rf"(?:a|avait|ont|avaient) {_BOUGHT}"
    # English: « one of the laptops the OGEC bought last year », « paid for by the town council »
    rf"|(?<![a-z0-9])(?:the )?{_BUYER_EN} (?:has |had )?{_BOUGHT_EN}"
    rf"|(?<![a-z0-9]){_BOUGHT_EN} (?:(?!by )[a-z0-9]+ ){{0,4}}?by (?:the )?{_BUYER_EN}(?![a-z0-9])"
)
#: « il ne fait pas partie du plan de la Métropole », « Aucune n'est du matériel Métropole », « cette
#: imprimante n'est pas une dotation Métropole »: not the plan's, whoever bought it (art. 3).
_NOT_THE_PLAN = re.compile(
    r"(?<![a-z0-9])(?:(?:n est|ne sont|n etait|ne fait|ne font|fait|font) pas (?:partie )?|aucune? n est )"
    r"(?:du |de la |une |un |d une |des )"
    r"(?:plan|dotation|materiel|equipement)s?(?: numerique)?(?: de la| du| de)? (?:metropole|sem)(?![a-z0-9])"
)
_SEM_WORD = re.compile(r"\bsem\b")
_BOUGHT_STEMS = ("achet", "financ", "pay", "offert", "fourni", "bought", "purchased", "paid", "funded")
_BUYERS = {"mairie": "commune", "commune": "commune", "ville": "commune", "ogec": "ogec", "town hall": "commune",
           "town council": "commune", "council": "commune", "city council": "commune", "municipality": "commune"}


# Every non-ASCII character met so far -> its folded form, as a `str.translate` table (NFKD
# decomposes character by character, and the combining marks it yields are dropped).
_FOLD: dict[int, str] = {}


def _fold_char(ch: str) -> str:
    decomposed = unicodedata.normalize("NFKD", ch.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def normalise(text: str) -> str:
    """Lower-case, strip accents, and reduce everything but letters and digits to single spaces."""
    if not text.isascii():
        for ch in set(text):
            if ord(ch) > 127 and ord(ch) not in _FOLD:
                _FOLD[ord(ch)] = _fold_char(ch)
        text = text.translate(_FOLD)
    return _NON_WORD.sub(" ", text.casefold()).strip()


@dataclass(frozen=True, slots=True)
class Keyword:
    """One keyword of a rule: whole words, or a word prefix when written with a trailing `*`."""

    source: str
    pattern: re.Pattern[str]
    #: The text every match holds (its normalised words): a cheap test before the pattern.
    literal: str = ""

    @classmethod
    def parse(cls, source: str) -> Keyword:
        """Compile a keyword; raises ValueError when nothing searchable is left after normalising."""
        prefix = source.rstrip().endswith("*")
        words = normalise(source.rstrip().rstrip("*"))
        if not words:
            raise ValueError(f"keyword {source!r} has no letters or digits")
        tail = "" if prefix else r"(?![a-z0-9])"
        return cls(source, re.compile(rf"(?<![a-z0-9]){re.escape(words)}{tail}"), words)

    def found_in(self, normalised_text: str) -> bool:
        """Whether the keyword occurs in a text already passed through `normalise`."""
        if self.literal not in normalised_text:  # no match can hold it (most keywords, most texts)
            return False
        return self.pattern.search(normalised_text) is not None


def any_found_in(keywords: tuple[Keyword, ...], normalised_text: str) -> bool:
    """Whether one of `keywords` occurs in the text."""
    for k in keywords:
        if k.literal in normalised_text and k.pattern.search(normalised_text) is not None:
            return True
    return False


def stated_owner(text: str) -> str | None:
    """Who bought the device, when the message says so (« le PC acheté par la mairie »): the
    `AssetOwner` value (« commune », « ogec ») or None."""
    lowered = text.lower()
    bought = any(stem in lowered for stem in _BOUGHT_STEMS)
    not_plan = ("pas" in lowered or "aucun" in lowered) and ("tropole" in lowered or _SEM_WORD.search(lowered) is not None)
    if not bought and not not_plan:
        return None  # most messages: no normalising
    normalised = normalise(text)
    match = _STATED_OWNER.search(normalised) if bought else None
    if match is not None:
        return _BUYERS[next(g for g in match.groups() if g)]
    if not_plan and _NOT_THE_PLAN.search(normalised) is not None:
        return "other"  # the school authority's, whoever it was bought by
    return None

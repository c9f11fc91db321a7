"""French grammar the desk's sentences need around proper names: elision, contraction, the
article of an organisation at the start of a sentence. One place, used by every message."""

from __future__ import annotations

import re

_VOWELS = frozenset("AEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜaeiouyàâäéèêëîïôöùûü")

#: Organisation names as the territory files and the importer write them, and the article
#: they take as the subject of a sentence (« La commune de Lorette doit déclarer… »).
_SUBJECT_ARTICLES = (
    ("Commune ", "La commune "),
    ("Mairie ", "La mairie "),
    ("OGEC ", "L'OGEC "),
    ("Rectorat ", "Le rectorat "),
    ("DSDEN ", "La DSDEN "),
    ("Métropole ", "La Métropole "),
)


def of_place(name: str) -> str:
    """« de » before a place name, elided or contracted as French wants it.

    « de Lorette », « d'Andrézieux-Bouthéon », « du Chambon-Feugerolles » (Le → du),
    « des Noës » (Les → des), « de La Talaudière », « de L'Horme ».
    """
    name = name.strip()
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    if name[:1] in _VOWELS:
        return "d'" + name
    return "de " + name


def commune_organisation_name(commune: str) -> str:
    """The name of a commune as the body responsible for its schools (« Commune du Chambon-Feugerolles »)."""
    return f"Commune {of_place(commune)}"


def as_subject(organisation: str) -> str:
    """An organisation's name at the start of a sentence, with its article when it takes one:
    « La commune de Lorette », « L'OGEC Sainte-Marie »; « Saint-Étienne Métropole » is unchanged."""
    for prefix, article in _SUBJECT_ARTICLES:
        if organisation.startswith(prefix):
            return article + organisation[len(prefix):]
    return organisation


def as_object(organisation: str) -> str:
    """The same name inside a sentence (« transmise à la commune de Lorette »)."""
    subject = as_subject(organisation)
    return subject[0].lower() + subject[1:] if subject != organisation else organisation



def of_organisation(organisation: str) -> str:
    """« de » before an organisation's name, with its article: « de la commune de Firminy »,
    « du rectorat de Lyon », « de l'OGEC Sainte-Marie », « de Saint-Étienne Métropole »."""
    inside = as_object(organisation)
    if inside.startswith("le "):
        return "du " + inside[3:]
    if inside.startswith("les "):
        return "des " + inside[4:]
    if inside.startswith(("la ", "l'")) or inside[:1] not in _VOWELS:
        return "de " + inside
    return "d'" + inside


def euros(cents: int) -> str:
    """« 1 234,50 € » with a narrow no-break space between thousands, as French writes amounts."""
    whole, rest = divmod(abs(int(cents)), 100)
    grouped = f"{whole:,}".replace(",", "\u202f")
    return f"{'-' if cents < 0 else ''}{grouped},{rest:02d}\u00a0€"


DAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")


def decimal_fr(value: float | None, digits: int) -> str:
    """« 3,50 » with a decimal comma; empty for an unknown figure (a spreadsheet's blank cell)."""
    return "" if value is None else f"{value:.{digits}f}".replace(".", ",")


def percent_fr(rate: float | None) -> str:
    """A share as a French percentage (« 67 % »), or a dash when there is nothing to divide."""
    return "—" if rate is None else f"{rate * 100:.0f}\u00a0%"


def duration_fr(hours: float | None) -> str:
    """« 5,5 h » under two days, « 3,2 j » beyond; a dash when unknown."""
    if hours is None:
        return "—"
    if hours < 48:
        return f"{hours:.1f} h".replace(".", ",")
    return f"{hours / 24:.1f} j".replace(".", ",")


def cents_from_euros(text: str) -> int:
    """« 1 180,50 » (or « 1180.50 ») as 118050 cents; ValueError for what is not an amount."""
    try:
        return round(float(text.replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace(",", ".")) * 100)
    except OverflowError:  # « inf »
        raise ValueError(f"not an amount: {text!r}") from None

# --- typography: the spaces French puts around its punctuation ------------------------------

#: Narrow no-break space (before ; ! ? and inside « »), no-break space (before :).
NNBSP = "\u202f"
NBSP = "\u00a0"
_SPACES = " \t\u00a0\u202f"
_BEFORE_MARK = re.compile(r"[ \t\u00a0\u202f]+([;!?])")
_BEFORE_COLON = re.compile(r"[ \t\u00a0\u202f]+:")


def typography(text: str) -> str:
    """French typography for any text a teacher or an agent reads, so no mark wraps alone.

    A plain space before « ; ! ? » becomes a narrow no-break space, before « : » a no-break
    space; inside « » the spaces are narrow no-break ones (added when missing); guillemets
    inside guillemets become “ ” (« Avez-vous essayé « Le vidéoprojecteur… » ? » reads
    « Avez-vous essayé “Le vidéoprojecteur…” ? »). Marks without a space before them are left
    alone (URLs, « 10:30 », « 2026-00001? »). Idempotent.
    """
    if not text:
        return text
    if "«" not in text and "»" not in text:
        return _BEFORE_COLON.sub(NBSP + ":", _BEFORE_MARK.sub(NNBSP + r"\1", text))
    out: list[str] = []
    depth = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "«":
            depth += 1
            if depth > 1:
                out.append("“")
                while i + 1 < n and text[i + 1] in _SPACES:
                    i += 1
            else:
                out.append("«" + NNBSP)
                while i + 1 < n and text[i + 1] in _SPACES:
                    i += 1
        elif c == "»" and depth > 0:
            while out and out[-1] in _SPACES:
                out.pop()
            out.append("”" if depth > 1 else NNBSP + "»")
            depth -= 1
        elif c == "»" and out and out[-1] in _SPACES:  # a closing mark whose opening is elsewhere
            while out and out[-1] in _SPACES:
                out.pop()
            out.append(NNBSP + "»")
        elif c in ";!?:" and out and out[-1] in _SPACES:
            while out and out[-1] in _SPACES:
                out.pop()
            out.append((NBSP if c == ":" else NNBSP) + c)
        else:
            out.append(c)
        i += 1
    return "".join(out)

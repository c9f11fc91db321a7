"""French grammar the desk's sentences need around proper names: elision, contraction, the
article of an organisation at the start of a sentence. One place, used by every message."""

from __future__ import annotations

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

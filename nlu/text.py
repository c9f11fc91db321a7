"""Text normalisation shared by the classifier and the entity extractor.

Teachers write without accents, in SMS style, with stretched letters (« merciiii ») or
in long e-mails: the classifier sees one canonical form of all of these.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from domain.formats import REFERENCE_PATTERN, UAI_PATTERN

_ASSET_TAG = re.compile(r"\b[A-Z]{3}-\d{6}\b")
_UAI = re.compile(rf"\b{UAI_PATTERN}\b")
_TICKET_REF = re.compile(rf"\b{REFERENCE_PATTERN}\b")

# SMS words and abbreviations, after lowercasing and accent stripping.
SMS_WORDS: dict[str, str] = {
    "pb": "probleme",
    "pbs": "problemes",
    "pbm": "probleme",
    "pblm": "probleme",
    "prob": "probleme",
    "stp": "s il te plait",
    "svp": "s il vous plait",
    "svpl": "s il vous plait",
    "bjr": "bonjour",
    "bjour": "bonjour",
    "bonjours": "bonjour",
    "bsr": "bonsoir",
    "slt": "salut",
    "cc": "coucou",
    "mrc": "merci",
    "mci": "merci",
    "mrci": "merci",
    "thx": "merci",
    "ds": "dans",
    "pr": "pour",
    "tt": "tout",
    "ts": "tous",
    "bcp": "beaucoup",
    "mdp": "mot de passe",
    "qd": "quand",
    "pq": "pourquoi",
    "pk": "pourquoi",
    "pourkoi": "pourquoi",
    "koi": "quoi",
    "ke": "que",
    "k": "que",
    "c": "c est",
    "g": "j ai",
    "jsp": "je ne sais pas",
    "dsl": "desole",
    "tjrs": "toujours",
    "tjs": "toujours",
    "auj": "aujourd hui",
    "ajd": "aujourd hui",
    "ajrd": "aujourd hui",
    "aujourdhui": "aujourd hui",
    "ya": "il y a",
    "pa": "pas",
    "nn": "non",
    "ouai": "oui",
    "ouais": "oui",
    "oki": "ok",
    "okay": "ok",
    "tel": "telephone",
    "rdv": "rendez vous",
    "mtn": "maintenant",
    "mnt": "maintenant",
    "vs": "vous",
    "ms": "mais",
    "bi1": "bien",
    "b1": "bien",
    "re": "rebonjour",
    "wi": "wifi",
    "ouifi": "wifi",  # a phone's dictation of « wifi » (« le oui-fi »)
    "cmt": "comment",
    "cmnt": "comment",
    "dmd": "demande",
    "maj": "mise a jour",
    "wify": "wifi",
    "ordi": "ordinateur",
    "ordis": "ordinateurs",
    "imprim": "imprimante",
    "projo": "projecteur",
    "videoprojo": "videoprojecteur",
    "aprem": "apres midi",
    "pcq": "parce que",
    "psk": "parce que",
    "pke": "parce que",
    "mm": "meme",
    "tte": "toute",
    "ttes": "toutes",
    "qqn": "quelqu un",
    "qqch": "quelque chose",
    "qlq": "quelque",
    "qq": "quelques",
}

_REPEATS = re.compile(r"([a-z])\1{2,}")
_PUNCT_REPEATS = re.compile(r"([!?.])\1+")
_TOKEN = re.compile(r"[a-z0-9_]+")
_GREETING_LINE = re.compile(
    r"^\s*(bonjour|bonsoir|hello|salut|madame|monsieur|mesdames|messieurs|cher|chere)\b[^\n]{0,40}$",
    re.IGNORECASE,
)
#: An e-mail's closing formula on a line of its own, and everything after it (the signature: a
#: name, a title, the school's address, its UAI code, a phone number; a quoted earlier message).
_CLOSING = re.compile(
    r"\n\s*((?:bien |tr[eè]s )?cordialement|bien [aà] vous|sinc[eè]res salutations|salutations distingu[ée]es"
    r"|belle journ[ée]e|bonne journ[ée]e|(?:bien )?amicalement|respectueusement"
    r"|(?:kind|best|warm|warmest) regards|regards|best wishes|(?:yours )?sincerely|many thanks)\b.*\Z",
    re.IGNORECASE | re.DOTALL,
)


@lru_cache(maxsize=4096)
def fold_char(ch: str) -> str:
    """Lowercase one character and drop its accents (« É » -> « e », « œ » -> « oe »)."""
    if ch.isascii():
        return ch.lower()
    if ch in "œŒ":
        return "oe"
    if ch in "æÆ":
        return "ae"
    if ch in "’‘`´":
        return "'"
    decomposed = unicodedata.normalize("NFKD", ch)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return kept.lower()


#: `fold_char` of every character met so far, as a `str.translate` table (grows, bounded by the alphabet).
_FOLD_TABLE: dict[int, str] = {}
_FOLD_KNOWN: set[str] = set()


#: The last texts folded (bounded: cleared when full). The language detection, the normaliser and
#: the entity extractor fold the same message one after the other.
_FOLDED: dict[str, str] = {}
_FOLDED_SIZE = 4096


def fold(text: str) -> str:
    """Lowercase and strip accents (one `str.translate`, not a per-character loop; memoised)."""
    folded = _FOLDED.get(text)
    if folded is not None:
        return folded
    if text.isascii():
        folded = text.lower()
    else:
        missing = set(text) - _FOLD_KNOWN
        for ch in missing:
            _FOLD_TABLE[ord(ch)] = fold_char(ch)
            _FOLD_KNOWN.add(ch)
        folded = text.translate(_FOLD_TABLE)
    if len(_FOLDED) >= _FOLDED_SIZE:
        _FOLDED.clear()
    _FOLDED[text] = folded
    return folded


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Fold `text` and map every folded character back to its index in `text`."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        folded = fold_char(ch)
        out.append(folded)
        index.extend([i] * len(folded))
    return "".join(out), index


def body_end(text: str) -> int:
    """Where an e-mail's body ends: at its closing formula on a line of its own (« Bien
    cordialement, » and the signature after it: « Tél. : 04 77 … » is no telephone to repair, the
    school's address no second problem), or at the end of the text."""
    if "\n" not in text:
        return len(text)
    found = _CLOSING.search(text)
    return found.start() if found is not None else len(text)


def strip_email_boilerplate(text: str) -> str:
    """Drop an e-mail's greeting line and its closing formula with the signature after it."""
    if text.count("\n") < 2 and len(text) < 200:
        return text
    body = _CLOSING.sub("", text)
    lines = body.split("\n")
    while lines and (not lines[0].strip() or _GREETING_LINE.match(lines[0])):
        lines.pop(0)
    stripped = "\n".join(lines).strip()
    return stripped or text


_DIGIT = re.compile(r"\d")  # every code pattern needs one
#: « rien n'a été volé », « sans vol », « ils n'ont rien pris », « aucun vol » (folded): a break-in
#: or vandalism report that says nothing was taken. Bag-of-n-grams features cannot see the
#: negation, so it becomes one word the classifier learns from the damage examples that say it.
_NO_THEFT = re.compile(
    r"\b(?:sans\s+(?:rien\s+)?(?:vols?|voler|derober)"
    r"|rien\s+(?:n\s*'?\s*a\s+(?:ete\s+)?|de\s+|d\s*'\s*)?(?:volee?s?|vole|pris|emporte|derobe|disparu)"
    r"|n\s*'?\s*ont\s+rien\s+(?:vole|pris|emporte|derobe)"
    r"|(?:aucun|pas\s+de)\s+vols?"
    r"|nothing\s+(?:was\s+|has\s+been\s+)?(?:stolen|taken|missing))\b"
)
#: A bare « what do I do? » closing a report (folded): « … ne s'allume plus, comment je fais ? »,
#: « rupture de ramettes, on fait comment ? », « … Que faut-il faire ? ». It asks what to do about
#: what the message told, so the told problem is the intent; its words would read as a how-to's
#: (« comment faire pour imprimer en A3 ? » asks how to do a task: « pour » follows, no match).
#: It becomes one word that carries no intent, as « sansvol » does for the negated theft.
_WHAT_NOW = re.compile(
    r"(?:(?<=[,.;:!?\n)…])|\b(?:du\s+coup|alors|donc|bref|et|mais)\b)\s*"
    r"(?:(?:du\s+coup|alors|donc|bref|maintenant|euh)\s*,?\s*)?"
    r"(?:comment\s+(?:je\s+(?:fais|dois\s+faire|procede)|on\s+(?:fait|doit\s+faire|procede)|faire"
    r"|nous\s+(?:faisons|devons\s+faire|devons\s+proceder)|proceder"
    r"|(?:dois|doit|faut|devons)[\s-]*(?:je|on|il|nous)\s+(?:faire|proceder))"
    r"|que\s+(?:(?:dois|doit|faut|devons)[\s-]*(?:je|on|il|nous)\s+faire|faire)"
    r"|qu\s*'?\s*est[\s-]*ce\s+(?:que|qu\s*'?)\s*(?:il\s+faut|je\s+dois|on\s+doit|on\s+peut|je\s+peux|nous\s+devons)\s+faire"
    r"|(?:je|on)\s+(?:fais|fait)\s+(?:comment|quoi)|(?:je|on)\s+(?:dois|doit)\s+faire\s+quoi)"
    r"\s*(?:maintenant|alors|du\s+coup|svp|s\s*'?\s*il\s+vous\s+plait)?\s*[?!.…]*"
    r"\s*(?:(?:merci|mrc)(?:\s+(?:d\s*'?\s*avance|beaucoup|bcp))?|cordialement|bonne\s+journee)?\s*[?!.…]*\s*$"
)
_WHAT_NOW_WORD = " zzqf "  # no French n-gram of its own: neither « faire » nor « comment »
_WHAT_NOW_HEAD = 12  # characters of report before it (« comment faire ? » alone is a question)
#: « mon atelier tombe à l'eau » (folded): a plan called off, no water on the devices.
_FELL_THROUGH = re.compile(
    r"(\b(?:atelier|sortie|seance|projet|cours|activite|spectacle|reunion|programme|journee|animation)s?"
    r"(?:\s+\S+){0,5}?)\s+(?:est\s+|sont\s+)?tomb\w*\s+a\s+l\W?\s*eau\b"
)
_DICTATED_QUESTION = re.compile(r"\bpoint d\s*'?\s*interrogation\b")
_DICTATED_WIFI = re.compile(r"\boui fi\b")
_INNER_HYPHEN = re.compile(r"(?<=[a-z])-(?=[a-z])")


def mask_codes(text: str) -> str:
    """Replace ticket references, asset tags and school codes by placeholder words."""
    if _DIGIT.search(text) is None:
        return text
    text = _TICKET_REF.sub(" refticket ", text)
    text = _ASSET_TAG.sub(" etiquettemateriel ", text)
    return _UAI.sub(" codeuai ", text)


def normalize(text: str) -> str:
    """The canonical form fed to the classifier: folded, de-stretched, SMS words expanded."""
    text = mask_codes(strip_email_boilerplate(text))
    text = fold(text)
    if "fai" in text or "proced" in text:
        found = _WHAT_NOW.search(text)
        if found is not None and found.start() >= _WHAT_NOW_HEAD:
            text = text[: found.start()] + _WHAT_NOW_WORD
    if "eau" in text:
        text = _FELL_THROUGH.sub(r"\1 annule", text)
    if "vol" in text or "rien" in text or "nothing" in text:
        text = _NO_THEFT.sub(" sansvol ", text)
    text = _PUNCT_REPEATS.sub(r"\1", text)
    text = _REPEATS.sub(r"\1", text)
    if "interrogation" in text:
        text = _DICTATED_QUESTION.sub(" ? ", text)  # « … le matériel point d'interrogation »: dictated
    if "oui fi" in text:
        text = _DICTATED_WIFI.sub("wifi", text)  # « le oui fi marche plus »: a phone's dictation
    if "-" in text:
        text = _INNER_HYPHEN.sub("", text)  # vidéo-projecteur, wi-fi
    tokens = _TOKEN.findall(text.replace("'", " "))
    expanded = [SMS_WORDS.get(tok, tok) for tok in tokens]
    # Keep question and exclamation marks: they separate questions from reports.
    marks = " ".join("qmark" for _ in range(min(text.count("?"), 1)))
    return " ".join(expanded) + (" " + marks if marks else "")


def light_normalize(text: str) -> str:
    """Only fold case and accents (the baseline the full normaliser is measured against)."""
    return fold(text)

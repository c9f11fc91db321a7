"""French text analysis for the search: folding, elision, stop words, light stemming, synonyms."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

_TOKEN = re.compile(r"[a-z0-9]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})

#: Folded words that carry no meaning for the search: function words, elided forms (« qu' »,
#: « jusqu' »), courtesy, the time of day (« depuis ce matin ») and the room or class (« la classe
#: de CM2 »): reports carry them, and they say where the problem is, not what it is.
STOPWORDS: frozenset[str] = frozenset(
    """
    a ai aie ait as au aux avec avez avoir avons ca ce ceci cela celle celui ces cet cette chaque
    comme comment dans de des depuis doit donc dont du elle elles en encore entre est et etait
    etre eu fait faire fais faut il ils je jusqu la le les leur leurs lui ma mais me meme mes moi
    mon ne ni nos notre nous on ont ou par pas peu peut peux plus pour pourquoi puis puisqu qu
    quand que quel quelle quelles quels qui quoi sa sans se ses si son sont sur ta te tes toi ton
    tous tout toute toutes tu un une vos votre vous y est svp merci bonjour bonsoir cordialement
    madame monsieur mme mr ya lorsqu quelqu aussi alors tres bien deja ici beaucoup bonne
    journee salut coucou stp
    matin soir nuit midi hier demain aujourd hui semaine lundi mardi mercredi jeudi vendredi
    samedi dimanche
    classe classes salle ecole cp ce1 ce2 cm1 cm2 ps ms gs ulis
    """.split()
)

_PLURAL_MIN = 4
#: Verb forms that would otherwise collide with a noun of the domain (« signaler » / « signal »).
_STEM_EXCEPTIONS: dict[str, str] = {
    "signale": "signaler", "signaler": "signaler", "signalez": "signaler",
    "signalement": "signaler", "signalements": "signaler", "signales": "signaler",
}
#: Suffixes removed once, longest first; each keeps a stem of at least the given length.
_SUFFIXES: tuple[tuple[str, int], ...] = (
    ("issement", 4),
    ("ement", 4),
    ("ation", 4),
    ("euse", 4),
    ("age", 4),
    ("aient", 4),
    ("ante", 4),
    ("eur", 4),
    ("ant", 4),
    ("ent", 4),
    ("ait", 4),
    ("ee", 4),
    ("er", 4),
    ("ez", 4),
    ("e", 4),
)


def fold(text: str) -> str:
    """Lower case without accents or ligatures: « Vidéoprojecteur » -> « videoprojecteur »."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_LIGATURES))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """Folded words without elided letters (« l'écran » -> « ecran »), stop words kept."""
    return [w for w in _TOKEN.findall(fold(text)) if len(w) > 1 or w.isdigit()]


def is_stopword(word: str) -> bool:
    return word in STOPWORDS


def words(text: str) -> list[str]:
    """Folded words minus stop words and elided letters."""
    return [w for w in tokens(text) if w not in STOPWORDS]


def stem(word: str) -> str:
    """A conservative French stemmer: plural, then one derivational or verbal ending."""
    if not word.isalpha() or len(word) < _PLURAL_MIN:
        return word
    if word in _STEM_EXCEPTIONS:
        return _STEM_EXCEPTIONS[word]
    if word[-1] in "sx" and not word.endswith("ss"):
        word = word[:-1]
    for suffix, keep in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            return word[: -len(suffix)]
    return word


def plural_key(word: str) -> str:
    """The form synonyms are matched on, so « enceintes » finds « enceinte »."""
    if len(word) >= _PLURAL_MIN and word[-1] in "sx" and not word.endswith("ss"):
        return word[:-1]
    return word


class SynonymMatcher:
    """Replaces known phrases (longest first) by one canonical token, e.g. « projo » -> projector.

    Phrases are matched before stop words are dropped, so « pas de son » can be a term while
    « son » alone (the possessive) is not.
    """

    def __init__(self, table: Mapping[str, Iterable[str]]) -> None:
        self._phrases: dict[tuple[str, ...], str] = {}
        for canonical, forms in table.items():
            for form in forms:
                key = tuple(plural_key(w) for w in tokens(form))
                if not key or (len(key) == 1 and is_stopword(key[0])):
                    raise ValueError(f"synonym {form!r} has no meaningful word")
                previous = self._phrases.setdefault(key, str(canonical))
                if previous != str(canonical):
                    raise ValueError(f"synonym {form!r} maps to {previous} and {canonical}")
        self._longest = max((len(key) for key in self._phrases), default=0)
        self.canonical: frozenset[str] = frozenset(self._phrases.values())
        self.surface_words: frozenset[str] = frozenset(
            w for key in self._phrases for w in key if not is_stopword(w)
        )

    def apply(self, words_: list[str]) -> list[tuple[str, bool]]:
        """(token, is_canonical) pairs: phrases collapsed, remaining stop words dropped."""
        out: list[tuple[str, bool]] = []
        keys = [plural_key(w) for w in words_]
        i = 0
        while i < len(words_):
            for size in range(min(self._longest, len(words_) - i), 0, -1):
                canonical = self._phrases.get(tuple(keys[i : i + size]))
                if canonical is not None:
                    out.append((canonical, True))
                    i += size
                    break
            else:
                if not is_stopword(words_[i]):
                    out.append((words_[i], False))
                i += 1
        return out

    def terms(self, words_: list[str]) -> list[str]:
        """Index terms of tokenised text: canonical tokens as they are, other words stemmed."""
        return [tok if canonical else stem(tok) for tok, canonical in self.apply(words_)]

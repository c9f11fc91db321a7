"""Entity extraction: equipment (gazetteer + typo-tolerant matching), codes, rooms, quantities.

The equipment gazetteer is the built-in lexicon extended by the training data's synonyms
and annotated examples. When a message names several devices, a small model learned from
the annotations picks the one the report is about (« le portable ne s'affiche pas sur le
vidéoprojecteur »): its features are position, the preposition before the name and how
often each device is the annotated one when it appears with others.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from domain.formats import ASSET_TAG_PATTERN, REFERENCE_PATTERN, UAI_PATTERN
from domain.vocabulary import EntityType, Equipment

from . import lexicon
from .result import EntitySpan
from .text import body_end, fold, fold_with_offsets
from .training_data import Example, TrainingData

EXTRACTOR = "GuichetEntityExtractor"
REGEX_EXTRACTOR = "RegexEntityExtractor"

DEFAULT_REGEXES: dict[str, tuple[str, ...]] = {
    EntityType.ASSET_TAG.value: (rf"\b{ASSET_TAG_PATTERN}\b",),
    EntityType.SCHOOL.value: (rf"\b{UAI_PATTERN}\b",),
    EntityType.TICKET_REF.value: (rf"\b{REFERENCE_PATTERN}\b",),
}
_EQUIPMENT_VALUES = frozenset(e.value for e in Equipment)
#: The devices of the network itself (what a network outage is fixed on), by value.
NETWORK_DEVICES = frozenset(
    e.value
    for e in (Equipment.WIFI_ACCESS_POINT, Equipment.ROUTER, Equipment.NAS, Equipment.NETWORK_SOCKET, Equipment.PHONE)
)
_WORD = re.compile(r"[a-z0-9]+")
_LEVELS = "|".join(sorted((re.escape(x) for x in lexicon.CLASS_LEVELS), key=len, reverse=True))
_ROOM_PATTERNS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"\bsalle\s+(?:n°\s*|no\.?\s*|num[ée]ro\s*)?\d{1,3}[a-zA-Z]?\b", re.I), 0),
    (re.compile(r"\bsalle\s+[A-Z]\d{0,2}\b"), 0),
    (re.compile(rf"\bclasse\s+(?:de\s+|des\s+|d['’]\s*)?(?:{_LEVELS})\b", re.I), 0),
    (re.compile(r"\bclasse\s+(?:de\s+)?(?:M\.|Mme|Mlle|madame|monsieur)\s+[A-ZÉ][\w-]+", re.I), 0),
    (re.compile(r"\bclasse\s+(?:n°\s*)?\d{1,2}\b", re.I), 0),
    (re.compile(rf"\b(?:en|des|aux|les|chez les|du|de|classe)\s+({_LEVELS})\b"), 1),
)
# Cheap tests before the room patterns: the first two need « salle », the next three « classe »
# (case-insensitive, as they are), the last a class level.
_SALLE = re.compile(r"salle", re.I)
_CLASSE = re.compile(r"classe", re.I)
_LEVEL_HINT = re.compile(rf"(?:{_LEVELS})\b")
_SCHOOL_NAME = re.compile(
    r"\b[ÉEée]cole\s+(?:(?:maternelle|[ée]l[ée]mentaire|primaire|priv[ée]e|publique)\s+)?"
    r"(?:de la\s+|de l['’]|de\s+|du\s+|des\s+|d['’])?"  # « École du Bourg », « école de la Plaine »
    r"((?:[A-ZÉÈ][\w'’-]+)(?:[ \-](?:de |du |des |la |le )?[A-ZÉÈ][\w'’-]+){0,3})"
)
#: Tokens whose gazetteer reading is memoised per extractor (bounded: cleared when full).
_FIXED_MEMO_SIZE = 100_000
_DIGIT = re.compile(r"\d")
_NUMBER = re.compile(r"(?<![\w.,/-])(\d{1,4})(?![\w.,/-]|\s*[h:]\d)")


def _stem(token: str) -> str:
    """A crude singular: plural s/x dropped from words longer than 3 letters."""
    if len(token) > 3 and token[-1] in "sx" and not token.endswith("ss"):
        return token[:-1]
    return token


def _key(surface: str) -> tuple[str, ...]:
    return tuple(_stem(t) for t in _WORD.findall(fold(surface).replace("'", " ")))


class _Token(NamedTuple):  # a tuple: built several times faster than a frozen dataclass
    norm: str  # folded and stemmed
    start: int
    end: int


#: `_stem` of every word met so far (bounded: cleared when full).
_STEMS: dict[str, str] = {}
_STEMS_SIZE = 100_000
_new_token = tuple.__new__  # builds a `_Token` without the named tuple's Python-level `__new__`


def _stems(words: Sequence[str]) -> list[str]:
    stems = _STEMS
    if len(stems) > _STEMS_SIZE:
        stems.clear()
    out = []
    for w in words:
        s = stems.get(w)
        if s is None:
            s = stems[w] = _stem(w)
        out.append(s)
    return out


@lru_cache(maxsize=1024)
def tokenize(text: str) -> tuple[_Token, ...]:
    """Words of `text`, folded and stemmed, with offsets into the original text (memoised:
    the extractors of one message all tokenise the same text)."""
    folded = fold(text)
    matches = list(_WORD.finditer(folded))
    norms = _stems([m.group() for m in matches])
    if len(folded) == len(text):  # one folded character per character (no « œ » -> « oe »)
        return tuple([_new_token(_Token, (n, m.start(), m.end())) for n, m in zip(norms, matches)])
    folded, index = fold_with_offsets(text)
    return tuple(
        _new_token(_Token, (n, index[m.start()], index[m.end() - 1] + 1)) for n, m in zip(norms, matches)
    )


#: Stemmed forms of the number words and of their singulars (a token can only be one of these).
_NUMBER_STEMS = frozenset(
    {_stem(w) for w in lexicon.NUMBER_WORDS} | {_stem(w[:-1]) for w in lexicon.NUMBER_WORDS if w.endswith("s")}
)


@dataclass(frozen=True, slots=True)
class _Candidate:
    value: str
    start: int
    end: int
    position: int  # index among the candidates
    token_index: int
    fuzzy_score: float  # 100 for an exact match


# Candidate features for the "main equipment" ranker.
_FEATURES = ("first", "last", "locative", "genitive", "fuzzy", "value_prior", "multiword", "symptom")
_DEFAULT_WEIGHTS = (0.8, 0.0, -1.2, -0.6, -0.3, 1.0, 0.3, -2.0)
# Before any data: devices often named only to describe a symptom (« écran noir »).
_DEFAULT_VALUE_PRIOR = {Equipment.MONITOR.value: -0.7, Equipment.KEYBOARD_MOUSE.value: -0.2}
#: The value of the phrases that hold a device's name but name no device (`lexicon.NOT_EQUIPMENT_PHRASES`).
_NO_DEVICE = ""
_VOWELS = frozenset("aeiouyh")
#: Devices whose keyboard is part of them.
_BUILT_IN_KEYBOARD = frozenset({Equipment.LAPTOP.value, Equipment.TABLET.value})
_PROJECTOR = Equipment.PROJECTOR.value
#: The pens one writes on a projected image with (« le stylet », « le stylo du projecteur »): stemmed forms.
_PENS = frozenset({_stem("stylet"), _stem("stylo")})  # tokens are stemmed: « stylets » is « stylet »
_PHONE = Equipment.PHONE.value
# « écran noir sur le PC »: the word names a symptom, not the device at fault.
_SYMPTOM_WORDS = frozenset("noir bleu blanc fige gele eteint allume tactile".split())


@dataclass
class EntityExtractor:
    """Finds Guichet's entities in a message; build it with `from_training_data`."""

    forms: dict[tuple[str, ...], str]
    regexes: dict[str, tuple[re.Pattern[str], ...]]
    room_forms: tuple[tuple[str, ...], ...]
    known_words: frozenset[str]
    value_prior: dict[str, float] = field(default_factory=lambda: dict(_DEFAULT_VALUE_PRIOR))
    weights: tuple[float, ...] = _DEFAULT_WEIGHTS
    bias: float = 0.0
    fuzzy_cutoff: float = 75.0
    _vocabulary: list[str] = field(default_factory=list, repr=False)
    _max_len: int = 1
    _memo: dict[str, tuple[str, float] | None] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._vocabulary = sorted({t for key in self.forms for t in key if len(t) >= 5})
        self._max_len = max((len(k) for k in self.forms), default=1)
        self._indexes()

    def _indexes(self) -> None:
        """Sets built once from the gazetteer: form words, and the words a form can start with."""
        self._vocabulary_set = frozenset(self._vocabulary)
        starts = {key[0] for key in self.forms}
        # A form written in several words glued into one (« video projecteur » for
        # « videoprojecteur »): its first word is a prefix of a one-word form.
        starts |= {key[0][:i] for key in self.forms if len(key) == 1 for i in range(1, len(key[0]))}
        self._starts = frozenset(starts)
        # Per start word: the lengths worth trying, longest first — the lengths of the forms it
        # starts, and 2 and 3 (words glued into one form) when it begins a one-word form.
        lengths: dict[str, set[int]] = {w: set() for w in starts}
        for key in self.forms:
            lengths[key[0]].add(len(key))
        for key in self.forms:
            if len(key) == 1:
                for i in range(1, len(key[0])):
                    lengths[key[0][:i]].update((2, 3))
        self._plans = {w: tuple(sorted(ns, reverse=True)) for w, ns in lengths.items()}
        self._fixed: dict[str, tuple[str, float]] = {}  # token -> `_fixed_word(token)`
        self._code_hint = _any_of(p for patterns in self.regexes.values() for p in patterns)
        self._codes_need_digit = all(_needs_digit(p) for patterns in self.regexes.values() for p in patterns)

    def __getstate__(self) -> dict[str, object]:
        state = {name: getattr(self, name) for name in self.__dataclass_fields__}
        state["_memo"] = {}
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        self._indexes()

    # -- building ---------------------------------------------------------------------

    @classmethod
    def from_training_data(cls, data: TrainingData | None = None) -> EntityExtractor:
        """Built-in lexicon + the data's synonyms, annotated surfaces, regexes and lookups."""
        forms: dict[tuple[str, ...], str] = {}
        for surface, value in lexicon.EQUIPMENT_FORMS.items():
            forms[_key(surface)] = value.value
        examples: Sequence[Example] = data.examples if data else ()
        learned: dict[tuple[str, ...], str] = {}
        if data:
            for surface, value in data.synonyms.items():
                if value in _EQUIPMENT_VALUES and _key(surface) and _key(surface) not in forms:
                    learned[_key(surface)] = value
            for value in _EQUIPMENT_VALUES:
                forms.setdefault(_key(value), value)  # canonical values may be written as is
            for ex in examples:
                for ent in ex.entities:
                    if ent.entity == EntityType.EQUIPMENT and ent.value in _EQUIPMENT_VALUES:
                        if _key(ent.text) not in forms:
                            learned.setdefault(_key(ent.text), ent.value)
        forms.update(_reliable(learned, examples))
        for key in [k for k in forms if len(k) > 1]:
            joined = ("".join(key),)
            forms.setdefault(joined, forms[key])  # « vidéo projecteur » -> « videoprojecteur »
        forms.pop((), None)
        for phrase in lexicon.NOT_EQUIPMENT_PHRASES:
            forms[_key(phrase)] = _NO_DEVICE  # matched like a device name, then dropped
        regexes = {k: tuple(re.compile(p) for p in v) for k, v in DEFAULT_REGEXES.items()}
        rooms = list(lexicon.ROOM_FORMS)
        if data:
            for name, patterns in data.regexes.items():
                # Rasa's RegexEntityExtractor is case-insensitive by default.
                regexes[name] = tuple(re.compile(p, re.IGNORECASE) for p in patterns)
            rooms.extend(data.lookups.get(EntityType.ROOM, ()))
            for ex in examples:
                rooms.extend(e.text for e in ex.entities if e.entity == EntityType.ROOM)
        room_forms = tuple(sorted({_key(r) for r in rooms if _key(r)}, key=len, reverse=True))
        known = Counter[str]()
        for ex in examples:
            inside = [(e.start, e.end) for e in ex.entities]
            for tok in tokenize(ex.text):
                if not any(s <= tok.start < e for s, e in inside):
                    known[tok.norm] += 1
        known_words = frozenset(w for w, n in known.items() if n >= 1) | lexicon.COMMON_WORDS
        extractor = cls(forms, regexes, room_forms, known_words)
        if examples:
            extractor._fit_ranker(examples)
        return extractor

    def _fit_ranker(self, examples: Iterable[Example]) -> None:
        """Learn which of several named devices is the annotated one."""
        present: Counter[str] = Counter()
        chosen: Counter[str] = Counter()
        rows: list[tuple[list[_Candidate], set[tuple[int, int]], list[_Token]]] = []
        for ex in examples:
            gold = _main_span(ex)
            if not gold:
                continue
            tokens = tokenize(ex.text)
            cands = self._candidates(tokens)
            if len({c.value for c in cands}) < 2:
                continue
            rows.append((cands, gold, tokens))
            for c in cands:
                present[c.value] += 1
                chosen[c.value] += _overlaps(c, gold)
        # Smoothed log-odds that a device is the main one when several are named.
        self.value_prior = {
            **_DEFAULT_VALUE_PRIOR,
            **{v: math.log((chosen[v] + 1) / (present[v] - chosen[v] + 1)) for v in present},
        }
        if len(rows) < 15:
            return
        from sklearn.linear_model import LogisticRegression

        x: list[list[float]] = []
        y: list[int] = []
        for cands, gold, tokens in rows:
            for c in cands:
                x.append(self._features(c, cands, tokens))
                y.append(int(_overlaps(c, gold)))
        if len(set(y)) < 2:
            return
        model = LogisticRegression(C=1.0, max_iter=1000, random_state=0).fit(x, y)
        self.weights = tuple(float(w) for w in model.coef_[0])
        self.bias = float(model.intercept_[0])

    # -- equipment --------------------------------------------------------------------

    def _correct(self, token: str) -> tuple[str, float] | None:
        """The gazetteer word a misspelt token stands for, with its score, or None."""
        if token in self._memo:
            return self._memo[token]
        found: tuple[str, float] | None = None
        if len(token) >= 5 and not token.isdigit() and token not in self.known_words:
            best = process.extractOne(token, self._vocabulary, scorer=fuzz.ratio, score_cutoff=self.fuzzy_cutoff)
            # One edit (a transposition counts as one) for short words, two from 7 letters.
            allowed = 1 if len(token) < 7 else 2
            if best is not None and best[0][0] == token[0] and OSA.distance(token, best[0]) <= allowed:
                found = (best[0], float(best[1]))
        self._memo[token] = found
        return found

    def _store_fixed(self, norm: str) -> tuple[str, float]:
        """The gazetteer word a token reads as (itself when it is one or too short), with its
        score; memoised in `_fixed`."""
        forms = self.forms
        if (norm,) in forms or _is_form_part(self, norm):
            fixed = None
        elif norm[0] in "ld" and norm[1] in _VOWELS and (norm[1:],) in forms:
            fixed = (norm[1:], 100.0)  # the apostrophe left out: « lordinateur », « limprimante »
        else:
            fixed = self._correct(norm)
        self._fixed[norm] = found = fixed if fixed else (norm, 100.0)
        return found

    def _candidates(self, tokens: list[_Token]) -> list[_Candidate]:
        memo = self._fixed
        if len(memo) > _FIXED_MEMO_SIZE:
            memo.clear()
        fixed = [memo.get(tok.norm) or self._store_fixed(tok.norm) for tok in tokens]
        words = [f[0] for f in fixed]
        found: list[_Candidate] = []
        starts = self._starts
        forms = self.forms
        max_len = self._max_len
        n_tokens = len(tokens)
        after_match = 0  # tokens before this index belong to the previous match
        plans = self._plans
        for i in [i for i, w in enumerate(words) if w in starts]:
            if i < after_match:
                continue
            match: tuple[int, str] | None = None
            limit = min(max_len, n_tokens - i)
            # Only the lengths a form starting with this word can have (longest first): the
            # other lengths of the full scan find nothing.
            for n in plans[words[i]]:
                if n > limit:
                    continue
                seq = tuple(words[i : i + n])
                value = forms.get(seq)
                if value is None and n in (2, 3):
                    value = forms.get(("".join(seq),))
                if value is not None:
                    match = (n, value)
                    break
            if match is None:
                continue
            n, value = match
            after_match = i + n
            if not value:
                continue  # « l'écran de connexion », « l'éducation aux écrans »
            if found and found[-1].end == tokens[i - 1].end and tokens[i].start - found[-1].end <= 1:
                continue  # « enceinte portable », « téléphone portable »: the second word qualifies the first
            found.append(
                _Candidate(value, tokens[i].start, tokens[i + n - 1].end, len(found), i,
                           min(f[1] for f in fixed[i : i + n]))
            )
        # « écran noir sur le PC », « l'écran de la tablette »: the screen stands for the device;
        # so does a laptop's own keyboard (« le clavier de l'ordinateur portable »).
        kept = [
            c
            for c in found
            if not (
                c.value == Equipment.MONITOR.value
                and c.end - c.start <= 6
                and any(o.position > c.position and _screen_of(tokens, c, o) and not _desktop_monitor(tokens, c, o)
                        for o in found)
            )
            and not (
                c.value == Equipment.KEYBOARD_MOUSE.value
                and tokens[c.token_index].norm == "clavier"
                and any(o.position > c.position and o.value in _BUILT_IN_KEYBOARD and _screen_of(tokens, c, o)
                        for o in found)
            )
        ]
        # « Tél. : 04 77 22 31 08 » in a signature, « mon téléphone : 06 … »: a number to call, not the
        # line at fault (« la ligne téléphonique 04 77 … n'a plus de tonalité » is the line).
        kept = [c for c in kept if c.value != _PHONE or tokens[c.token_index].end != c.end or not _number_after(tokens, c)]
        # « le projecteur avec le stylet »: a projector one writes on with a pen is interactive (VPI).
        if any(c.value == _PROJECTOR for c in kept) and any(t.norm in _PENS for t in tokens):
            kept = [replace(c, value=Equipment.INTERACTIVE_PROJECTOR.value) if c.value == _PROJECTOR else c
                    for c in kept]
        return kept

    def _features(self, c: _Candidate, cands: list[_Candidate], tokens: list[_Token]) -> list[float]:
        prev = _previous_word(tokens, c.token_index)
        return [
            float(c.position == 0),
            float(c.position == len(cands) - 1),
            float(prev in lexicon.LOCATIVE_PREPOSITIONS),
            float(prev in lexicon.GENITIVE_PREPOSITIONS or _after_genitive(tokens, c.token_index)),
            float(c.fuzzy_score < 100.0),
            self.value_prior.get(c.value, 0.0),
            float(c.end - c.start > len(tokens[c.token_index].norm) + 1),
            float(c.value == Equipment.MONITOR.value and _next_word(tokens, c) in _SYMPTOM_WORDS),
        ]

    def _score(self, c: _Candidate, cands: list[_Candidate], tokens: list[_Token]) -> float:
        feats = self._features(c, cands, tokens)
        return self.bias + sum(w * f for w, f in zip(self.weights, feats, strict=True))

    def equipment(self, text: str, *, keep_all: bool = False) -> list[EntitySpan]:
        """The main equipment named in `text` (or every one with `keep_all`), before an e-mail's
        closing formula (a signature names no device at fault)."""
        tokens = tokenize(text[: body_end(text)])
        cands = self._candidates(tokens)
        if not cands:
            return []
        if len({c.value for c in cands}) > 1:
            scored = [(self._score(c, cands, tokens), c) for c in cands]
            top = max(s for s, _ in scored)
            total = sum(math.exp(s - top) for s, _ in scored)
            probs = {id(c): math.exp(s - top) / total for s, c in scored}  # P(main) among the named
            main = next(c for s, c in scored if s == top)
        else:
            probs = {id(c): 1.0 for c in cands}
            main = cands[0]
        chosen = cands if keep_all else [main]
        return [
            EntitySpan(
                EntityType.EQUIPMENT.value,
                c.value,
                c.start,
                c.end,
                EXTRACTOR,
                round(min(probs[id(c)], c.fuzzy_score / 100.0), 4),
            )
            for c in chosen
        ]

    # -- other entities ---------------------------------------------------------------

    def codes(self, text: str) -> list[EntitySpan]:
        """Asset tags, school codes (UAI), ticket references and other regex entities."""
        spans: list[EntitySpan] = []
        if self.__dict__.get("_codes_need_digit") and _DIGIT.search(text) is None:
            return spans
        hint = self.__dict__.get("_code_hint")
        if hint is not None and hint.search(text) is None:
            return spans
        for name, patterns in self.regexes.items():
            for pattern in patterns:
                for m in pattern.finditer(text):
                    spans.append(EntitySpan(name, m.group(), m.start(), m.end(), REGEX_EXTRACTOR, 1.0))
        return spans

    def _rooms_by_first_word(self) -> dict[str, tuple[tuple[int, frozenset[tuple[str, ...]]], ...]]:
        """The room lookup indexed by first word: per length, longest first, the set of forms of
        that length (built once; at most one form of each length can match at a given word)."""
        index = self.__dict__.get("_room_index")
        if index is None:
            grouped: dict[str, dict[int, set[tuple[str, ...]]]] = {}
            for form in self.room_forms:
                grouped.setdefault(form[0], {}).setdefault(len(form), set()).add(form)
            index = {
                k: tuple((n, frozenset(forms)) for n, forms in sorted(v.items(), reverse=True))
                for k, v in grouped.items()
            }
            self.__dict__["_room_index"] = index
        return index

    def rooms(self, text: str) -> list[EntitySpan]:
        """« salle 3 », « classe de CE1 », « en CM2 », and the lookup's room names."""
        spans = []
        # Only the patterns that can match, in their order: « salle » ones, « classe » ones, and
        # the class level one (each match holds its word or a level).
        patterns = [
            *(_ROOM_PATTERNS[:2] if _SALLE.search(text) is not None else ()),
            *(_ROOM_PATTERNS[2:5] if _CLASSE.search(text) is not None else ()),
            *(_ROOM_PATTERNS[5:] if _LEVEL_HINT.search(text) is not None else ()),
        ]
        for pattern, group in patterns:
            for m in pattern.finditer(text):
                spans.append(
                    EntitySpan(EntityType.ROOM.value, m.group(group), m.start(group), m.end(group), EXTRACTOR, 1.0)
                )
        tokens = tokenize(text)
        norms = [t.norm for t in tokens]
        by_first = self._rooms_by_first_word()
        n_tokens = len(norms)
        for i in [i for i, w in enumerate(norms) if w in by_first]:
            # Every form that matches here, longest first.
            for n, forms in by_first[norms[i]]:
                if i + n <= n_tokens and tuple(norms[i : i + n]) in forms:
                    start, end = tokens[i].start, tokens[i + n - 1].end
                    spans.append(EntitySpan(EntityType.ROOM.value, text[start:end], start, end, EXTRACTOR, 0.9))
        return spans

    def schools(self, text: str) -> list[EntitySpan]:
        """School names written « école Jean Rostand »."""
        return [
            EntitySpan(EntityType.SCHOOL.value, text[a:b], a, b, EXTRACTOR, 0.8) for a, b in school_spans(text)
        ]

    def quantities(self, text: str) -> list[EntitySpan]:
        """Counts of things: « 3 tablettes », « trois PC », « une dizaine de casques »."""
        spans = []
        tokens = tokenize(text[: body_end(text)])  # not the signature's address and phone number
        # Cheap test on the stemmed forms before folding a surface again.
        for i in [i for i, t in enumerate(tokens) if t.norm in _NUMBER_STEMS or t.norm.isdigit()]:
            tok = tokens[i]
            word = fold(text[tok.start : tok.end])  # unstemmed: « deux », « six »
            value: int | None = None
            if word.isdigit() and len(word) <= 4 and _NUMBER.fullmatch(text[tok.start : tok.end]):
                value = int(word)
            elif word in lexicon.NUMBER_WORDS or (word + "s") in lexicon.NUMBER_WORDS:
                value = lexicon.NUMBER_WORDS.get(word, lexicon.NUMBER_WORDS.get(word + "s"))
            if value is None or value == 0:
                continue
            nxt = tokens[i + 1].norm if i + 1 < len(tokens) else ""
            prev = tokens[i - 1].norm if i > 0 else ""
            if nxt in lexicon.NOT_QUANTITY_UNITS or (nxt + "s") in lexicon.NOT_QUANTITY_UNITS:
                continue
            if prev in {"salle", "classe", "n", "no", "numero", "ce", "cm", "version", "windows", "office", "le", "du", "au"}:
                continue  # a room, a version or a date (« le 12 »), not a count
            if word.isdigit() and not nxt:
                continue  # a bare trailing number is rarely a count
            if len(word) == 2 and word.isdigit() and ((len(nxt) == 2 and nxt.isdigit()) or (len(prev) == 2 and prev.isdigit())):
                continue  # a group of a phone number or a date (« 06 12 34 56 78 »), not a count
            spans.append(EntitySpan(EntityType.QUANTITY.value, str(value), tok.start, tok.end, EXTRACTOR, 0.9))
        return spans

    def routed_equipment(self, text: str) -> list[EntitySpan]:
        """The equipment entity `extract` keeps (none, or the main device), without the school
        names and quantities routing never reads."""
        main = self.equipment(text)
        if not main:
            return main
        kept: list[EntitySpan] = []
        for span in (*self.codes(text), *self.rooms(text)):
            if not any(span.start < k.end and k.start < span.end for k in kept):
                kept.append(span)
        eq = main[0]
        return [] if any(eq.start < k.end and k.start < eq.end for k in kept) else main

    def extract(self, text: str) -> list[EntitySpan]:
        """Every entity of `text`, without overlaps (codes > rooms > equipment > school > quantity)."""
        ordered = [
            *self.codes(text),
            *self.rooms(text),
            *self.equipment(text),
            *self.schools(text),
            *self.quantities(text),
        ]
        kept: list[EntitySpan] = []
        for span in ordered:
            if not any(span.start < k.end and k.start < span.end for k in kept):
                kept.append(span)
        return sorted(kept, key=lambda s: (s.start, s.end))


def school_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the school names written « école Jean Rostand », « école élémentaire de Saint-Héand »."""
    return [m.span(1) for m in _SCHOOL_NAME.finditer(text)]


def _number_after(tokens: Sequence[_Token], c: _Candidate) -> bool:
    """Whether a phone number follows the candidate (« Tél. : 04 77 22 31 08 », « +33 6 … »)."""
    nxt = next((t.norm for t in tokens[c.token_index + 1 :] if t.start >= c.end), "")
    return nxt.isdigit() and (nxt.startswith("0") or nxt == "33") and len(nxt) >= 2


def _desktop_monitor(tokens: list[_Token], screen: _Candidate, device: _Candidate) -> bool:
    """« l'écran de l'ordinateur du bureau fait des lignes »: a desktop's screen is its monitor, a
    device of its own (« écran noir sur le PC » is what the desktop shows)."""
    if device.value != Equipment.DESKTOP.value:
        return False
    between = [t.norm for t in tokens if screen.end <= t.start and t.end <= device.start]
    return "sur" not in between and not (device.token_index + 1 < len(tokens)
                                         and tokens[device.token_index + 1].norm.startswith("portabl"))


def _screen_of(tokens: list[_Token], screen: _Candidate, device: _Candidate) -> bool:
    """« écran noir sur le PC », « l'écran de la tablette »: a screen described as a device's."""
    between = [t.norm for t in tokens if screen.end <= t.start and t.end <= device.start]
    return (
        len(between) <= 5
        and any(w in {"de", "du", "des", "d", "sur"} for w in between)
        and not any(w in {"et", "pour", "ou", "avec", "mai", "plu"} for w in between)
    )


def _main_span(ex: Example) -> set[tuple[int, int]]:
    """The annotated main device: the first equipment annotated (annotators name it first)."""
    spans = sorted((e.start, e.end) for e in ex.entities if e.entity == EntityType.EQUIPMENT)
    return set(spans[:1])


def _reliable(learned: dict[tuple[str, ...], str], examples: Sequence[Example]) -> dict[tuple[str, ...], str]:
    """Surfaces learned from annotations that are annotated at least half the times they occur.

    « [ligne]{phone} coupée » must not make every « en ligne » a telephone.
    """
    if not learned:
        return {}
    seen: Counter[tuple[str, ...]] = Counter()
    annotated: Counter[tuple[str, ...]] = Counter()
    longest = max(len(k) for k in learned)
    for ex in examples:
        tokens = tokenize(ex.text)
        spans = {(e.start, e.end) for e in ex.entities if e.entity == EntityType.EQUIPMENT}
        norms = [t.norm for t in tokens]
        for n in range(1, longest + 1):
            for i in range(len(norms) - n + 1):
                key = tuple(norms[i : i + n])
                if key in learned:
                    seen[key] += 1
                    start, end = tokens[i].start, tokens[i + n - 1].end
                    annotated[key] += (start, end) in spans
    return {k: v for k, v in learned.items() if (annotated[k] + 1) / (seen[k] + 2) >= 0.5}


def _any_of(patterns: Iterable[re.Pattern[str]]) -> re.Pattern[str] | None:
    """One pattern that finds a match wherever one of `patterns` would (None when they cannot be
    merged: groups would renumber back-references)."""
    parts = []
    for p in patterns:
        if p.groups or p.flags & ~(re.IGNORECASE | re.UNICODE):
            return None
        parts.append(f"(?i:{p.pattern})" if p.flags & re.IGNORECASE else f"(?:{p.pattern})")
    if not parts:
        return None
    try:
        return re.compile("|".join(parts))
    except re.error:
        return None


def _needs_digit(pattern: re.Pattern[str]) -> bool:
    """Whether every match of `pattern` holds a digit: one of its top-level items is a digit
    (`\\d`, `[0-9]`-like sets of digits only, a digit literal) or a repeat of one at least once."""
    try:
        from re import _constants as c, _parser as p  # the standard library's own parser
    except ImportError:  # pragma: no cover - another Python: no shortcut
        return False

    def is_digit(op: object, av: object) -> bool:
        if op is c.LITERAL:
            return chr(av).isdigit() and chr(av).isascii()  # type: ignore[arg-type]
        if op is c.IN:
            items = list(av)  # type: ignore[call-overload]
            return bool(items) and all(
                (o is c.CATEGORY and a is c.CATEGORY_DIGIT)
                or (o is c.LITERAL and chr(a).isdigit() and chr(a).isascii())
                or (o is c.RANGE and a[0] >= ord("0") and a[1] <= ord("9"))
                for o, a in items
            )
        return False

    try:
        parsed = p.parse(pattern.pattern, pattern.flags)
    except Exception:  # pragma: no cover - compiled already, but be safe
        return False
    for op, av in parsed:
        if is_digit(op, av):
            return True
        if op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:
            inner = list(av[2])
            if len(inner) == 1 and is_digit(*inner[0]):
                return True
    return False


def _is_form_part(extractor: EntityExtractor, token: str) -> bool:
    return len(token) < 5 or token in extractor._vocabulary_set


def _overlaps(c: _Candidate, gold: set[tuple[int, int]]) -> bool:
    return any(c.start < e and s < c.end for s, e in gold)


def _previous_word(tokens: list[_Token], index: int) -> str:
    """The word before a name, skipping articles and possessives."""
    j = index - 1
    while j >= 0 and tokens[j].norm in lexicon.DETERMINERS:
        if tokens[j].norm in lexicon.GENITIVE_PREPOSITIONS and (j == 0 or tokens[j - 1].norm not in lexicon.LOCATIVE_PREPOSITIONS):
            return tokens[j].norm  # « l'écran du PC »: « du » is the preposition itself
        j -= 1
    return tokens[j].norm if j >= 0 else ""


def _next_word(tokens: list[_Token], c: _Candidate) -> str:
    after = [t for t in tokens if t.start >= c.end]
    return after[0].norm if after else ""


def _after_genitive(tokens: list[_Token], index: int) -> bool:
    return index > 0 and tokens[index - 1].norm in {"du", "des"}


def equipment_accuracy(extractor: EntityExtractor, examples: Iterable[Example]) -> dict[str, float]:
    """How often the main equipment found is the first annotated one, on examples annotated with one."""
    total = hits = multi = multi_hits = found = 0
    for ex in examples:
        annotated = sorted((e.start, e.value) for e in ex.entities if e.entity == EntityType.EQUIPMENT)
        if not annotated:
            continue
        gold = {annotated[0][1]}
        total += 1
        spans = extractor.equipment(ex.text, keep_all=True)
        main = extractor.equipment(ex.text)
        found += bool({s.value for s in spans} & gold)
        ok = bool(main) and main[0].value in gold
        hits += ok
        if len({s.value for s in spans}) > 1:
            multi += 1
            multi_hits += ok
    return {
        "examples": float(total),
        "accuracy": hits / total if total else 0.0,
        "recall_any": found / total if total else 0.0,
        "several_named": float(multi),
        "accuracy_several": multi_hits / multi if multi else 0.0,
    }

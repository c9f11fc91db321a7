"""In-process search over the articles: BM25F on French-analysed fields, triage boosts, typo repair."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from kb.articles import ARTICLES_DIR, Article, load_articles
from kb.synonyms import EQUIPMENT_SYNONYMS, PHRASES
from kb.text import SynonymMatcher, is_stopword, stem, tokens

#: BM25F field weights: a word of the title counts three times, a keyword twice. Bodies share
#: much wording (safety, who is responsible), so a body word counts half a summary word.
FIELD_WEIGHTS: dict[str, float] = {"title": 3.0, "keywords": 2.0, "summary": 1.5, "body": 0.5}
#: Fields that say what an article is about; `best_for` needs a query term in one of them.
ANCHOR_FIELDS = frozenset({"title", "keywords", "summary"})
K1 = 1.2
B = 0.75

#: Score multipliers from the triage the caller passes in.
EQUIPMENT_MATCH = 1.3
EQUIPMENT_MISMATCH = 0.8
INTENT_MATCH = 1.1
INTENT_MISMATCH = 0.8

#: Below this, `best_for` offers nothing. Chosen on tests/kb/test_search_quality.py: every
#: expected first hit scores at least 0.55 there (intent `howto`), while the best anchored
#: article for an out-of-scope question stays under 0.30; 0.40 keeps a margin on both sides.
DEFAULT_MIN_SCORE = 0.40
#: A second suggestion is offered only when it is nearly as good as the first.
SECOND_RATIO = 0.75
MAX_SUGGESTIONS = 2

#: Typo repair: only words this long, only above this similarity (rapidfuzz ratio, 0-100).
FUZZY_MIN_LENGTH = 5
#: (minimum length, cutoff) pairs, longest first: short words need a closer match.
FUZZY_CUTOFFS: tuple[tuple[int, float], ...] = ((9, 82.0), (7, 85.0), (5, 88.0))
_FUZZY_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result; `score` is about 0-1 before boosts (share of the query matched)."""

    article: Article
    score: float


class KnowledgeBase:
    """The articles and their inverted index, built once at start; only a bounded typo cache changes."""

    def __init__(self, articles: Sequence[Article]) -> None:
        self.articles: tuple[Article, ...] = tuple(articles)
        self._by_slug = {article.slug: article for article in self.articles}
        self._synonyms = SynonymMatcher({**EQUIPMENT_SYNONYMS, **PHRASES})
        self._lexicon: set[str] = set(self._synonyms.surface_words)
        self._fuzzy_cache: dict[str, str] = {}
        self._postings = self._index()
        self._choices: dict[str, list[str]] = {}
        for word in sorted(self._lexicon):
            if len(word) >= FUZZY_MIN_LENGTH - 1 and word.isalpha():
                self._choices.setdefault(word[0], []).append(word)

    @classmethod
    def from_directory(cls, directory: Path = ARTICLES_DIR) -> KnowledgeBase:
        """Load and validate every article of the directory (raises ArticleError)."""
        return cls(load_articles(directory))

    def __len__(self) -> int:
        return len(self.articles)

    def get(self, slug: str) -> Article | None:
        return self._by_slug.get(slug)

    # --- index ----------------------------------------------------------------------------

    def _index(self) -> dict[str, dict[int, float]]:
        """term -> {article index: BM25F term score}; everything but the query sum is precomputed."""
        weighted: list[Counter[str]] = []
        lengths: list[float] = []
        self._anchors: dict[str, set[int]] = {}
        for doc, article in enumerate(self.articles):
            fields = {
                "title": article.title,
                "keywords": " ; ".join(article.keywords),
                "summary": article.summary,
                "body": article.body,
            }
            tf: Counter[str] = Counter()
            length = 0.0
            for name, text in fields.items():
                found = tokens(text)
                self._lexicon.update(w for w in found if not is_stopword(w))
                terms = self._synonyms.terms(found)
                for term in terms:
                    tf[term] += FIELD_WEIGHTS[name]
                    if name in ANCHOR_FIELDS:
                        self._anchors.setdefault(term, set()).add(doc)
                length += FIELD_WEIGHTS[name] * len(terms)
            weighted.append(tf)
            lengths.append(length)
        n = len(self.articles)
        average = sum(lengths) / n if n else 1.0
        df: Counter[str] = Counter(term for tf in weighted for term in tf)
        self._idf = {term: _idf(n, count) for term, count in df.items()}
        self._unknown_idf = _idf(n, 1)
        postings: dict[str, dict[int, float]] = {}
        for doc, tf in enumerate(weighted):
            norm = K1 * (1 - B + B * lengths[doc] / average)
            for term, freq in tf.items():
                postings.setdefault(term, {})[doc] = self._idf[term] * freq * (K1 + 1) / (freq + norm)
        return postings

    # --- query analysis -------------------------------------------------------------------

    def _repair(self, word: str) -> str:
        """The lexicon word a misspelt query word most likely meant, or the word itself."""
        if (
            len(word) < FUZZY_MIN_LENGTH
            or not word.isalpha()
            or word in self._lexicon
            or stem(word) in self._postings
        ):
            return word
        cached = self._fuzzy_cache.get(word)
        if cached is not None:
            return cached
        # Same first letter: typos rarely hit it, and it keeps « cantine » from « continue ».
        cutoff = next(cut for size, cut in FUZZY_CUTOFFS if len(word) >= size)
        match = process.extractOne(
            word,
            self._choices.get(word[0], []),
            scorer=fuzz.ratio,
            score_cutoff=cutoff,
        )
        repaired = match[0] if match else word
        if len(self._fuzzy_cache) < _FUZZY_CACHE_SIZE:
            self._fuzzy_cache[word] = repaired
        return repaired

    def query_terms(self, text: str) -> list[str]:
        """The distinct index terms of a query, after typo repair, synonyms and stemming."""
        found = [word if is_stopword(word) else self._repair(word) for word in tokens(text)]
        return list(dict.fromkeys(self._synonyms.terms(found)))

    # --- search ---------------------------------------------------------------------------

    def _rank(
        self, query: str, intent: str | None, equipment: str | None
    ) -> list[tuple[float, int, bool]]:
        """(score, article index, anchored) for every article matching a query term, best first.

        `anchored` says a query term occurs in the title, keywords or summary: what the
        article is about, not a word met in passing in its body.
        """
        terms = self.query_terms(query)
        if not terms:
            return []
        ceiling = (K1 + 1) * sum(self._idf.get(term, self._unknown_idf) for term in terms)
        raw: dict[int, float] = {}
        anchored: set[int] = set()
        for term in terms:
            for doc, value in self._postings.get(term, {}).items():
                raw[doc] = raw.get(doc, 0.0) + value
            anchored.update(self._anchors.get(term, ()))
        ranked = [
            (round(value / ceiling * _boost(self.articles[doc], intent, equipment), 4), doc, doc in anchored)
            for doc, value in raw.items()
        ]
        ranked.sort(key=lambda item: (-item[0], self.articles[item[1]].slug))
        return ranked

    def search(
        self,
        query: str,
        *,
        intent: str | None = None,
        equipment: str | None = None,
        limit: int = 3,
    ) -> list[Hit]:
        """Best articles for the query, boosted by the triage's intent and equipment."""
        if limit <= 0:
            return []
        ranked = self._rank(query, intent, equipment)[:limit]
        return [Hit(self.articles[doc], score) for score, doc, _ in ranked]

    def best_for(
        self,
        text: str,
        intent: str | None = None,
        equipment: str | None = None,
        min_score: float = DEFAULT_MIN_SCORE,
    ) -> list[Hit]:
        """0-2 articles good enough to offer before opening a ticket; none rather than a wrong one."""
        ranked = self._rank(text, intent, equipment)[:MAX_SUGGESTIONS]
        if not ranked or ranked[0][0] < min_score or not ranked[0][2]:
            return []
        first = ranked[0][0]
        return [
            Hit(self.articles[doc], score)
            for score, doc, anchored in ranked
            if anchored and score >= max(min_score, first * SECOND_RATIO)
        ]


def _idf(n: int, df: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def _boost(article: Article, intent: str | None, equipment: str | None) -> float:
    factor = 1.0
    if intent:
        factor *= INTENT_MATCH if intent in article.intents else INTENT_MISMATCH
    if equipment:
        if equipment in article.equipment:
            factor *= EQUIPMENT_MATCH
        elif article.equipment:
            factor *= EQUIPMENT_MISMATCH
    return factor

"""A per-message fast path for the fitted TF-IDF + logistic-regression pipeline.

scikit-learn's `predict_proba` validates inputs and builds sparse matrices on every call:
about 1 ms for one message, most of it overhead. A chat message is classified alone, so this
scorer reads the fitted vocabularies, idf weights and coefficients once and computes the same
probabilities with dictionaries and one small dense product. Batches still use scikit-learn.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline


@dataclass(frozen=True)
class _Block:
    analyzer: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int
    sublinear: bool


class FastScorer:
    """Probabilities equal to `pipeline.predict_proba([text])[0]` for one text."""

    def __init__(self, pipeline: Pipeline) -> None:
        steps = dict(pipeline.named_steps)
        normalizer, union, clf = steps["norm"], steps["tfidf"], steps["clf"]
        if not isinstance(clf, LogisticRegression) or len(clf.classes_) < 3:
            raise TypeError("the fast path covers multinomial logistic regression only")
        self._normalize = lambda text: normalizer.transform([text])[0]
        blocks, offset = [], 0
        for _name, vectorizer in union.transformer_list:
            if vectorizer.norm != "l2" or not vectorizer.use_idf:
                raise TypeError("the fast path expects l2-normalised TF-IDF")
            blocks.append(_Block(vectorizer.build_analyzer(), vectorizer.vocabulary_,
                                 vectorizer.idf_.astype(np.float64), offset, vectorizer.sublinear_tf))
            offset += len(vectorizer.vocabulary_)
        self._blocks = tuple(blocks)
        self._coef_t = np.ascontiguousarray(clf.coef_.T, dtype=np.float64)  # features x classes
        self._intercept = clf.intercept_.astype(np.float64)

    def predict_proba(self, text: str) -> np.ndarray:
        normalized = self._normalize(text)
        columns: list[int] = []
        weights: list[float] = []
        for block in self._blocks:
            counts = Counter(block.analyzer(normalized))
            cols, vals = [], []
            for term, count in counts.items():
                index = block.vocabulary.get(term)
                if index is None:
                    continue
                tf = 1.0 + math.log(count) if block.sublinear else float(count)
                cols.append(index)
                vals.append(tf * block.idf[index])
            norm = math.sqrt(sum(v * v for v in vals)) or 1.0
            columns.extend(block.offset + c for c in cols)
            weights.extend(v / norm for v in vals)
        logits = self._intercept.copy()
        if columns:
            logits += np.asarray(weights) @ self._coef_t[columns]
        logits -= logits.max()
        exp = np.exp(logits)
        return exp / exp.sum()

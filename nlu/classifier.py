"""The intent classifier variants compared by cross-validation (see `nlu evaluate --variants`).

All variants are TF-IDF over character n-grams (robust to typos and missing accents) and
words, with a linear model whose probabilities serve as confidences.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from .cache import DEFAULT_VARIANT
from .text import light_normalize, normalize

RANDOM_STATE = 0


class Normalizer(TransformerMixin, BaseEstimator):
    """A stateless sklearn step applying one of the text normalisers."""

    def __init__(self, full: bool = True) -> None:
        self.full = full

    def fit(self, x: object, y: object = None) -> Normalizer:
        return self

    def transform(self, texts: list[str]) -> list[str]:
        fn: Callable[[str], str] = normalize if self.full else light_normalize
        return [fn(t) for t in texts]


def _features(max_char: int = 5) -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, max_char), sublinear_tf=True, min_df=1,
                    dtype=np.float32,
                ),
            ),
            (
                "word",
                TfidfVectorizer(
                    analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=1,
                    token_pattern=r"(?u)\b\w+\b", dtype=np.float32,
                ),
            ),
        ]
    )


def _logreg(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=RANDOM_STATE)


def _svc_calibrated() -> CalibratedClassifierCV:
    svc = LinearSVC(C=0.5, class_weight="balanced", random_state=RANDOM_STATE)
    return CalibratedClassifierCV(svc, method="sigmoid", cv=3)


@dataclass(frozen=True, slots=True)
class Variant:
    """A named pipeline recipe."""

    name: str
    description: str
    build: Callable[[], Pipeline]


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant(
            "lr_c10",
            "normaliser + char_wb 2-5 + word 1-2 TF-IDF, LogisticRegression C=10",
            lambda: Pipeline([("norm", Normalizer()), ("tfidf", _features()), ("clf", _logreg(10.0))]),
        ),
        Variant(
            "lr_c30",
            "normaliser + char_wb 2-5 + word 1-2 TF-IDF, LogisticRegression C=30",
            lambda: Pipeline([("norm", Normalizer()), ("tfidf", _features()), ("clf", _logreg(30.0))]),
        ),
        Variant(
            "lr_c100",
            "normaliser + char_wb 2-5 + word 1-2 TF-IDF, LogisticRegression C=100",
            lambda: Pipeline([("norm", Normalizer()), ("tfidf", _features()), ("clf", _logreg(100.0))]),
        ),
        Variant(
            "svc_cal",
            "normaliser + char_wb 2-5 + word 1-2 TF-IDF, LinearSVC C=0.5 + sigmoid calibration (3-fold)",
            lambda: Pipeline([("norm", Normalizer()), ("tfidf", _features()), ("clf", _svc_calibrated())]),
        ),
        Variant(
            "lr_c10_raw",
            "lowercase/accents only + char_wb 2-5 + word 1-2 TF-IDF, LogisticRegression C=10",
            lambda: Pipeline(
                [("norm", Normalizer(full=False)), ("tfidf", _features()), ("clf", _logreg(10.0))]
            ),
        ),
    )
}



def build_pipeline(variant: str = DEFAULT_VARIANT) -> Pipeline:
    """A fresh, unfitted pipeline of the named variant."""
    try:
        return VARIANTS[variant].build()
    except KeyError:
        raise ValueError(f"unknown NLU variant {variant!r}; known: {', '.join(VARIANTS)}") from None

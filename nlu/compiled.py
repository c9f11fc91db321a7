"""The fitted classifier compiled to plain dictionaries and numpy arrays (no scikit-learn at run time).

`guichet triage --jsonl` and the chat doors only score messages: importing scikit-learn (and
SciPy behind it) costs seconds at start-up, and its `predict_proba` validates inputs and builds
sparse matrices for every call. `CompiledClassifier` reads the fitted vocabularies, idf weights
and coefficients of the TF-IDF + logistic-regression pipeline once and computes the same
probabilities (float32 rounding of scikit-learn aside, tested) for one message or a batch:

- char_wb n-grams never cross a word, so the vocabulary columns of each word are memoised
  (words repeat from one message to the next);
- a batch is scored with one vectorised pass: counts, sublinear tf, idf, l2 norm per block and
  the logits as segment sums of the coefficient rows, all in numpy.

It pickles without any scikit-learn object, so the model cache can hold it beside the pipeline.
"""

from __future__ import annotations

import itertools
import re
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .text import light_normalize, normalize

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

#: Words whose char_wb columns are memoised (bounded: the memo is cleared when full).
WORD_MEMO_SIZE = 200_000


@dataclass
class _CharBlock:
    """One char_wb TF-IDF block: columns of each word's n-grams, memoised per word."""

    vocabulary: dict[str, int]
    min_n: int
    max_n: int
    lowercase: bool
    memo: dict[str, list[int]] = field(default_factory=dict, repr=False)

    def word_columns(self, word: str) -> list[int]:
        cols = self.memo.get(word)
        if cols is not None:
            return cols
        vocab = self.vocabulary
        w = f" {word} "
        w_len = len(w)
        cols = []
        for n in range(self.min_n, self.max_n + 1):
            # The same n-grams as scikit-learn's `_char_wb_ngrams`.
            offset = 0
            col = vocab.get(w[offset : offset + n])
            if col is not None:
                cols.append(col)
            while offset + n < w_len:
                offset += 1
                col = vocab.get(w[offset : offset + n])
                if col is not None:
                    cols.append(col)
            if offset == 0:
                break
        if len(self.memo) >= WORD_MEMO_SIZE:
            self.memo.clear()
        self.memo[word] = cols
        return cols

    def columns(self, text: str) -> list[int]:
        if self.lowercase:
            text = text.lower()
        out: list[int] = []
        memo = self.memo
        for word in text.split():  # split() already ignores runs of white space
            cols = memo.get(word)
            out += cols if cols is not None else self.word_columns(word)
        return out

    def shifted(self, offset: int) -> _CharBlock:
        """The same block with its columns moved by `offset` (columns of the whole feature union)."""
        return _CharBlock({k: v + offset for k, v in self.vocabulary.items()}, self.min_n, self.max_n, self.lowercase)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "memo": {}}


@dataclass
class _WordBlock:
    """One word n-gram TF-IDF block."""

    vocabulary: dict[str, int]
    min_n: int
    max_n: int
    lowercase: bool
    token_pattern: re.Pattern[str]

    def columns(self, text: str) -> list[int]:
        if self.lowercase:
            text = text.lower()
        tokens = self.token_pattern.findall(text)
        vocab = self.vocabulary
        grams: list[str] = list(tokens) if self.min_n == 1 else []
        for n in range(max(self.min_n, 2), min(self.max_n, len(tokens)) + 1):
            if n == 2:
                grams += [a + " " + b for a, b in zip(tokens, tokens[1:])]
            else:
                grams += map(" ".join, zip(*(tokens[k:] for k in range(n))))
        return [c for c in map(vocab.get, grams) if c is not None]

    def shifted(self, offset: int) -> _WordBlock:
        """The same block with its columns moved by `offset` (columns of the whole feature union)."""
        return _WordBlock(
            {k: v + offset for k, v in self.vocabulary.items()}, self.min_n, self.max_n, self.lowercase,
            self.token_pattern,
        )


class CompiledClassifier:
    """`pipeline.predict_proba` for the normaliser + TF-IDF union + logistic regression pipeline."""

    def __init__(self, pipeline: Pipeline) -> None:
        from sklearn.linear_model import LogisticRegression

        steps = dict(pipeline.named_steps)
        normalizer, union, clf = steps["norm"], steps["tfidf"], steps["clf"]
        if not isinstance(clf, LogisticRegression) or len(clf.classes_) < 3:
            raise TypeError("the compiled path covers multinomial logistic regression only")
        self.full_normalizer = bool(normalizer.full)
        self.classes: tuple[str, ...] = tuple(str(c) for c in clf.classes_)
        blocks: list[_CharBlock | _WordBlock] = []
        offsets: list[int] = []
        idf: list[np.ndarray] = []
        offset = 0
        for _name, vec in union.transformer_list:
            if vec.norm != "l2" or not vec.use_idf or not vec.sublinear_tf:
                raise TypeError("the compiled path expects l2-normalised sublinear TF-IDF")
            if vec.preprocessor is not None or vec.tokenizer is not None or vec.strip_accents:
                raise TypeError("the compiled path expects the default preprocessing")
            if vec.stop_words is not None:
                raise TypeError("the compiled path expects no stop words")
            vocab = {str(k): int(v) for k, v in vec.vocabulary_.items()}
            min_n, max_n = vec.ngram_range
            if vec.analyzer == "char_wb":
                blocks.append(_CharBlock(vocab, min_n, max_n, vec.lowercase))
            elif vec.analyzer == "word":
                blocks.append(_WordBlock(vocab, min_n, max_n, vec.lowercase, re.compile(vec.token_pattern)))
            else:
                raise TypeError(f"the compiled path does not cover analyzer {vec.analyzer!r}")
            offsets.append(offset)
            idf.append(vec.idf_.astype(np.float64))
            offset += len(vocab)
        self.blocks = tuple(blocks)
        self.offsets = tuple(offsets)
        self.idf = np.concatenate(idf)
        self.coef_t = np.ascontiguousarray(clf.coef_.T, dtype=np.float64)  # features x classes
        self.intercept = clf.intercept_.astype(np.float64)

    def normalize(self, text: str) -> str:
        return normalize(text) if self.full_normalizer else light_normalize(text)

    def predict_proba(self, text: str) -> np.ndarray:
        """Probabilities of one text (in the order of `classes`)."""
        return self.predict_proba_many([text])[0]

    def _union_blocks(self) -> tuple[_CharBlock | _WordBlock, ...]:
        """The blocks with their columns already shifted into the union's (built once, not pickled)."""
        blocks = self.__dict__.get("_shifted")
        if blocks is None:
            blocks = tuple(b.shifted(o) for b, o in zip(self.blocks, self.offsets, strict=True))
            self.__dict__["_shifted"] = blocks
        return blocks

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_shifted"}

    def predict_proba_many(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities of every text, one row each, in one vectorised pass."""
        blocks = self._union_blocks()
        n_blocks = len(blocks)
        n_rows = len(texts)
        # Machine integers from the start: numpy reads them without converting Python ints.
        cols_all = array("q")
        tf_all = array("q")
        lengths: list[int] = []
        for text in texts:
            normalized = self.normalize(text)
            cols: list[int] = []
            for block in blocks:
                cols += block.columns(normalized)
            counts = Counter(cols)  # the blocks' columns are disjoint: one count for the row
            cols_all.extend(counts)
            tf_all.extend(counts.values())
            lengths.append(len(counts))
        logits = np.tile(self.intercept, (n_rows, 1))
        if cols_all:
            cols_arr = np.frombuffer(cols_all, dtype=np.int64).astype(np.intp, copy=False)
            seg = np.repeat(np.arange(0, n_rows * n_blocks, n_blocks, dtype=np.intp), lengths)
            for offset in self.offsets[1:]:  # the block of each column, from the blocks' offsets
                seg += cols_arr >= offset
            vals = (1.0 + np.log(np.frombuffer(tf_all, dtype=np.int64).astype(np.float64))) * self.idf[cols_arr]
            norms = np.sqrt(np.bincount(seg, weights=vals * vals, minlength=n_rows * n_blocks))
            norms[norms == 0.0] = 1.0
            vals /= norms[seg]
            # Row by row: each row's coefficient rows stay in cache (one product for the whole
            # batch would first copy nnz x classes floats).
            bounds = np.r_[0, np.cumsum(lengths)].tolist()
            coef_t = self.coef_t
            for row, (lo, hi) in enumerate(itertools.pairwise(bounds)):
                if hi > lo:
                    logits[row] += vals[lo:hi] @ coef_t[cols_arr[lo:hi]]
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

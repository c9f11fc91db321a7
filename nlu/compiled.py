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

import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .text import light_normalize, normalize

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

#: Words whose char_wb columns are memoised (bounded: the memo is cleared when full).
WORD_MEMO_SIZE = 200_000
#: Rows whose gathered coefficient rows are summed in one product (sized for the CPU cache).
_ROWS_PER_PRODUCT = 32


@dataclass
class _CharBlock:
    """One char_wb TF-IDF block: columns of each word's n-grams, memoised per word."""

    vocabulary: dict[str, int]
    min_n: int
    max_n: int
    lowercase: bool
    memo: dict[str, bytes] = field(default_factory=dict, repr=False)

    def word_columns(self, word: str) -> bytes:
        """The vocabulary columns of one word's n-grams, as machine integers (int32), memoised."""
        cols = self.memo.get(word)
        if cols is not None:
            return cols
        vocab = self.vocabulary
        w = f" {word} "
        w_len = len(w)
        found = array("i")
        for n in range(self.min_n, self.max_n + 1):
            # The same n-grams as scikit-learn's `_char_wb_ngrams`.
            offset = 0
            col = vocab.get(w[offset : offset + n])
            if col is not None:
                found.append(col)
            while offset + n < w_len:
                offset += 1
                col = vocab.get(w[offset : offset + n])
                if col is not None:
                    found.append(col)
            if offset == 0:
                break
        if len(self.memo) >= WORD_MEMO_SIZE:
            self.memo.clear()
        self.memo[word] = cols = found.tobytes()
        return cols

    def column_bytes(self, text: str) -> bytes:
        """The columns of every n-gram of `text` (repeats included), as int32 machine integers."""
        if self.lowercase:
            text = text.lower()
        memo = self.memo
        get = memo.get
        # split() already ignores runs of white space
        return b"".join([
            cols if (cols := get(word)) is not None else self.word_columns(word) for word in text.split()
        ])

    def word_bytes(self, words: list[str]) -> bytes:
        """`column_bytes` of a text already lowercased and split into words."""
        get = self.memo.get
        return b"".join([cols if (cols := get(word)) is not None else self.word_columns(word) for word in words])

    def columns(self, text: str) -> list[int]:
        return array("i", self.column_bytes(text)).tolist()

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

    def column_bytes(self, text: str) -> bytes:
        return array("i", self.columns(text)).tobytes()

    def word_bytes(self, tokens: list[str]) -> bytes:
        """`column_bytes` of a text whose tokens are `tokens` (already lowercased)."""
        vocab = self.vocabulary
        grams: list[str] = list(tokens) if self.min_n == 1 else []
        for n in range(max(self.min_n, 2), min(self.max_n, len(tokens)) + 1):
            if n == 2:
                grams += [a + " " + b for a, b in zip(tokens, tokens[1:])]
            else:
                grams += map(" ".join, zip(*(tokens[k:] for k in range(n))))
        return array("i", [c for c in map(vocab.get, grams) if c is not None]).tobytes()

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

    def _split_blocks(self) -> bool:
        """Whether every block may read the full normaliser's output split on white space: char_wb
        blocks split on it anyway, and a word block whose tokens are runs of word characters finds
        exactly those words (the normaliser leaves nothing else, lowercase)."""
        if not self.full_normalizer:
            return False
        return all(
            isinstance(b, _CharBlock)
            or (isinstance(b, _WordBlock) and b.token_pattern.pattern in (r"(?u)\b\w+\b", r"\b\w+\b"))
            for b in self.blocks
        )

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_shifted"}

    def predict_proba_many(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities of every text, one row each, in one vectorised pass."""
        blocks = self._union_blocks()
        n_blocks = len(blocks)
        n_rows = len(texts)
        n_features = len(self.idf)
        # Each row's columns (n-gram repeats included) as int32 machine integers: the char block's
        # are memoised per word as bytes, so a row is a join of a few byte strings.
        rows: list[bytes] = []
        lengths: list[int] = []
        normalize = self.normalize
        if self._split_blocks():
            # The normaliser's output is lowercase words of word characters separated by single
            # spaces: both blocks read its `split()` (the same tokens as their patterns find).
            for text in texts:
                words = normalize(text).split()
                row = b"".join([block.word_bytes(words) for block in blocks])
                rows.append(row)
                lengths.append(len(row) >> 2)
        else:
            for text in texts:
                normalized = normalize(text)
                row = b"".join([block.column_bytes(normalized) for block in blocks])
                rows.append(row)
                lengths.append(len(row) >> 2)
        logits = np.tile(self.intercept, (n_rows, 1))
        total = sum(lengths)
        if total:
            # Count each row's columns at once: sort the (row, column) keys of the whole batch.
            wide = n_rows * n_features >= 2**31
            cols = np.frombuffer(b"".join(rows), dtype=np.int32)
            keys = np.repeat(np.arange(n_rows, dtype=np.int64 if wide else np.int32), lengths)
            keys *= n_features
            keys += cols
            keys.sort()
            first = np.empty(total, dtype=bool)
            first[0] = True
            np.not_equal(keys[1:], keys[:-1], out=first[1:])
            starts = np.flatnonzero(first)
            unique = keys[starts]
            tf = np.diff(np.append(starts, total))
            row_of = unique // n_features
            cols_arr = (unique - row_of * n_features).astype(np.intp)
            row_of = row_of.astype(np.intp)
            seg = row_of * n_blocks
            for offset in self.offsets[1:]:  # the block of each column, from the blocks' offsets
                seg += cols_arr >= offset
            vals = (1.0 + np.log(tf)) * self.idf[cols_arr]
            norms = np.sqrt(np.bincount(seg, weights=vals * vals, minlength=n_rows * n_blocks))
            norms[norms == 0.0] = 1.0
            vals /= norms[seg]
            # The logits as segment sums of the coefficient rows, a few rows at a time (the
            # gathered coefficients of a block of rows stay in cache).
            per_row = np.bincount(row_of, minlength=n_rows)
            bounds = np.zeros(n_rows + 1, dtype=np.intp)
            np.cumsum(per_row, out=bounds[1:])
            coef_t = self.coef_t
            bounds_list = bounds.tolist()
            for lo in range(0, n_rows, _ROWS_PER_PRODUCT):
                hi = min(n_rows, lo + _ROWS_PER_PRODUCT)
                a, b = bounds_list[lo], bounds_list[hi]
                if b == a:
                    continue
                gathered = coef_t[cols_arr[a:b]]
                gathered *= vals[a:b, None]
                filled = per_row[lo:hi] > 0
                block = logits[lo:hi]
                block[filled] += np.add.reduceat(gathered, bounds[lo:hi][filled] - a, axis=0)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

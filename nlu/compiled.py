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
import threading
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
_VECTORS_LOCK = threading.Lock()
#: Entries whose gathered coefficient rows are summed in one product (sized for the CPU cache).
_ENTRIES_PER_PRODUCT = 4096


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
        return {k: v for k, v in self.__dict__.items() if k not in ("_shifted", "_vectors")}

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
            if n_rows == 1:
                return self._predict_row(normalize(texts[0]).split())
            return self._predict_split([normalize(text).split() for text in texts])
        for text in texts:
            normalized = normalize(text)
            row = b"".join([block.column_bytes(normalized) for block in blocks])
            rows.append(row)
            lengths.append(len(row) >> 2)
        logits = np.tile(self.intercept, (n_rows, 1))
        if sum(lengths):
            row_of, cols_arr, tf, seg = self._count(rows, lengths)
            vals = (1.0 + np.log(tf)) * self.idf[cols_arr]
            norms = np.sqrt(np.bincount(seg, weights=vals * vals, minlength=n_rows * n_blocks))
            norms[norms == 0.0] = 1.0
            vals /= norms[seg]
            _add_products(logits, row_of, self.coef_t, cols_arr, vals)
        return _softmax(logits)

    def _count(self, rows: list[bytes], lengths: list[int]) -> tuple[np.ndarray, ...]:
        """Row, column, count and (row, block) segment of every distinct column of every row, in
        (row, column) order: one sort of the batch's keys."""
        n_rows = len(rows)
        n_features = len(self.idf)
        total = sum(lengths)
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
        seg = row_of * len(self.blocks)
        for offset in self.offsets[1:]:  # the block of each column, from the blocks' offsets
            seg += cols_arr >= offset
        return row_of, cols_arr, tf, seg

    def _predict_split(self, words_of: list[list[str]]) -> np.ndarray:
        """`predict_proba_many` on the normaliser's words.

        A char_wb block's part of a row's logits is, before its l2 norm, the sum over its distinct
        n-grams of (1 + log tf) * idf * coefficients. Each word's n-grams once each (tf 1) are
        summed once per word and memoised (`_WordVectors`): the row adds its words' sums, then
        corrects only the n-grams that occur more than once in it. Word n-gram blocks are summed
        entry by entry.
        """
        with _VECTORS_LOCK:  # the word tables are shared by the threads of the process
            return self._predict_split_locked(words_of)

    def _predict_split_locked(self, words_of: list[list[str]]) -> np.ndarray:
        blocks = self._union_blocks()
        n_blocks = len(blocks)
        n_rows = len(words_of)
        vectors = self._word_vectors()
        for table in vectors:
            if table is not None:
                table.bound()
        rows: list[bytes] = []
        lengths: list[int] = []
        ids: list[array] = [array("i") for _ in blocks]
        counts: list[list[int]] = [[] for _ in blocks]
        for words in words_of:
            row = []
            for b, block in enumerate(blocks):
                row.append(block.word_bytes(words))
                table = vectors[b]
                if table is not None:
                    ids[b].extend(table.ids(words))
                    counts[b].append(len(words))
            joined = b"".join(row)
            rows.append(joined)
            lengths.append(len(joined) >> 2)
        logits = np.tile(self.intercept, (n_rows, 1))
        if not sum(lengths):
            return _softmax(logits)
        row_of, cols_arr, tf, seg = self._count(rows, lengths)
        idf = self.idf[cols_arr]
        log_tf = 1.0 + np.log(tf)
        vals = log_tf * idf
        norms = np.sqrt(np.bincount(seg, weights=vals * vals, minlength=n_rows * n_blocks))
        norms[norms == 0.0] = 1.0
        weights = vals / norms[seg]
        char_block = np.zeros(n_blocks, dtype=bool)
        for b, table in enumerate(vectors):
            if table is None:
                continue
            char_block[b] = True
            # The words' sums (every n-gram at tf 1), scaled by the row's norm of this block.
            table.flush(self)
            word_rows = np.repeat(np.arange(n_rows, dtype=np.intp), counts[b])
            word_ids = np.frombuffer(ids[b], dtype=np.int32).astype(np.intp)
            scale = 1.0 / norms[word_rows * n_blocks + b]
            _add_products(logits, word_rows, table.vectors, word_ids, scale)
        # Entry by entry: word n-gram blocks, and the repeated n-grams of char blocks (their
        # (1 + log tf) instead of the tf times counted in the words' sums).
        in_char = char_block[seg - row_of * n_blocks]
        repeated = tf > 1
        weights[in_char] = np.where(repeated[in_char], (log_tf[in_char] - tf[in_char]) * idf[in_char], 0.0)
        weights[in_char] /= norms[seg[in_char]]
        keep = ~in_char | repeated
        _add_products(logits, row_of[keep], self.coef_t, cols_arr[keep], weights[keep])
        return _softmax(logits)

    def _predict_row(self, words: list[str]) -> np.ndarray:
        """One message: the fewest numpy calls (one sort, one product), no per-word tables."""
        blocks = self._union_blocks()
        cols = np.frombuffer(b"".join([block.word_bytes(words) for block in blocks]), dtype=np.int32)
        logits = self.intercept.copy()
        if len(cols):
            unique, tf = np.unique(cols, return_counts=True)
            unique = unique.astype(np.intp)
            vals = (1.0 + np.log(tf)) * self.idf[unique]
            # Columns are sorted, so each block's entries are one slice.
            cuts = [0, *np.searchsorted(unique, self.offsets[1:]).tolist(), len(unique)]
            for lo, hi in itertools.pairwise(cuts):
                if hi > lo:
                    part = vals[lo:hi]
                    norm = float(np.sqrt(part @ part))
                    if norm:
                        part /= norm
            logits += vals @ self.coef_t[unique]
        return _softmax(logits[None, :])

    def _word_vectors(self) -> list[_WordVectors | None]:
        """Per block: the memoised per-word sums of a char_wb block (None for other blocks)."""
        tables = self.__dict__.get("_vectors")
        if tables is None:
            tables = [
                _WordVectors(block, len(self.intercept)) if isinstance(block, _CharBlock) else None
                for block in self._union_blocks()
            ]
            self.__dict__["_vectors"] = tables
        return tables



def _softmax(logits: np.ndarray) -> np.ndarray:
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def _add_products(
    logits: np.ndarray, rows: np.ndarray, source: np.ndarray, index: np.ndarray, weights: np.ndarray
) -> None:
    """logits[r] += sum of weights[i] * source[index[i]] over the entries i of row r (`rows`
    ascending), a slice of entries at a time (the gathered source rows stay in cache)."""
    total = len(rows)
    for lo in range(0, total, _ENTRIES_PER_PRODUCT):
        hi = min(total, lo + _ENTRIES_PER_PRODUCT)
        part = rows[lo:hi]
        gathered = source[index[lo:hi]]
        gathered *= weights[lo:hi, None]
        starts = np.flatnonzero(np.r_[True, part[1:] != part[:-1]])
        logits[part[starts]] += np.add.reduceat(gathered, starts, axis=0)


class _WordVectors:
    """A char_wb block's per-word sums of idf * coefficients over the word's n-grams (at tf 1,
    repeats within the word included), memoised by word id; vectors of new words are computed
    in one pass (`flush`) before they are read."""

    def __init__(self, block: _CharBlock, n_classes: int) -> None:
        self.block = block
        self.index: dict[str, int] = {}
        self.vectors = np.zeros((1024, n_classes))
        self.pending: list[str] = []
        self.ready = 0  # ids below this have their vector

    def ids(self, words: list[str]) -> list[int]:
        index = self.index
        get = index.get
        out = [i if (i := get(w)) is not None else -1 for w in words]
        if -1 in out:
            for k, w in enumerate(words):
                if out[k] == -1:
                    i = index.get(w)
                    if i is None:
                        i = index[w] = len(index)
                        self.pending.append(w)
                    out[k] = i
        return out

    def bound(self) -> None:
        """Forget every word when the table is full (before a batch hands out any id)."""
        if len(self.index) >= WORD_MEMO_SIZE:
            self.index.clear()
            self.pending = []
            self.ready = 0

    def flush(self, owner: CompiledClassifier) -> None:
        if not self.pending:
            return
        need = len(self.index)
        if need > len(self.vectors):
            grown = np.zeros((max(need, 2 * len(self.vectors)), self.vectors.shape[1]))
            grown[: self.ready] = self.vectors[: self.ready]
            self.vectors = grown
        pieces = [self.block.word_columns(w) for w in self.pending]
        lengths = [len(p) >> 2 for p in pieces]
        cols = np.frombuffer(b"".join(pieces), dtype=np.int32).astype(np.intp)
        first = self.ready
        self.vectors[first : first + len(pieces)] = 0.0
        if len(cols):
            rows = np.repeat(np.arange(first, first + len(pieces), dtype=np.intp), lengths)
            _add_products(self.vectors, rows, owner.coef_t, cols, owner.idf[cols])
        self.ready = first + len(pieces)
        self.pending = []

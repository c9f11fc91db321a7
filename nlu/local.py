"""The in-process NLU (embedded default): trained from nlu/data at first use, cached on disk."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import sklearn
from sklearn.pipeline import Pipeline

from domain.vocabulary import Intent

from .cache import CODE_VERSION, ModelCache, default_cache_dir
from .classifier import DEFAULT_VARIANT, build_pipeline
from .entities import EntityExtractor
from .fast_scorer import FastScorer
from .language import ENGLISH, detect_language, french_gloss
from .result import MAX_RANKING, IntentScore, ParseResult
from .training_data import DEFAULT_DATA_DIR, Example, TrainingData, TrainingDataError, load_training_data

log = logging.getLogger(__name__)

#: Characters of a message the classifier reads (long e-mails say what matters early).
MAX_CLASSIFIED_CHARS = 4000
#: Characters searched for entities.
MAX_ENTITY_CHARS = 20000
#: Messages classified per vectorised chunk (bounds memory in `parse_many`).
BATCH = 2048
#: Texts longer than this are parsed in a worker thread by `aparse`.
THREAD_THRESHOLD_CHARS = 2000

# Fitted models shared by every LocalNlu of the process, by cache key.
_MEMORY: dict[str, FittedModel] = {}
_MEMORY_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class FittedModel:
    """A trained classifier and entity extractor."""

    pipeline: Pipeline
    classes: tuple[Intent, ...]
    extractor: EntityExtractor
    variant: str
    examples: int


def classified_text(text: str) -> str:
    """What the classifier reads: the head of the message, an English one glossed into French."""
    head = text[:MAX_CLASSIFIED_CHARS]
    return french_gloss(head) if detect_language(head) == ENGLISH else head


def usable_examples(data: TrainingData) -> list[Example]:
    """Examples whose intent Guichet knows (others are ignored with a warning)."""
    known = {i.value for i in Intent}
    unknown = sorted({ex.intent for ex in data.examples} - known)
    if unknown:
        log.warning("ignoring training examples of unknown intents: %s", ", ".join(unknown))
    return [ex for ex in data.examples if ex.intent in known]


def fit_model(data: TrainingData, variant: str = DEFAULT_VARIANT) -> FittedModel:
    """Train the classifier and build the entity extractor from `data`."""
    examples = usable_examples(data)
    if len({ex.intent for ex in examples}) < 2:
        raise TrainingDataError("the NLU needs training examples of at least two intents in nlu/data/*.yml")
    pipeline = build_pipeline(variant)
    pipeline.fit([ex.text for ex in examples], [ex.intent for ex in examples])
    classes = tuple(Intent(c) for c in pipeline.classes_)
    return FittedModel(pipeline, classes, EntityExtractor.from_training_data(data), variant, len(examples))


def cache_key(data: TrainingData, variant: str) -> str:
    """Hash of the data files, the code version, the variant and scikit-learn's version."""
    raw = f"{data.fingerprint}|{CODE_VERSION}|{variant}|{sklearn.__version__}|{np.__version__}"
    return hashlib.sha256(raw.encode()).hexdigest()


class LocalNlu:
    """Intent classification and entity extraction in this process, CPU only, deterministic."""

    def __init__(
        self,
        data_dir: Path | str | None = None,
        *,
        cache_dir: Path | str | None | Literal[False] = None,
        variant: str = DEFAULT_VARIANT,
        training_data: TrainingData | None = None,
    ) -> None:
        """`cache_dir=None` uses $GUICHET_NLU_CACHE or ./var/nlu-cache; False keeps models in memory."""
        self.data_dir = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
        self.variant = variant
        self._training_data = training_data
        if cache_dir is False:
            self._cache = ModelCache(None)
        else:
            self._cache = ModelCache(Path(cache_dir) if cache_dir is not None else default_cache_dir())
        self._model: FittedModel | None = None
        self._lock = threading.Lock()
        self._scorer: FastScorer | None = None
        self._scorer_for: FittedModel | None = None
        self.loaded_from: Literal["memory", "disk", "training"] | None = None

    @property
    def is_loaded(self) -> bool:
        return self._model is not None

    def model(self) -> FittedModel:
        """The fitted model: from this process, the disk cache, or trained now."""
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def _load(self) -> FittedModel:
        data = self._training_data or load_training_data(self.data_dir)
        key = cache_key(data, self.variant)
        with _MEMORY_LOCK:
            if key in _MEMORY:
                self.loaded_from = "memory"
                return _MEMORY[key]
        model = self._cache.load(key)
        if isinstance(model, FittedModel):
            self.loaded_from = "disk"
        else:
            log.info("training the local NLU (%s) on %d examples", self.variant, len(data.examples))
            model = fit_model(data, self.variant)
            self._cache.store(key, model)
            self.loaded_from = "training"
        with _MEMORY_LOCK:
            _MEMORY[key] = model
        return model

    def parse(self, text: str) -> ParseResult:
        """Intent, confidence, ranking and entities of one message (fast path when possible)."""
        model = self.model()
        scorer = self._fast_scorer(model)
        if scorer is None or not text or not text.strip():
            return self.parse_many([text])[0]
        return self._result(model, text, scorer.predict_proba(classified_text(text)))

    def _fast_scorer(self, model: FittedModel) -> FastScorer | None:
        """The per-message scorer of this model, built once (None for other model kinds)."""
        if self._scorer_for is not model:
            try:
                self._scorer = FastScorer(model.pipeline)
            except (TypeError, KeyError, AttributeError):
                self._scorer = None
            self._scorer_for = model
        return self._scorer

    def parse_many(self, texts: Sequence[str]) -> list[ParseResult]:
        """Parse a batch with one vectorised classification per chunk."""
        model = self.model()
        results: list[ParseResult] = []
        for offset in range(0, len(texts), BATCH):
            chunk = list(texts[offset : offset + BATCH])
            present = [i for i, t in enumerate(chunk) if t and t.strip()]
            probs = (
                model.pipeline.predict_proba([classified_text(chunk[i]) for i in present])
                if present
                else np.zeros((0, len(model.classes)))
            )
            row_of = {i: n for n, i in enumerate(present)}
            for i, text in enumerate(chunk):
                if i not in row_of:
                    results.append(ParseResult(text or "", Intent.OUT_OF_SCOPE, 0.0))
                    continue
                results.append(self._result(model, text, probs[row_of[i]]))
        return results

    @staticmethod
    def _result(model: FittedModel, text: str, probs: np.ndarray) -> ParseResult:
        order = np.argsort(-probs, kind="stable")[:MAX_RANKING]
        ranking = tuple(IntentScore(model.classes[j], round(float(probs[j]), 6)) for j in order)
        language = detect_language(text[:MAX_CLASSIFIED_CHARS])
        entities = tuple(model.extractor.extract(text[:MAX_ENTITY_CHARS]))
        if not entities and language == ENGLISH:
            # English device names: found in the French gloss, without offsets into the text.
            entities = tuple(
                replace(e, start=0, end=0, extractor="gloss")
                for e in model.extractor.extract(french_gloss(text[:MAX_ENTITY_CHARS]))
            )
        return ParseResult(text, ranking[0].intent, ranking[0].confidence, ranking, entities, language)

    async def aparse(self, text: str) -> ParseResult:
        """`parse` for the event loop: in a thread when it could block (first load, long text)."""
        if not self.is_loaded or len(text) > THREAD_THRESHOLD_CHARS:
            return await asyncio.to_thread(self.parse, text)
        return self.parse(text)


def clear_memory() -> None:
    """Forget the models shared in this process (tests use it to exercise the disk cache)."""
    with _MEMORY_LOCK:
        _MEMORY.clear()

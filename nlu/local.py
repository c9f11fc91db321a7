"""The in-process NLU (embedded default): trained from nlu/data at first use, cached on disk."""

from __future__ import annotations

import hashlib
import logging
import pickle
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from importlib.metadata import version
from typing import TYPE_CHECKING

import numpy as np

from domain.vocabulary import EntityType, Intent

from . import lexicon
from .cache import CODE_VERSION, DEFAULT_VARIANT, ModelCache, default_cache_dir
from .compiled import CompiledClassifier
from .entities import NETWORK_DEVICES, EntityExtractor
from .language import ENGLISH, detect_language, french_gloss, without_switch_verb
from .result import MAX_RANKING, EntitySpan, IntentScore, ParseResult
from .training_data import (
    DEFAULT_DATA_DIR,
    Example,
    TrainingData,
    TrainingDataError,
    data_files,
    fingerprint,
    load_training_data,
)

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

log = logging.getLogger(__name__)


#: Characters of a message the classifier reads (long e-mails say what matters early).
MAX_CLASSIFIED_CHARS = 4000
#: Characters searched for entities.
MAX_ENTITY_CHARS = 20000
#: Messages classified per vectorised chunk (bounds memory in `parse_many`).
BATCH = 2048
#: Texts longer than this are parsed in a worker thread by `aparse`.
THREAD_THRESHOLD_CHARS = 2000

# Fitted and compiled models shared by every LocalNlu of the process, by cache key.
_MEMORY: dict[str, FittedModel] = {}
_COMPILED_MEMORY: dict[str, CompiledModel] = {}
_MEMORY_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class FittedModel:
    """A trained classifier and entity extractor."""

    pipeline: Pipeline
    classes: tuple[Intent, ...]
    extractor: EntityExtractor
    variant: str
    examples: int


@dataclass(frozen=True, slots=True)
class CompiledModel:
    """What parsing needs, without any scikit-learn object: the compiled classifier and extractor."""

    classifier: CompiledClassifier | None  # None: another model kind, scored by its pipeline
    classes: tuple[Intent, ...]
    extractor: EntityExtractor
    fitted: FittedModel | None = None  # kept when compiled in this process (evaluation, fallback)

    @classmethod
    def of(cls, model: FittedModel) -> CompiledModel:
        try:
            classifier: CompiledClassifier | None = CompiledClassifier(model.pipeline)
        except (TypeError, KeyError, AttributeError):
            classifier = None
        return cls(classifier, model.classes, model.extractor, model)

    def predict_proba_many(self, texts: Sequence[str]) -> np.ndarray:
        if self.classifier is not None:
            return self.classifier.predict_proba_many(texts)
        assert self.fitted is not None
        return self.fitted.pipeline.predict_proba(list(texts))

    def __getstate__(self) -> tuple[object, ...]:
        return (self.classifier, self.classes, self.extractor)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        for name, value in zip(("classifier", "classes", "extractor"), state, strict=True):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "fitted", None)


def classified_text(text: str, language: str | None = None) -> str:
    """What the classifier reads: the head of the message, an English one glossed into French."""
    head = text[:MAX_CLASSIFIED_CHARS]
    if language is None:
        language = detect_language(head)
    return french_gloss(head) if language == ENGLISH else head


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
    from .classifier import build_pipeline

    pipeline = build_pipeline(variant)
    pipeline.fit([ex.text for ex in examples], [ex.intent for ex in examples])
    classes = tuple(Intent(c) for c in pipeline.classes_)
    return FittedModel(pipeline, classes, EntityExtractor.from_training_data(data), variant, len(examples))


def cache_key(data: TrainingData, variant: str) -> str:
    """Hash of the data files, the code version, the variant and scikit-learn's version."""
    return _key_of(data.fingerprint, variant)


def _lexicon_hash() -> str:
    """The built-in lexicon is pickled into the model's extractor: an edit of it is a new model."""
    path = Path(lexicon.__file__)
    stamp = (str(path), path.stat().st_mtime_ns)
    cached = _LEXICON_HASH.get(stamp)
    if cached is None:
        cached = _LEXICON_HASH[stamp] = hashlib.sha256(path.read_bytes()).hexdigest()
    return cached


_LEXICON_HASH: dict[tuple[str, int], str] = {}


def _key_of(data_fingerprint: str, variant: str) -> str:
    raw = f"{data_fingerprint}|{CODE_VERSION}|{_lexicon_hash()}|{variant}|{version('scikit-learn')}|{np.__version__}"
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
        self._compiled: CompiledModel | None = None
        self._lock = threading.Lock()
        self.loaded_from: Literal["memory", "disk", "training"] | None = None

    @property
    def is_loaded(self) -> bool:
        return self._model is not None or self._compiled is not None

    def model(self) -> FittedModel:
        """The fitted scikit-learn model: from this process, the disk cache, or trained now."""
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def compiled(self) -> CompiledModel:
        """What parsing uses: the compiled model (from this process, the disk cache, or the fitted one).

        Loading it from the cache imports neither scikit-learn nor SciPy.
        """
        compiled = self._compiled
        if compiled is not None and (self._model is None or compiled.fitted is self._model):
            return compiled
        with self._lock:
            if self._model is not None:  # set by the caller (cross-validation) or loaded before
                if self._compiled is None or self._compiled.fitted is not self._model:
                    self._compiled = CompiledModel.of(self._model)
            elif self._compiled is None:
                self._compiled = self._load_compiled()
            return self._compiled

    def _key(self) -> tuple[TrainingData, str]:
        data = self._training_data or load_training_data(self.data_dir)
        return data, cache_key(data, self.variant)

    def _key_only(self) -> str:
        """The cache key without parsing the data files (their hash is enough to find a model)."""
        if self._training_data is not None:
            return cache_key(self._training_data, self.variant)
        return _key_of(fingerprint(data_files(self.data_dir)), self.variant)

    def _load_compiled(self) -> CompiledModel:
        key = self._key_only()
        with _MEMORY_LOCK:
            if key in _COMPILED_MEMORY:
                self.loaded_from = "memory"
                return _COMPILED_MEMORY[key]
        compiled = _unpickle(self._cache.load(key), "compiled")
        if isinstance(compiled, CompiledModel):
            self.loaded_from = "disk"
        else:
            data, key = self._key()
            compiled = CompiledModel.of(self._load(data, key))
        with _MEMORY_LOCK:
            _COMPILED_MEMORY[key] = compiled
        return compiled

    def _load(self, data: TrainingData | None = None, key: str | None = None) -> FittedModel:
        if data is None or key is None:
            data, key = self._key()
        with _MEMORY_LOCK:
            if key in _MEMORY:
                self.loaded_from = "memory"
                return _MEMORY[key]
        model = _unpickle(self._cache.load(key), "fitted")
        if isinstance(model, FittedModel):
            self.loaded_from = "disk"
        else:
            log.info("training the local NLU (%s) on %d examples", self.variant, len(data.examples))
            model = fit_model(data, self.variant)
            # One file, two pickles: the compiled model is read without unpickling (importing)
            # any scikit-learn object; the fitted pipeline only when asked for.
            self._cache.store(key, {
                "compiled": pickle.dumps(CompiledModel.of(model), protocol=pickle.HIGHEST_PROTOCOL),
                "fitted": pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL),
            })
            self.loaded_from = "training"
        with _MEMORY_LOCK:
            _MEMORY[key] = model
        return model

    def parse(self, text: str) -> ParseResult:
        """Intent, confidence, ranking and entities of one message."""
        return self.parse_many([text])[0]

    def parse_many(
        self,
        texts: Sequence[str],
        *,
        routing_only: bool = False,
        ranking: int = MAX_RANKING,
        entities: bool = True,
    ) -> list[ParseResult]:
        """Parse a batch with one vectorised classification per chunk.

        `routing_only` keeps what routing reads: the top intent (the ranking holds it alone) and
        the main equipment entity (the same one as a full parse; no rooms, codes, schools or
        quantities in `entities`). `ranking` bounds the intent ranking (its head is the same);
        `entities=False` leaves the entities out (`with_entities` adds them later).
        """
        model = self.compiled()
        results: list[ParseResult] = []
        kept = 1 if routing_only else max(1, min(ranking, MAX_RANKING))
        for offset in range(0, len(texts), BATCH):
            chunk = list(texts[offset : offset + BATCH])
            present = [i for i, t in enumerate(chunk) if t and t.strip()]
            languages = {i: detect_language(chunk[i][:MAX_CLASSIFIED_CHARS]) for i in present}
            probs = (
                model.predict_proba_many([classified_text(chunk[i], languages[i]) for i in present])
                if present
                else np.zeros((0, len(model.classes)))
            )
            # Rankings of the whole chunk at once (the same order as a stable sort per row).
            orders = np.argsort(-probs, axis=1, kind="stable")[:, :kept]
            scores = np.take_along_axis(probs, orders, axis=1).tolist()
            orders_list = orders.tolist()
            row_of = {i: n for n, i in enumerate(present)}
            for i, text in enumerate(chunk):
                row = row_of.get(i)
                if row is None:
                    results.append(ParseResult(text or "", Intent.OUT_OF_SCOPE, 0.0))
                    continue
                results.append(
                    self._result(model, text, orders_list[row], scores[row], languages[i], routing_only, entities)
                )
        return results

    def with_entities(self, result: ParseResult, *, routing_only: bool = False) -> ParseResult:
        """`result` (parsed with `entities=False`) with the entities `parse_many` would have found."""
        entities = _entities(self.compiled(), result.text, result.language, routing_only, result.intent)
        return replace(result, entities=entities)

    @staticmethod
    def _result(
        model: CompiledModel,
        text: str,
        order: list[int],
        scores: list[float],
        language: str,
        routing_only: bool = False,
        entities: bool = True,
    ) -> ParseResult:
        classes = model.classes
        ranking = tuple(IntentScore(classes[j], round(p, 6)) for j, p in zip(order, scores, strict=True))
        found = _entities(model, text, language, routing_only, ranking[0].intent) if entities else ()
        return ParseResult(text, ranking[0].intent, ranking[0].confidence, ranking, found, language)

    async def aparse(self, text: str) -> ParseResult:
        """`parse` for the event loop: in a thread when it could block (first load, long text)."""
        if not self.is_loaded or len(text) > THREAD_THRESHOLD_CHARS:
            import asyncio  # here: `guichet triage` never loads the event loop's modules

            return await asyncio.to_thread(self.parse, text)
        return self.parse(text)


def _entities(
    model: CompiledModel, text: str, language: str, routing_only: bool, intent: Intent | None = None
) -> tuple[EntitySpan, ...]:
    extractor = model.extractor
    head = text[:MAX_ENTITY_CHARS]
    if routing_only and language != ENGLISH:
        found = tuple(extractor.routed_equipment(head))
        return _network_device_first(extractor, head, found) if intent is Intent.NETWORK_OUTAGE else found
    source = without_switch_verb(head) if language == ENGLISH else head
    entities = tuple(extractor.extract(source))
    if intent is Intent.NETWORK_OUTAGE:
        entities = _network_device_first(extractor, source, entities)
    if language == ENGLISH and not any(e.entity == EntityType.EQUIPMENT for e in entities):
        # English device names: found in the French gloss, without offsets into the text (beside
        # the codes and rooms found in the text itself).
        gloss = french_gloss(source)  # without « switch » the verb: « switch the display to … »
        found = tuple(extractor.extract(gloss))
        if intent is Intent.NETWORK_OUTAGE:
            found = _network_device_first(extractor, gloss, found)
        glossed = tuple(replace(e, start=0, end=0, extractor="gloss") for e in found)
        entities = (*(e for e in glossed if e.entity == EntityType.EQUIPMENT), *entities) if entities else glossed
    elif language == ENGLISH and intent is Intent.NETWORK_OUTAGE:
        # « the access point in the hall has no lights … the kids can't use the tablets »: the
        # network device the gloss names (the text names only the devices French shares).
        entities = _network_device_first(extractor, french_gloss(source), entities, gloss=True)
    if routing_only:
        entities = tuple(e for e in entities if e.entity == EntityType.EQUIPMENT)
    return entities


def _network_device_first(
    extractor: EntityExtractor, text: str, entities: tuple[EntitySpan, ...], *, gloss: bool = False
) -> tuple[EntitySpan, ...]:
    """For a network outage, the network device the message names (« les tablettes voient le réseau
    mais ne se connectent pas, la borne du couloir clignote orange ») rather than the device it was
    seen on: the access point, the box, the NAS, the socket or the phone line is what gets fixed.

    With `gloss`, `text` is an English message's French gloss: its network device replaces the one
    named in the message, without offsets into the message."""
    main = next((e for e in entities if e.entity == EntityType.EQUIPMENT), None)
    if main is None or main.value in NETWORK_DEVICES:
        return entities
    device = next((c for c in extractor.equipment(text, keep_all=True) if c.value in NETWORK_DEVICES), None)
    if device is None:
        return entities
    others = [e for e in entities if e is not main]
    if gloss:
        return (replace(device, start=0, end=0, extractor="gloss"), *others)
    if any(device.start < o.end and o.start < device.end for o in others):
        return entities
    return tuple(sorted([*others, device], key=lambda s: (s.start, s.end)))


def _unpickle(entry: object, part: str) -> object | None:
    """One part of a cache entry, or None for an entry of another shape or an unreadable part."""
    if not isinstance(entry, dict) or not isinstance(entry.get(part), bytes):
        return None
    try:
        return pickle.loads(entry[part])  # noqa: S301 - our own cache directory
    except Exception as exc:  # a stale entry is just a cache miss
        log.warning("ignoring an unreadable NLU cache entry: %s", exc)
        return None


def clear_memory() -> None:
    """Forget the models shared in this process (tests use it to exercise the disk cache)."""
    with _MEMORY_LOCK:
        _MEMORY.clear()
        _COMPILED_MEMORY.clear()

"""Loads Rasa 3.x NLU training data (nlu/data/*.yml) into plain, typed records."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"

# `[text](entity)`, `[text](entity:value)`, `[text]{"entity": ..., "value": ...}`
_ANNOTATION = re.compile(
    r"\[(?P<text>[^\[\]]+)\]"
    r"(?:\((?P<entity>[^():]+?)(?::(?P<value>[^()]+))?\)|(?P<json>\{[^{}]*\}))"
)
# What remains of a broken annotation once the valid ones are removed.
_LEFTOVER = re.compile(r"\]\s*[({]|\[[^\]]*\]\s*\(|\[[^\]\n]*$|\]\(")
_ENTITY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


class TrainingDataError(ValueError):
    """The training data cannot be read; the message names the file and the example."""


@dataclass(frozen=True, slots=True)
class AnnotatedEntity:
    """One entity span of a training example, in the example's plain text."""

    entity: str
    value: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Example:
    """A training sentence with its intent and entity spans (markup removed)."""

    text: str
    intent: str
    entities: tuple[AnnotatedEntity, ...] = ()
    source: str = ""


@dataclass(frozen=True, slots=True)
class TrainingData:
    """Everything in nlu/data: examples, synonyms, regexes and lookup tables."""

    examples: tuple[Example, ...]
    synonyms: dict[str, str] = field(default_factory=dict)  # surface form (as written) -> value
    regexes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lookups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fingerprint: str = ""

    @property
    def intents(self) -> list[str]:
        """Intent names in first-seen order."""
        return list(dict.fromkeys(ex.intent for ex in self.examples))

    def by_intent(self) -> dict[str, list[Example]]:
        """Examples grouped by intent."""
        grouped: dict[str, list[Example]] = {}
        for ex in self.examples:
            grouped.setdefault(ex.intent, []).append(ex)
        return grouped


def parse_example(raw: str, intent: str, source: str = "") -> Example:
    """Parse one annotated example; raise TrainingDataError naming `source` when malformed."""
    parts: list[str] = []
    entities: list[AnnotatedEntity] = []
    pos = 0
    length = 0
    for m in _ANNOTATION.finditer(raw):
        before = raw[pos : m.start()]
        _check_leftover(before, raw, source)
        parts.append(before)
        length += len(before)
        surface = m.group("text")
        entity, value = _entity_and_value(m, raw, source)
        if not surface.strip():
            raise TrainingDataError(f"{source}: empty entity text in example {raw!r}")
        entities.append(AnnotatedEntity(entity, value, length, length + len(surface), surface))
        parts.append(surface)
        length += len(surface)
        pos = m.end()
    tail = raw[pos:]
    _check_leftover(tail, raw, source)
    parts.append(tail)
    text = "".join(parts)
    stripped = text.strip()
    if not stripped:
        raise TrainingDataError(f"{source}: empty example for intent {intent!r}")
    offset = len(text) - len(text.lstrip())
    if offset:
        entities = [
            AnnotatedEntity(e.entity, e.value, e.start - offset, e.end - offset, e.text)
            for e in entities
        ]
    return Example(stripped, intent, tuple(entities), source)


def _check_leftover(chunk: str, raw: str, source: str) -> None:
    if _LEFTOVER.search(chunk):
        raise TrainingDataError(
            f"{source}: malformed entity annotation near {chunk.strip()[:40]!r} in example {raw!r}"
            " (expected [text](entity), [text](entity:value) or [text]{\"entity\": ..., \"value\": ...})"
        )


def _entity_and_value(m: re.Match[str], raw: str, source: str) -> tuple[str, str]:
    surface = m.group("text")
    if m.group("json") is not None:
        try:
            spec = json.loads(m.group("json"))
        except json.JSONDecodeError as exc:
            raise TrainingDataError(
                f"{source}: invalid JSON {m.group('json')!r} in example {raw!r}: {exc.msg}"
            ) from None
        if not isinstance(spec, dict) or not isinstance(spec.get("entity"), str):
            raise TrainingDataError(
                f"{source}: annotation {m.group('json')!r} has no \"entity\" in example {raw!r}"
            )
        entity = spec["entity"]
        value = spec.get("value", surface)
        if not isinstance(value, str | int | float):
            raise TrainingDataError(f"{source}: bad value {value!r} in example {raw!r}")
        value = str(value)
    else:
        entity = m.group("entity").strip()
        value = (m.group("value") or surface).strip()
    if not _ENTITY_NAME.match(entity):
        raise TrainingDataError(f"{source}: bad entity name {entity!r} in example {raw!r}")
    return entity, value


def _example_lines(block: object, where: str) -> list[str]:
    """The items of an `examples:` block, either a `- item` string or a list of {text: ...}."""
    if isinstance(block, str):
        items = []
        for line in block.splitlines():
            stripped = line.strip()
            if not stripped:
                continue
            if not stripped.startswith("- "):
                if stripped == "-":
                    continue
                raise TrainingDataError(f"{where}: example line must start with '- ': {line!r}")
            items.append(stripped[2:].strip())
        return items
    if isinstance(block, list):
        items = []
        for item in block:
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                items.append(item["text"].strip())
            elif isinstance(item, str):
                items.append(item.strip())
            else:
                raise TrainingDataError(f"{where}: cannot read example {item!r}")
        return items
    raise TrainingDataError(f"{where}: 'examples' must be a block of '- ...' lines")


def load_file(path: Path) -> TrainingData:
    """Load one Rasa NLU YAML file."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TrainingDataError(f"{path}: invalid YAML: {exc}") from None
    if doc is None:
        return TrainingData(examples=())
    if not isinstance(doc, dict):
        raise TrainingDataError(f"{path}: expected a mapping with an 'nlu' key")
    items = doc.get("nlu") or []
    if not isinstance(items, list):
        raise TrainingDataError(f"{path}: 'nlu' must be a list")
    examples: list[Example] = []
    synonyms: dict[str, str] = {}
    regexes: dict[str, list[str]] = {}
    lookups: dict[str, list[str]] = {}
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise TrainingDataError(f"{path}: item #{n} is not a mapping")
        block = item.get("examples")
        if "intent" in item:
            intent = str(item["intent"])
            where = f"{path} (intent {intent})"
            for raw in _example_lines(block, where):
                examples.append(parse_example(raw, intent, where))
        elif "synonym" in item:
            value = str(item["synonym"])
            for form in _example_lines(block, f"{path} (synonym {value})"):
                synonyms[form] = value
        elif "regex" in item:
            name = str(item["regex"])
            for pattern in _example_lines(block, f"{path} (regex {name})"):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise TrainingDataError(f"{path}: regex {name}: bad pattern {pattern!r}: {exc}") from None
                regexes.setdefault(name, []).append(pattern)
        elif "lookup" in item:
            name = str(item["lookup"])
            lookups.setdefault(name, []).extend(_example_lines(block, f"{path} (lookup {name})"))
        else:
            raise TrainingDataError(f"{path}: item #{n} has none of intent/synonym/regex/lookup")
    return TrainingData(
        examples=tuple(examples),
        synonyms=synonyms,
        regexes={k: tuple(v) for k, v in regexes.items()},
        lookups={k: tuple(v) for k, v in lookups.items()},
    )


def data_files(data_dir: Path = DEFAULT_DATA_DIR) -> list[Path]:
    """The training files of a directory, sorted for a stable fingerprint."""
    if not data_dir.is_dir():
        return []
    return sorted([*data_dir.glob("*.yml"), *data_dir.glob("*.yaml")])


def fingerprint(paths: Iterable[Path]) -> str:
    """A hash of the files' names and contents."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def merge(parts: Iterable[TrainingData], fingerprint_: str = "") -> TrainingData:
    """Concatenate several files' data."""
    examples: list[Example] = []
    synonyms: dict[str, str] = {}
    regexes: dict[str, list[str]] = {}
    lookups: dict[str, list[str]] = {}
    for part in parts:
        examples.extend(part.examples)
        synonyms.update(part.synonyms)
        for k, v in part.regexes.items():
            regexes.setdefault(k, []).extend(v)
        for k, v in part.lookups.items():
            lookups.setdefault(k, []).extend(v)
    return TrainingData(
        examples=tuple(examples),
        synonyms=synonyms,
        regexes={k: tuple(dict.fromkeys(v)) for k, v in regexes.items()},
        lookups={k: tuple(dict.fromkeys(v)) for k, v in lookups.items()},
        fingerprint=fingerprint_,
    )


def load_training_data(data_dir: Path | str = DEFAULT_DATA_DIR) -> TrainingData:
    """Load every *.yml of `data_dir`; synonyms also come from annotated `value`s, as in Rasa."""
    paths = data_files(Path(data_dir))
    data = merge((load_file(p) for p in paths), fingerprint(paths))
    synonyms = dict(data.synonyms)
    for ex in data.examples:
        for ent in ex.entities:
            if ent.value != ent.text:
                synonyms.setdefault(ent.text, ent.value)
    return TrainingData(data.examples, synonyms, data.regexes, data.lookups, data.fingerprint)


def format_example(ex: Example) -> str:
    """The example written back in Rasa markup (`[text]{"entity": ..., "value": ...}`)."""
    out: list[str] = []
    pos = 0
    for ent in sorted(ex.entities, key=lambda e: e.start):
        out.append(ex.text[pos : ent.start])
        surface = ex.text[ent.start : ent.end]
        if ent.value == surface:
            out.append(f"[{surface}]({ent.entity})")
        else:
            spec = json.dumps({"entity": ent.entity, "value": ent.value}, ensure_ascii=False)
            out.append(f"[{surface}]{spec}")
        pos = ent.end
    out.append(ex.text[pos:])
    return "".join(out)


def dump_yaml(data: TrainingData, examples: Iterable[Example] | None = None) -> str:
    """Rasa 3.x YAML of `examples` (default: all) with the data's synonyms, regexes and lookups."""
    items: list[dict[str, str]] = []
    grouped: dict[str, list[Example]] = {}
    for ex in data.examples if examples is None else examples:
        grouped.setdefault(ex.intent, []).append(ex)
    for intent, exs in grouped.items():
        items.append({"intent": intent, "examples": "".join(f"- {format_example(e)}\n" for e in exs)})
    by_value: dict[str, list[str]] = {}
    for form, value in data.synonyms.items():
        by_value.setdefault(value, []).append(form)
    for value, forms in by_value.items():
        items.append({"synonym": value, "examples": "".join(f"- {f}\n" for f in forms)})
    for name, patterns in data.regexes.items():
        items.append({"regex": name, "examples": "".join(f"- {p}\n" for p in patterns)})
    for name, entries in data.lookups.items():
        items.append({"lookup": name, "examples": "".join(f"- {e}\n" for e in entries)})
    return yaml.safe_dump({"version": "3.1", "nlu": items}, allow_unicode=True, sort_keys=False, width=10_000)

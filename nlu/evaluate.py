"""`guichet nlu evaluate`: cross-validation on nlu/data and evaluation on a labelled JSONL file."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from sklearn.model_selection import StratifiedKFold

from domain.vocabulary import EntityType

from .backend import NluUnavailable
from .classifier import DEFAULT_VARIANT, VARIANTS
from .clarify import suggest_threshold
from .entities import equipment_accuracy
from .local import LocalNlu, fit_model, usable_examples
from .result import ParseResult
from .training_data import DEFAULT_DATA_DIR, Example, TrainingData, TrainingDataError, load_training_data

SEED = 0


@dataclass(frozen=True, slots=True)
class Labelled:
    """One evaluation item: text, expected intent and (optionally) expected equipment."""

    text: str
    intent: str
    equipment: str | None = None
    has_equipment: bool = False


@dataclass
class Report:
    """Scores of one evaluation run."""

    name: str
    n: int = 0
    accuracy: float = 0.0
    macro_f1: float = 0.0
    per_intent: dict[str, dict[str, float]] = field(default_factory=dict)
    confusions: list[tuple[str, str, int]] = field(default_factory=list)
    equipment: dict[str, float] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)
    calibration: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_intent": self.per_intent,
            "confusions": [{"expected": a, "predicted": b, "count": c} for a, b, c in self.confusions],
            "equipment": self.equipment,
            "latency_ms": self.latency_ms,
            "calibration": self.calibration,
            **self.extra,
        }


def intent_metrics(gold: Sequence[str], pred: Sequence[str], top_confusions: int = 10) -> dict[str, Any]:
    """Accuracy, macro-F1 over the gold intents, per-intent P/R/F1 and the top confusion pairs."""
    labels = sorted(set(gold))
    per: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
    accuracy = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold) if gold else 0.0
    macro = statistics.fmean(v["f1"] for v in per.values()) if per else 0.0
    confusions = Counter((g, p) for g, p in zip(gold, pred, strict=True) if g != p)
    return {
        "accuracy": accuracy,
        "macro_f1": macro,
        "per_intent": per,
        "confusions": [(g, p, n) for (g, p), n in confusions.most_common(top_confusions)],
    }


def calibration(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> dict[str, float]:
    """Expected calibration error, mean confidence and the suggested clarification threshold."""
    conf = np.asarray(confidences, dtype=float)
    ok = np.asarray(correct, dtype=float)
    if conf.size == 0:
        return {}
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        mask = (conf > lo) & (conf <= hi)
        if mask.any():
            ece += mask.mean() * abs(conf[mask].mean() - ok[mask].mean())
    thr = suggest_threshold(conf.tolist(), [bool(x) for x in ok])
    above = conf >= thr
    return {
        "ece": round(float(ece), 4),
        "mean_confidence": round(float(conf.mean()), 4),
        "suggested_threshold": thr,
        "accuracy_above_threshold": round(float(ok[above].mean()), 4) if above.any() else 0.0,
        "share_above_threshold": round(float(above.mean()), 4),
    }


def _percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    if not samples_ms:
        return {}
    arr = np.asarray(samples_ms)
    return {
        "p50": round(float(np.percentile(arr, 50)), 3),
        "p95": round(float(np.percentile(arr, 95)), 3),
        "p99": round(float(np.percentile(arr, 99)), 3),
    }


def _subset(data: TrainingData, examples: Sequence[Example]) -> TrainingData:
    return replace(data, examples=tuple(examples), fingerprint="")


def cross_validate(data: TrainingData, variant: str = DEFAULT_VARIANT, folds: int = 5) -> Report:
    """Stratified k-fold CV of the local model: intents, calibration, equipment, latency."""
    examples = usable_examples(data)
    counts = Counter(ex.intent for ex in examples)
    examples = [ex for ex in examples if counts[ex.intent] >= 2]
    if not examples:
        raise TrainingDataError("no intent has two training examples: nothing to cross-validate")
    k = max(2, min(folds, min(counts[ex.intent] for ex in examples)))
    y = [ex.intent for ex in examples]
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=SEED)
    gold: list[str] = []
    pred: list[str] = []
    confs: list[float] = []
    latency: list[float] = []
    eq_hits = eq_total = 0
    fit_seconds: list[float] = []
    for train_idx, test_idx in splitter.split(np.zeros(len(y)), y):
        train = _subset(data, [examples[i] for i in train_idx])
        test = [examples[i] for i in test_idx]
        t0 = time.perf_counter()
        model = fit_model(train, variant)
        fit_seconds.append(time.perf_counter() - t0)
        nlu = LocalNlu(training_data=train, cache_dir=False, variant=variant)
        nlu._model = model
        results = nlu.parse_many([ex.text for ex in test])
        for ex, res in zip(test, results, strict=True):
            gold.append(ex.intent)
            pred.append(res.intent.value)
            confs.append(res.confidence)
        for ex in test[:50]:
            t0 = time.perf_counter()
            nlu.parse(ex.text)
            latency.append((time.perf_counter() - t0) * 1000)
        eq = equipment_accuracy(model.extractor, test)
        eq_total += int(eq["examples"])
        eq_hits += round(eq["accuracy"] * eq["examples"])
    m = intent_metrics(gold, pred)
    report = Report(
        name=f"cv{k}:{variant}",
        n=len(gold),
        accuracy=m["accuracy"],
        macro_f1=m["macro_f1"],
        per_intent=m["per_intent"],
        confusions=m["confusions"],
        latency_ms=_percentiles(latency),
        calibration=calibration(confs, [g == p for g, p in zip(gold, pred, strict=True)]),
        equipment={"examples": eq_total, "accuracy": round(eq_hits / eq_total, 4) if eq_total else 0.0},
        extra={"folds": k, "fit_seconds_mean": round(statistics.fmean(fit_seconds), 3)},
    )
    return report


def load_labelled(path: Path) -> list[Labelled]:
    """Read a JSONL file of {"text", "intent", optional "equipment"} objects."""
    items = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                items.append(
                    Labelled(str(obj["text"]), str(obj["intent"]), obj.get("equipment"), "equipment" in obj)
                )
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: expected a JSON object with text and intent ({exc})") from None
    return items


def score_results(name: str, items: Sequence[Labelled], results: Sequence[ParseResult], latency_ms: Sequence[float]) -> Report:
    """Compare parse results with the labels."""
    gold = [it.intent for it in items]
    pred = [r.intent.value for r in results]
    m = intent_metrics(gold, pred)
    with_eq = [(it, r) for it, r in zip(items, results, strict=True) if it.has_equipment]
    named = [(it, r) for it, r in with_eq if it.equipment]
    equipment = {
        "examples": len(with_eq),
        "accuracy": round(sum(it.equipment == r.equipment for it, r in with_eq) / len(with_eq), 4) if with_eq else 0.0,
        "accuracy_when_named": round(sum(it.equipment == r.equipment for it, r in named) / len(named), 4)
        if named
        else 0.0,
        "found_when_named": round(
            sum(it.equipment in {e.value for e in r.entities_of(EntityType.EQUIPMENT)} for it, r in named) / len(named), 4
        )
        if named
        else 0.0,
    }
    return Report(
        name=name,
        n=len(items),
        accuracy=m["accuracy"],
        macro_f1=m["macro_f1"],
        per_intent=m["per_intent"],
        confusions=m["confusions"],
        equipment=equipment,
        latency_ms=_percentiles(latency_ms),
        calibration=calibration([r.confidence for r in results], [g == p for g, p in zip(gold, pred, strict=True)]),
    )


def evaluate_local(nlu: LocalNlu, items: Sequence[Labelled]) -> Report:
    """Parse every item one by one (the latency a chat message sees)."""
    nlu.model()
    results, latency = [], []
    for it in items:
        t0 = time.perf_counter()
        results.append(nlu.parse(it.text))
        latency.append((time.perf_counter() - t0) * 1000)
    return score_results("local", items, results, latency)


async def evaluate_rasa(url: str, items: Sequence[Labelled], timeout: float = 10.0) -> Report:
    """Parse every item with a Rasa server."""
    from .rasa_backend import RasaNlu

    results, latency = [], []
    async with RasaNlu(url, timeout=timeout, retries=1) as rasa:
        for it in items:
            t0 = time.perf_counter()
            results.append(await rasa.parse(it.text))
            latency.append((time.perf_counter() - t0) * 1000)
    return score_results("rasa", items, results, latency)


def format_report(report: Report, out: TextIO) -> None:
    """Human-readable report."""
    print(f"== {report.name}: {report.n} messages", file=out)
    print(f"accuracy {report.accuracy:.3f}   macro-F1 {report.macro_f1:.3f}", file=out)
    print(f"{'intent':<20} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>5}", file=out)
    for name, v in sorted(report.per_intent.items()):
        print(f"{name:<20} {v['precision']:>6.3f} {v['recall']:>6.3f} {v['f1']:>6.3f} {v['support']:>5}", file=out)
    if report.confusions:
        print("top confusions (expected -> predicted):", file=out)
        for g, p, n in report.confusions:
            print(f"  {g} -> {p}: {n}", file=out)
    if report.equipment:
        print("equipment: " + ", ".join(f"{k} {v}" for k, v in report.equipment.items()), file=out)
    if report.calibration:
        print("calibration: " + ", ".join(f"{k} {v}" for k, v in report.calibration.items()), file=out)
    if report.latency_ms:
        print("latency ms: " + ", ".join(f"{k} {v}" for k, v in report.latency_ms.items()), file=out)
    for k, v in report.extra.items():
        print(f"{k}: {v}", file=out)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="guichet nlu evaluate", description=__doc__)
    p.add_argument("--backend", choices=("local", "rasa"), default="local")
    p.add_argument("--rasa-url", default=None, help="Rasa server base URL (default $GUICHET_RASA_URL)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (local backend)")
    p.add_argument("--file", type=Path, default=None, help="labelled JSONL file to evaluate on")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="training data directory")
    p.add_argument("--variant", default=DEFAULT_VARIANT, choices=sorted(VARIANTS))
    p.add_argument("--variants", action="store_true", help="cross-validate every classifier variant")
    p.add_argument("--no-cv", action="store_true", help="skip cross-validation (local backend)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def run(argv: Sequence[str], stdout: TextIO = sys.stdout) -> int:
    """Entry point of `guichet nlu evaluate`; returns the exit status."""
    import os

    try:
        args = _parser().parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    reports: list[Report] = []
    try:
        if args.backend == "local":
            data = load_training_data(args.data)
            if not args.no_cv:
                variants = sorted(VARIANTS) if args.variants else [args.variant]
                reports.extend(cross_validate(data, v, args.folds) for v in variants)
            if args.file:
                nlu = LocalNlu(args.data, variant=args.variant)
                reports.append(evaluate_local(nlu, load_labelled(args.file)))
        else:
            url = args.rasa_url or os.environ.get("GUICHET_RASA_URL")
            if not url or not args.file:
                print("--backend rasa needs --rasa-url (or GUICHET_RASA_URL) and --file", file=sys.stderr)
                return 2
            reports.append(asyncio.run(evaluate_rasa(url, load_labelled(args.file))))
    except (TrainingDataError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except NluUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not reports:
        print("nothing to evaluate (--no-cv without --file)", file=sys.stderr)
        return 2
    if args.json:
        payload = reports[0].to_json() if len(reports) == 1 else {"reports": [r.to_json() for r in reports]}
        stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        for r in reports:
            format_report(r, stdout)
            print(file=stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))

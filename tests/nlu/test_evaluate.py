"""`guichet nlu evaluate` output, and the clarification threshold helpers."""

from __future__ import annotations

import io
import json
from pathlib import Path

from domain.vocabulary import Intent
from nlu.clarify import CLARIFY_THRESHOLD, needs_clarification, suggest_threshold
from nlu.evaluate import intent_metrics, run
from nlu.result import IntentScore, ParseResult


def labelled_file(tmp_path: Path) -> Path:
    path = tmp_path / "labelled.jsonl"
    rows = [
        {"text": "le vidéoprojecteur ne s'allume plus", "intent": "hardware_failure", "equipment": "projector"},
        {"text": "plus de wifi dans l'école", "intent": "network_outage", "equipment": None},
        {"text": "salut !", "intent": "greet"},
        {"text": "merci beaucoup", "intent": "thanks"},
        {"text": "on nous a volé deux tablettes", "intent": "theft", "equipment": "tablet"},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def test_text_report(data_dir: Path, tmp_path: Path) -> None:
    """The text report has per-intent scores, macro-F1, equipment, confusions and latency."""
    out = io.StringIO()
    assert run(["--data", str(data_dir), "--folds", "3", "--file", str(labelled_file(tmp_path))], out) == 0
    text = out.getvalue()
    assert "== cv3:lr_c100" in text
    assert "== local: 5 messages" in text
    assert "macro-F1" in text and "hardware_failure" in text
    assert "equipment:" in text and "latency ms: p50" in text
    assert "suggested_threshold" in text


def test_json_report(data_dir: Path, tmp_path: Path) -> None:
    """--json prints one JSON object."""
    out = io.StringIO()
    assert run(["--data", str(data_dir), "--no-cv", "--file", str(labelled_file(tmp_path)), "--json"], out) == 0
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["n"] == 5
    assert 0.0 <= report["accuracy"] <= 1.0
    assert report["equipment"]["examples"] == 3  # the null one counts: "no equipment" expected
    assert set(report["latency_ms"]) == {"p50", "p95", "p99"}
    assert report["per_intent"]["greet"]["support"] == 1


def test_variants_are_compared(data_dir: Path) -> None:
    """--variants cross-validates every classifier recipe."""
    out = io.StringIO()
    assert run(["--data", str(data_dir), "--folds", "3", "--variants", "--json"], out) == 0
    names = {r["name"] for r in json.loads(out.getvalue())["reports"]}
    assert names == {"cv3:lr_c10", "cv3:lr_c30", "cv3:lr_c100", "cv3:svc_cal", "cv3:lr_c10_raw"}


def test_rasa_backend_needs_url_and_file(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """--backend rasa without a URL is a usage error."""
    monkeypatch.delenv("GUICHET_RASA_URL", raising=False)
    assert run(["--backend", "rasa"], io.StringIO()) == 2


def test_missing_data_is_an_error(tmp_path: Path) -> None:
    """No training data: exit status 1."""
    assert run(["--data", str(tmp_path / "none")], io.StringIO()) == 1


def test_intent_metrics() -> None:
    """Macro-F1 averages the per-intent F1; confusions are counted."""
    m = intent_metrics(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert m["accuracy"] == 0.75
    assert m["per_intent"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 1 + 1}
    assert m["confusions"] == [("a", "b", 1)]


def test_suggest_threshold() -> None:
    """The threshold is where accuracy of the most confident predictions drops below target."""
    confs = [0.9 - i * 0.01 for i in range(60)]
    correct = [True] * 40 + [False] * 20
    thr = suggest_threshold(confs, correct, target_accuracy=0.8, min_bin=10)
    assert 0.55 < thr < 0.6


def test_needs_clarification() -> None:
    """Low confidence yields the top 2-3 intents to offer; high confidence yields None."""
    ranking = (
        IntentScore(Intent.HARDWARE_FAILURE, 0.35),
        IntentScore(Intent.DAMAGE, 0.3),
        IntentScore(Intent.HOWTO, 0.2),
        IntentScore(Intent.GREET, 0.02),
    )
    low = ParseResult("x", Intent.HARDWARE_FAILURE, 0.35, ranking)
    clar = needs_clarification(low, threshold=0.5)
    assert clar is not None
    assert clar.candidates == (Intent.HARDWARE_FAILURE, Intent.DAMAGE, Intent.HOWTO)
    high = ParseResult("x", Intent.GREET, max(0.95, CLARIFY_THRESHOLD), ranking)
    assert needs_clarification(high) is None

"""The compiled classifier gives scikit-learn's probabilities, one message or a batch, without importing it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from nlu import load_training_data
from nlu.compiled import CompiledClassifier
from nlu.local import LocalNlu, classified_text, fit_model

ROOT = Path(__file__).resolve().parents[2]
EDGE_CASES = [
    "", " ", "é", "zzz qwx", "bonjour !", "plus d'encre", "ŒUVRE   æther\t\n fin",
    "le vidéo-projecteur ne s'allume plus!!!! merciiii", "Bonjour,\nle PC SEM-001234 est HS\nCordialement,\nMme X",
    "Hello, the projector won't turn on anymore, please help",
]


def _heldout_texts() -> list[str]:
    data = yaml.safe_load((ROOT / "nlu" / "heldout" / "messages.yml").read_text(encoding="utf-8"))
    return [m["text"] for m in data["messages"]]


def test_compiled_batch_and_single_equal_the_pipeline_on_unseen_messages(data_dir: Path) -> None:
    model = fit_model(load_training_data(data_dir))
    compiled = CompiledClassifier(model.pipeline)
    texts = [classified_text(t) for t in _heldout_texts() + EDGE_CASES]
    expected = model.pipeline.predict_proba(texts)
    batch = compiled.predict_proba_many(texts)
    assert batch.shape == expected.shape
    assert np.allclose(batch, expected, atol=1e-5)
    assert (batch.argmax(axis=1) == expected.argmax(axis=1)).all()
    for text, row in zip(texts[:40], expected[:40], strict=True):
        assert np.allclose(compiled.predict_proba(text), row, atol=1e-5)


def test_parse_many_gives_the_reference_intents_on_the_real_data(tmp_path: Path) -> None:
    """The real model (nlu/data): the fast path and scikit-learn agree on every held-out message."""
    nlu = LocalNlu(cache_dir=tmp_path)
    model = nlu.model()
    texts = _heldout_texts()
    expected = model.pipeline.predict_proba([classified_text(t) for t in texts])
    results = nlu.parse_many(texts)
    for result, row in zip(results, expected, strict=True):
        assert result.intent == model.classes[int(np.argmax(row))]
        assert abs(result.confidence - float(row.max())) < 1e-5


def test_loading_the_cached_model_imports_neither_sklearn_nor_scipy(tmp_path: Path) -> None:
    LocalNlu(cache_dir=tmp_path).parse("le wifi ne marche plus")  # trains and fills the cache
    code = (
        "import sys\n"
        "from nlu import LocalNlu\n"
        f"r = LocalNlu(cache_dir={str(tmp_path)!r}).parse('le wifi ne marche plus')\n"
        "assert r.intent.value == 'network_outage', r\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"

"""The in-process NLU: training, determinism, disk cache, batch parsing."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from domain.vocabulary import Intent
from nlu.local import LocalNlu, clear_memory
from nlu.training_data import TrainingDataError


def test_parses_fixture_messages(data_dir: Path, tmp_path: Path) -> None:
    """Clear messages get the right intent, a probability and entities."""
    nlu = LocalNlu(data_dir, cache_dir=tmp_path / "c")
    result = nlu.parse("le vidéoprojecteur de la salle 3 ne s'allume plus")
    assert result.intent is Intent.HARDWARE_FAILURE
    assert 0.0 < result.confidence <= 1.0
    assert abs(sum(s.confidence for s in result.intent_ranking) - 1.0) < 1e-3 or len(result.intent_ranking) == 10
    assert result.equipment == "projector"
    assert nlu.parse("merci beaucoup !").intent is Intent.THANKS
    assert nlu.parse("où en est mon ticket 2024-0042").intent is Intent.TICKET_STATUS


def test_ranking_sorted_and_consistent(data_dir: Path) -> None:
    """The ranking is sorted and starts with the chosen intent."""
    result = LocalNlu(data_dir, cache_dir=False).parse("plus d'encre dans l'imprimante")
    confs = [s.confidence for s in result.intent_ranking]
    assert confs == sorted(confs, reverse=True)
    assert result.intent_ranking[0].intent is result.intent
    assert result.intent_ranking[0].confidence == result.confidence


def test_deterministic_across_trainings(data_dir: Path) -> None:
    """Two trainings from scratch give identical results."""
    texts = ["le wifi est coupé", "bonjour", "tablette volée", "besoin de toner", "blabla"]
    first = LocalNlu(data_dir, cache_dir=False).parse_many(texts)
    clear_memory()
    second = LocalNlu(data_dir, cache_dir=False).parse_many(texts)
    assert first == second


def test_disk_cache_is_reused(data_dir: Path, tmp_path: Path) -> None:
    """The second process loads the pickled model instead of training."""
    cache = tmp_path / "cache"
    first = LocalNlu(data_dir, cache_dir=cache)
    r1 = first.parse("le projo est cassé")
    assert first.loaded_from == "training"
    assert len(list(cache.glob("model-*.pkl"))) == 1
    clear_memory()  # as if in a new process
    second = LocalNlu(data_dir, cache_dir=cache)
    assert second.parse("le projo est cassé") == r1
    assert second.loaded_from == "disk"


def test_cache_key_follows_the_data(data_dir: Path, tmp_path: Path) -> None:
    """Changing a data file retrains instead of using a stale model."""
    cache = tmp_path / "cache"
    LocalNlu(data_dir, cache_dir=cache).parse("x")
    with (data_dir / "smalltalk.yml").open("a", encoding="utf-8") as fh:
        fh.write("    - yo\n")
    clear_memory()
    nlu = LocalNlu(data_dir, cache_dir=cache)
    nlu.parse("x")
    assert nlu.loaded_from == "training"
    assert len(list(cache.glob("model-*.pkl"))) == 2


def test_cache_key_follows_the_lexicon(data_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The built-in lexicon is pickled into the extractor: an edit of it is another model."""
    from nlu import lexicon, local

    before = local.cache_key(local.load_training_data(data_dir), "lr_c100")
    edited = tmp_path / "lexicon.py"
    edited.write_text(Path(lexicon.__file__).read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    monkeypatch.setattr(lexicon, "__file__", str(edited))
    assert local.cache_key(local.load_training_data(data_dir), "lr_c100") != before


def test_corrupt_cache_is_a_miss(data_dir: Path, tmp_path: Path) -> None:
    """A truncated cache file is ignored and replaced."""
    cache = tmp_path / "cache"
    LocalNlu(data_dir, cache_dir=cache).parse("x")
    (path,) = cache.glob("model-*.pkl")
    path.write_bytes(b"\x80\x05garbage")
    clear_memory()
    nlu = LocalNlu(data_dir, cache_dir=cache)
    nlu.parse("x")
    assert nlu.loaded_from == "training"
    with path.open("rb") as fh:
        assert pickle.load(fh)[0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_cache_falls_back_to_memory(data_dir: Path, tmp_path: Path) -> None:
    """A read-only cache directory only costs the disk cache."""
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    nlu = LocalNlu(data_dir, cache_dir=ro / "sub")
    assert nlu.parse("bonjour").intent is Intent.GREET


def test_cache_path_that_is_a_file_falls_back_to_memory(data_dir: Path, tmp_path: Path) -> None:
    """A cache path that cannot be a directory keeps the model in memory."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    nlu = LocalNlu(data_dir, cache_dir=blocker / "cache")
    assert nlu.parse("bonjour").intent is Intent.GREET
    assert nlu.loaded_from == "training"


def test_env_cache_dir(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GUICHET_NLU_CACHE chooses the cache directory."""
    monkeypatch.setenv("GUICHET_NLU_CACHE", str(tmp_path / "envcache"))
    LocalNlu(data_dir).parse("bonjour")
    assert list((tmp_path / "envcache").glob("model-*.pkl"))


def test_parse_many_equals_parse(data_dir: Path) -> None:
    """Batch parsing gives what one-by-one parsing gives, empty texts included."""
    nlu = LocalNlu(data_dir, cache_dir=False)
    texts = ["le wifi ne marche pas", "", "   ", "3 tablettes volées en CE1", "merci"]
    batch = nlu.parse_many(texts)
    assert batch == [nlu.parse(t) for t in texts]
    assert batch[1].intent is Intent.OUT_OF_SCOPE and batch[1].confidence == 0.0


def test_long_email_is_handled(data_dir: Path) -> None:
    """A long e-mail with greeting and signature is classified by its body."""
    text = (
        "Bonjour,\n\nDepuis ce matin nous n'avons plus d'internet dans toute l'école, "
        "le wifi ne marche pas.\n\nCordialement,\nMme Martin\nDirectrice\n" + "PS " * 3000
    )
    result = LocalNlu(data_dir, cache_dir=False).parse(text)
    assert result.intent is Intent.NETWORK_OUTAGE


def test_no_training_data_is_an_error(tmp_path: Path) -> None:
    """Without training files the error says where the data is expected."""
    with pytest.raises(TrainingDataError, match="nlu/data"):
        LocalNlu(tmp_path / "empty", cache_dir=False).parse("bonjour")


async def test_aparse(data_dir: Path) -> None:
    """The async method gives the sync result (first load runs in a thread)."""
    nlu = LocalNlu(data_dir, cache_dir=False)
    first = await nlu.aparse("la box clignote rouge")
    assert first == nlu.parse("la box clignote rouge")
    assert (await nlu.aparse("bonjour")).intent is Intent.GREET


def test_fast_path_gives_the_pipeline_probabilities(data_dir: Path) -> None:
    """The per-message scorer reproduces scikit-learn's predict_proba (float32 rounding aside)."""
    import numpy as np

    from nlu.fast_scorer import FastScorer

    nlu = LocalNlu(data_dir, cache_dir=False)
    model = nlu.model()
    scorer = FastScorer(model.pipeline)
    for text in ["le vidéoprojecteur ne s'allume plus", "plus d'encre", "bonjour !", "zzz qwx", "é"]:
        expected = model.pipeline.predict_proba([text])[0]
        assert np.allclose(scorer.predict_proba(text), expected, atol=1e-5)
        assert nlu.parse(text).intent == model.classes[int(np.argmax(expected))]

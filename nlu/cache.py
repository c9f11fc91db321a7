"""On-disk cache of fitted models, keyed by the training data and the code that fits them."""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Bump when a change of code changes what a fitted model is.
CODE_VERSION = "nlu-10"
#: The classifier variant chosen by cross-validation (numbers in nlu/README.md; recipes in
#: nlu/classifier.py, which imports scikit-learn and is only loaded to train).
DEFAULT_VARIANT = "lr_c100"


def default_cache_dir() -> Path:
    """`$GUICHET_NLU_CACHE`, or ./var/nlu-cache (read when called, never at import)."""
    return Path(os.environ.get("GUICHET_NLU_CACHE") or "./var/nlu-cache")


class ModelCache:
    """Pickles fitted models under `directory`; a cache that cannot be written only logs."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path | None:
        return None if self.directory is None else self.directory / f"model-{key[:32]}.pkl"

    def load(self, key: str) -> Any | None:
        """The cached object for `key`, or None when absent or unreadable."""
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        try:
            with path.open("rb") as fh:
                stored_key, obj = pickle.load(fh)  # noqa: S301 - our own cache directory
        except Exception as exc:  # a truncated or stale file is just a cache miss
            log.warning("ignoring unreadable NLU cache %s: %s", path, exc)
            return None
        return obj if stored_key == key else None

    def store(self, key: str, obj: Any) -> bool:
        """Write atomically; False (and the model stays in memory only) when not writable."""
        path = self._path(key)
        if path is None:
            return False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".model-", suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump((key, obj), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("NLU cache %s not writable, keeping the model in memory: %s", path.parent, exc)
            try:
                os.unlink(tmp)  # type: ignore[possibly-undefined]
            except (OSError, UnboundLocalError):
                pass
            return False
        return True

"""docker-compose.yml stays valid (Debian's docker-compose validates without an engine)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")
@pytest.mark.parametrize("profile", [[], ["--profile", "rasa"]])
def test_compose_file_validates(profile: list[str]) -> None:
    """`docker-compose config` accepts the file, with and without the Rasa profile."""
    env = {**os.environ, "GUICHET_SESSION_SECRET": "test-secret"}
    result = subprocess.run(["docker-compose", *profile, "config", "-q"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr

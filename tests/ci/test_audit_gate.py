"""The pip-audit step of CI: a known vulnerability fails, an unreachable service skips with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from audit_gate import verdict  # noqa: E402


def test_a_known_vulnerability_fails() -> None:
    """One vulnerable pin among clean ones: exit 1 naming the package, version, advisory and fix."""
    report = {"dependencies": [
        {"name": "aiohttp", "version": "3.8.0", "vulns": [
            {"id": "PYSEC-2023-120", "fix_versions": ["3.8.5"], "aliases": [], "description": "…"}]},
        {"name": "jinja2", "version": "3.1.6", "vulns": []}], "fixes": []}
    code, lines = verdict(json.dumps(report))
    assert code == 1
    assert lines == ["pip-audit: aiohttp 3.8.0: PYSEC-2023-120 (fixed in 3.8.5)"]


def test_clean_pins_pass() -> None:
    """Every audited pin clean: exit 0 and one summary line."""
    report = {"dependencies": [{"name": "jinja2", "version": "3.1.6", "vulns": []},
                               {"name": "x", "skip_reason": "Dependency not found on PyPI"}]}
    assert verdict(json.dumps(report)) == (
        0, ["pip-audit: 1 locked dependencies, no known vulnerability, 1 not found by the service"])


def test_an_unreachable_service_skips_with_one_line() -> None:
    """No report at all, or nothing auditable: exit 0 with one line, so CI never turns flaky offline."""
    code, lines = verdict("")
    assert code == 0 and len(lines) == 1 and "skipped" in lines[0]
    report = {"dependencies": [{"name": "aiohttp", "skip_reason": "Dependency not found on PyPI and could not be audited"}]}
    code, lines = verdict(json.dumps(report))
    assert code == 0 and len(lines) == 1 and "skipped" in lines[0]


def test_the_script_runs_on_a_missing_report(tmp_path: Path) -> None:
    """As `.ci/run` calls it: a report file that was never written skips."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "audit_gate.py"), str(tmp_path / "none.json")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and result.stdout.count("\n") == 1

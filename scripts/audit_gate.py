"""Read pip-audit's JSON report of the locked dependencies and decide CI's outcome.

Exit 0 with one line when nothing could be audited (the vulnerability service was unreachable:
CI must not turn flaky offline), 0 when every audited pin is clean, 1 with one line per known
vulnerability otherwise. Usage: python scripts/audit_gate.py REPORT.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def verdict(report_text: str) -> tuple[int, list[str]]:
    """The exit code and the lines to print for one pip-audit JSON report."""
    try:
        report = json.loads(report_text)
        dependencies = report["dependencies"]
    except (ValueError, KeyError, TypeError):
        return 0, ["pip-audit: no report (vulnerability service unreachable?): audit skipped"]
    audited = [d for d in dependencies if "skip_reason" not in d]
    if not audited:
        return 0, [f"pip-audit: none of the {len(dependencies)} pins could be audited "
                   "(vulnerability service unreachable): audit skipped"]
    lines = []
    for dep in audited:
        for vuln in dep.get("vulns") or ():
            fixes = ", ".join(vuln.get("fix_versions") or ()) or "no fix yet"
            lines.append(f"pip-audit: {dep['name']} {dep.get('version', '?')}: {vuln.get('id')} (fixed in {fixes})")
    skipped = len(dependencies) - len(audited)
    if lines:
        return 1, lines
    tail = f", {skipped} not found by the service" if skipped else ""
    return 0, [f"pip-audit: {len(audited)} locked dependencies, no known vulnerability{tail}"]


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else None
    text = path.read_text(encoding="utf-8") if path and path.exists() else ""
    code, lines = verdict(text)
    for line in lines:
        print(line)
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

"""Benchmark `guichet triage --jsonl` on N messages: wall time and peak memory of the whole process.

    python bench/triage_bench.py [--count 10000] [--territory sem]

The messages are the training examples' texts (cycled and varied), so no evaluation data is
involved. The baseline, run in the same invocation, is a Python process that only parses and
re-serialises the same JSON lines: the floor cost of the contract's I/O.
"""

from __future__ import annotations

import argparse
import json
import random
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASELINE = (
    "import json,sys\n"
    "for line in sys.stdin:\n"
    "    d=json.loads(line); sys.stdout.write(json.dumps({'text': d['text']})+'\\n')\n"
)


def messages(count: int) -> list[str]:
    from nlu import load_training_data

    texts = [e.text for e in load_training_data(ROOT / "nlu" / "data").examples]
    rng = random.Random(7)
    suffixes = ["", " merci", " svp", " !", " (urgent)", " cordialement"]
    lines = []
    for i in range(count):
        text = texts[i % len(texts)] + rng.choice(suffixes)
        status = "private" if i % 10 == 0 else "public"
        lines.append(json.dumps({"text": text, "school_status": status, "asset_owner": None},
                                ensure_ascii=False))
    return lines


def run(cmd: list[str], stdin_path: Path) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB of the child, and output line count."""
    start = time.perf_counter()
    with stdin_path.open("rb") as fh, tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdin=fh, stdout=out, stderr=subprocess.DEVNULL, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise SystemExit(f"{cmd} exited {proc.returncode}")
        out.seek(0)
        lines = out.read().count(b"\n")
    return wall, usage.ru_maxrss / 1024, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--territory", default="sem")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.jsonl"
        path.write_text("\n".join(messages(args.count)) + "\n", encoding="utf-8")
        # Warm the model cache once so the measured run is the steady state of a deployed desk.
        subprocess.run([sys.executable, "-m", "guichet.cli", "triage", "--jsonl"],
                       input=b'{"text": "bonjour"}\n', capture_output=True, check=True, cwd=ROOT)
        base_wall, base_peak, _ = run([sys.executable, "-c", BASELINE], path)
        wall, peak, lines = run(
            [sys.executable, "-m", "guichet.cli", "triage", "--jsonl", "--territory", args.territory],
            path,
        )
    assert lines == args.count, (lines, args.count)
    print(f"messages            : {args.count}")
    print(f"guichet triage      : {wall:6.2f} s  ({args.count / wall:,.0f} msg/s), peak RSS {peak:.0f} MB")
    print(f"baseline (JSON echo): {base_wall:6.2f} s, peak RSS {base_peak:.0f} MB")
    print(f"ratio triage/baseline: {wall / base_wall:.1f}x")
    print(f"targets: < 10 s -> {'OK' if wall < 10 else 'MISSED'}; < 400 MB -> {'OK' if peak < 400 else 'MISSED'}")


if __name__ == "__main__":
    main()

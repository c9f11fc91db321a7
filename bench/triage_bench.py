"""Benchmark `guichet triage --jsonl` on N messages: wall time and peak memory of the whole process.

    python bench/triage_bench.py [--count 10000] [--territory sem] [--jobs 0] [--baseline-checkout DIR] [--busy N]

With `--baseline-checkout`, the same command is also run from another checkout of the project
(e.g. `git worktree add` of an older commit, its model cache warmed the same way) on the same
input in the same invocation, and the ratio old/new is printed; the load average is printed
around every run.

Three runs: the training examples' texts (cycled and varied), messy messages of ~100 characters
(one training text with a greeting, SMS spellings, one in four with a short second problem), and
long messy messages (~210 characters: two training texts joined as a teacher's e-mail with a greeting, SMS spellings and a
signature), so no evaluation data is involved. The baseline, run in the same invocation, is a Python process that only parses and
re-serialises the same JSON lines: the floor cost of the contract's I/O.

With `--busy N`, N processes spin on the CPU for the whole run (the desk shares its host in
production: a figure met only on an idle machine is not met); the load average printed around
each run shows what the command shared the cores with.
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


GREETINGS = ["Bonjour,\n", "bjr ", "Bonjour à vous, ", "Madame, Monsieur,\n", ""]
JOINS = [" et aussi ", ". Par ailleurs ", ", en plus ", " ; autre souci : "]
SIGNATURES = ["\nMerci d'avance, Mme Martin, CE2", " merci", "\nCordialement,\nla directrice", " svp c urgent", ""]
SMS = {"pas": "pa", "plus": "+", "merci": "mrc", "bonjour": "bjr", "beaucoup": "bcp"}


def messy_messages(count: int) -> list[str]:
    """Long, messy messages built from the training texts: two problems, greetings, SMS words."""
    from nlu import load_training_data

    texts = [e.text for e in load_training_data(ROOT / "nlu" / "data").examples if len(e.text) > 25]
    rng = random.Random(11)
    lines = []
    for i in range(count):
        body = rng.choice(texts) + rng.choice(JOINS) + rng.choice(texts)
        words = [SMS.get(w, w) if rng.random() < 0.3 else w for w in body.split(" ")]
        text = rng.choice(GREETINGS) + " ".join(words) + rng.choice(SIGNATURES)
        lines.append(json.dumps({"text": text, "school_status": "public", "asset_owner": None},
                                ensure_ascii=False))
    return lines


def messy_100(count: int) -> list[str]:
    """Messages of ~100 characters as the issue describes them: one training text, a greeting or a
    signature, SMS spellings, and one message in four carrying a short second problem."""
    from nlu import load_training_data

    texts = [e.text for e in load_training_data(ROOT / "nlu" / "data").examples]
    long_texts = [t for t in texts if len(t) > 50]
    short_texts = [t for t in texts if 15 < len(t) <= 45]
    rng = random.Random(13)
    lines = []
    for i in range(count):
        body = rng.choice(long_texts)
        if i % 4 == 0:
            body += rng.choice(JOINS) + rng.choice(short_texts)
        words = [SMS.get(w, w) if rng.random() < 0.3 else w for w in body.split(" ")]
        text = rng.choice(["bjr ", "Bonjour, ", ""]) + " ".join(words) + rng.choice([" merci", " svp", " mrc", ""])
        lines.append(json.dumps({"text": text, "school_status": "public", "asset_owner": None},
                                ensure_ascii=False))
    return lines


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(cmd: list[str], stdin_path: Path, cwd: Path = ROOT) -> tuple[float, float, int, float]:
    """Wall seconds, peak RSS in MB of the child, output line count, and CPU seconds (user + system)
    of the child and the workers it reaped (steadier than wall time on a shared machine)."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    start = time.perf_counter()
    with stdin_path.open("rb") as fh, tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdin=fh, stdout=out, stderr=subprocess.DEVNULL, cwd=cwd, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise SystemExit(f"{cmd} exited {proc.returncode}")
        out.seek(0)
        lines = out.read().count(b"\n")
    return wall, usage.ru_maxrss / 1024, lines, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--territory", default="sem")
    parser.add_argument("--jobs", type=int, default=0, help="passed to guichet triage (0: one per core)")
    parser.add_argument("--baseline-checkout", type=Path, default=None,
                        help="another checkout whose `guichet triage` runs on the same input, for old/new ratios")
    parser.add_argument("--busy", type=int, default=0,
                        help="CPU-bound processes kept running beside the measured commands")
    args = parser.parse_args()
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        if hogs:
            time.sleep(5)  # let the load average see them
            print(f"{len(hogs)} busy process(es) beside the runs")
        measure(args)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def measure(args: argparse.Namespace) -> None:
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    triage = [sys.executable, "-m", "guichet.cli", "triage", "--jsonl", "--territory", args.territory,
              "--jobs", str(args.jobs)]
    with tempfile.TemporaryDirectory() as tmp:
        # Warm the model cache once so the measured runs are the steady state of a deployed desk.
        for checkout in (ROOT, args.baseline_checkout) if args.baseline_checkout else (ROOT,):
            subprocess.run(triage, input=b'{"text": "bonjour"}\n', capture_output=True, check=True, cwd=checkout,
                           env={**os.environ, "PYTHONPATH": str(checkout)})
        runs = (
            ("training texts", messages(args.count)),
            ("messy, ~100 characters", messy_100(args.count)),
            ("long messy, two problems", messy_messages(args.count)),
        )
        for label, lines in runs:
            path = Path(tmp) / "in.jsonl"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            mean_chars = sum(len(json.loads(line)["text"]) for line in lines) / len(lines)
            base_wall, base_peak, _, _ = run([sys.executable, "-c", BASELINE], path)
            print(f"== {label}: {args.count} messages, {mean_chars:.0f} characters on average")
            before = load()
            wall, peak, count, cpu = run(triage, path)
            print(f"guichet triage      : {wall:6.2f} s  ({args.count / wall:,.0f} msg/s), peak RSS {peak:.0f} MB,"
                  f" CPU {cpu:.2f} s  [load {before} -> {load()}]")
            assert count == args.count, (count, args.count)
            if args.baseline_checkout:
                before = load()
                old_wall, old_peak, old_count, old_cpu = run(triage, path, args.baseline_checkout)
                assert old_count == args.count, (old_count, args.count)
                print(f"baseline checkout   : {old_wall:6.2f} s  ({args.count / old_wall:,.0f} msg/s), peak RSS "
                      f"{old_peak:.0f} MB, CPU {old_cpu:.2f} s  [load {before} -> {load()}]; old/new wall"
                      f" {old_wall / wall:.2f}x, CPU {old_cpu / cpu:.2f}x")
            print(f"baseline (JSON echo): {base_wall:6.2f} s  ({args.count / base_wall:,.0f} msg/s), peak RSS {base_peak:.0f} MB")
            print(f"ratio triage/baseline: {wall / base_wall:.1f}x")
            print(f"targets: < 2 s -> {'OK' if wall < 2 else 'MISSED'}; < 300 MB -> {'OK' if peak < 300 else 'MISSED'}")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

"""Single-message latency of `LocalNlu.parse` in process (warm model), p50 and p99 in ms.

    python bench/parse_latency.py [--count 1000]

Three sets: the held-out messages' texts (nlu/heldout/messages.yml, read for their texts only),
and the messy ~100-character and long messy messages of bench/triage_bench.py (built from the
training texts). Each set is parsed once to warm the memos, then timed message by message.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _triage_bench():
    spec = importlib.util.spec_from_file_location("triage_bench", ROOT / "bench" / "triage_bench.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    import yaml

    from nlu import LocalNlu

    bench = _triage_bench()
    heldout = [m["text"] for m in yaml.safe_load((ROOT / "nlu" / "heldout" / "messages.yml").read_text())["messages"]]
    sets = {
        "held-out": heldout,
        "messy ~100 characters": [json.loads(line)["text"] for line in bench.messy_100(args.count)],
        "long messy": [json.loads(line)["text"] for line in bench.messy_messages(args.count)],
    }
    nlu = LocalNlu()
    nlu.compiled()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, texts in sets.items():
        for text in texts:
            nlu.parse(text)
        times = []
        for text in texts:
            start = time.perf_counter()
            nlu.parse(text)
            times.append(time.perf_counter() - start)
        times.sort()
        mean_chars = sum(map(len, texts)) / len(texts)
        p50 = times[len(times) // 2] * 1000
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
        print(f"{name:24s} {len(texts):5d} messages, {mean_chars:4.0f} chars: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

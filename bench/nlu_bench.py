"""NLU benchmark on held-out data: local model vs (optionally) a Rasa server.

    python bench/nlu_bench.py [--rasa-url URL] [--test-size 0.2] [--write-train-split DIR]
    python bench/nlu_bench.py --throughput 10000     # guichet-triage-like batch: time and peak RSS

The held-out set is a stratified split of nlu/data the local model does not train on in
this run. For a fair Rasa number, train Rasa on the same split first:
`--write-train-split var/rasa/split` then `rasa train nlu --nlu var/rasa/split ...`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from nlu.evaluate import Labelled, evaluate_local, evaluate_rasa, format_report  # noqa: E402
from nlu.local import LocalNlu, usable_examples  # noqa: E402
from nlu.training_data import DEFAULT_DATA_DIR, dump_yaml, load_training_data  # noqa: E402


def held_out(test_size: float, seed: int = 0) -> tuple[object, list[Labelled]]:
    data = load_training_data(DEFAULT_DATA_DIR)
    examples = usable_examples(data)
    y = [ex.intent for ex in examples]
    train, test = train_test_split(examples, test_size=test_size, stratify=y, random_state=seed)
    labelled = [
        Labelled(
            ex.text,
            ex.intent,
            next((e.value for e in ex.entities if e.entity == "equipment"), None),
            has_equipment=any(e.entity == "equipment" for e in ex.entities),
        )
        for ex in test
    ]
    from dataclasses import replace

    return replace(data, examples=tuple(train), fingerprint=""), labelled


def throughput(n: int) -> int:
    """Parse `n` messages in one batch like `guichet triage`, from process start."""
    t0 = time.perf_counter()
    nlu = LocalNlu()
    nlu.model()
    loaded = time.perf_counter() - t0
    texts = [ex.text for ex in load_training_data(DEFAULT_DATA_DIR).examples]
    rng = random.Random(0)
    batch = [f"{rng.choice(texts)} {rng.choice(['', 'svp', 'merci', 'en CM2', 'depuis hier'])}" for _ in range(n)]
    t1 = time.perf_counter()
    results = nlu.parse_many(batch)
    parsed = time.perf_counter() - t1
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{len(results)} messages: model ready in {loaded:.2f} s ({nlu.loaded_from}), "
        f"parse_many {parsed:.2f} s ({n / parsed:.0f} msg/s), total since start "
        f"{time.perf_counter() - START:.2f} s, peak RSS {rss_mb:.0f} MB"
    )
    return 0


START = time.perf_counter()


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rasa-url")
    p.add_argument("--test-size", type=float, default=0.2)
    p.add_argument("--write-train-split", type=Path)
    p.add_argument("--throughput", type=int, metavar="N")
    args = p.parse_args(argv)
    if args.throughput:
        return throughput(args.throughput)
    train, test = held_out(args.test_size)
    if args.write_train_split:
        args.write_train_split.mkdir(parents=True, exist_ok=True)
        (args.write_train_split / "train.yml").write_text(dump_yaml(train), encoding="utf-8")  # type: ignore[arg-type]
        print(f"wrote {args.write_train_split / 'train.yml'}")
    t0 = time.perf_counter()
    local = LocalNlu(training_data=train, cache_dir=False)  # type: ignore[arg-type]
    local.model()
    print(f"local model trained in {time.perf_counter() - t0:.2f} s on {len(train.examples)} examples")  # type: ignore[attr-defined]
    local_report = evaluate_local(local, test)
    format_report(local_report, sys.stdout)
    if args.rasa_url:
        rasa_report = asyncio.run(evaluate_rasa(args.rasa_url, test))
        rasa_report.name = "rasa"
        format_report(rasa_report, sys.stdout)
        lp50, rp50 = local_report.latency_ms["p50"], rasa_report.latency_ms["p50"]
        print(
            f"ratio rasa/local: latency p50 x{rp50 / lp50:.1f}, p99 x{rasa_report.latency_ms['p99'] / local_report.latency_ms['p99']:.1f}; "
            f"accuracy {rasa_report.accuracy:.3f} vs {local_report.accuracy:.3f}, "
            f"macro-F1 {rasa_report.macro_f1:.3f} vs {local_report.macro_f1:.3f}"
        )
    print(f"held-out: {len(test)} messages; local p50 {np.round(local_report.latency_ms['p50'], 2)} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

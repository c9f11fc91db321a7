"""Knowledge-base search latency: p50/p95 of KnowledgeBase.search against a substring scan.

Run: .venv/bin/python bench/kb_bench.py [--rounds N]
Both are timed in the same run over the same queries (the held-out teacher questions of
tests/kb/test_search_quality.py plus a few long e-mails), so the ratio is machine-independent.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb.articles import Article  # noqa: E402
from kb.search import KnowledgeBase  # noqa: E402
from kb.text import fold  # noqa: E402
from tests.kb.test_search_quality import HELD_OUT, OUT_OF_SCOPE  # noqa: E402

LONG = [
    "Bonjour, depuis ce matin le vidéoprojecteur de la classe de CM2 affiche un écran bleu avec "
    "marqué aucune source, j'ai vérifié le câble HDMI et redémarré l'ordinateur mais rien. "
    "Pouvez-vous m'aider ? Cordialement, Mme Martin, école Jules Ferry, Firminy",
    "Les tablettes de la valise ne se chargent plus depuis les vacances, le voyant de la prise "
    "reste éteint et la moitié sont à plat le matin. Merci d'avance.",
]


def substring_baseline(articles: tuple[Article, ...]) -> Callable[[str], list[str]]:
    """The naive search: count query words found as substrings of each folded article."""
    texts = [
        (a.slug, fold(" ".join((a.title, a.summary, " ".join(a.keywords), a.body))))
        for a in articles
    ]

    def search(query: str) -> list[str]:
        words = [w for w in fold(query).split() if len(w) > 2]
        scored = [(sum(w in text for w in words), slug) for slug, text in texts]
        return [slug for count, slug in sorted(scored, reverse=True)[:3] if count]

    return search


def timings(fn: Callable[[str], object], queries: list[str], rounds: int) -> list[float]:
    for query in queries:  # warm-up: typo cache, CPU caches
        fn(query)
    out = []
    for _ in range(rounds):
        for query in queries:
            start = time.perf_counter()
            fn(query)
            out.append((time.perf_counter() - start) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    start = time.perf_counter()
    kb = KnowledgeBase.from_directory()
    load_ms = (time.perf_counter() - start) * 1000
    queries = [q for q, _, _ in HELD_OUT] + OUT_OF_SCOPE + LONG
    triage = {q: e for q, e, _ in HELD_OUT}
    ours = timings(
        lambda q: kb.best_for(q, "howto", triage.get(q)), queries, args.rounds
    )
    base = timings(substring_baseline(kb.articles), queries, args.rounds)
    p50, p95 = pct(ours, 50), pct(ours, 95)
    b50, b95 = pct(base, 50), pct(base, 95)
    print(
        f"articles: {len(kb)}, queries: {len(queries)} x {args.rounds} rounds, "
        f"load+index: {load_ms:.0f} ms"
    )
    print(f"kb.best_for      p50 {p50:.3f} ms  p95 {p95:.3f} ms  max {max(ours):.3f} ms")
    print(f"substring scan   p50 {b50:.3f} ms  p95 {b95:.3f} ms")
    print(f"ratio (ours / substring)  p50 x{p50 / b50:.2f}  p95 x{p95 / b95:.2f}")
    print("target p95 < 5 ms:", "OK" if p95 < 5 else "NOT MET")
    return 0 if p95 < 5 else 1


if __name__ == "__main__":
    raise SystemExit(main())

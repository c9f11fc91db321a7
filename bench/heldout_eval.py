"""Score the desk on the held-out unseen messages (nlu/heldout/messages.yml): intent, organisation,
equipment, macro-F1, how often it asks a clarifying question and how often it was right not to;
with `--rasa`, Rasa 3.6 DIET trained on the same nlu/data is scored on the same messages in the
same run (in process, in its own venv: `scripts/rasa.sh setup && scripts/rasa.sh train` first).
What is scored is what the desk decides with each backend as its NLU, as `guichet triage` prints
it: a message with several problems is scored on its first ticket (the first problem).

    python bench/heldout_eval.py [--territory sem] [--rasa] [--errors] [--file F ...]

By default every held-out set of nlu/heldout/ is scored, each on its own (set A `messages.yml`,
set B `messages_b.yml` when present); `--file` names one or more. The held-out files are never
training data (tests/nlu/test_heldout.py checks they do not leak).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from guichet.triage import triage_parsed  # noqa: E402
from nlu.problems import problem_spans  # noqa: E402
from nlu import LocalNlu, ParseResult, needs_clarification  # noqa: E402
from nlu.evaluate import intent_metrics  # noqa: E402
from routing import load_territory  # noqa: E402

HELDOUT_DIR = ROOT / "nlu" / "heldout"

# Runs in Rasa's Python 3.10 venv: parse each text of stdin (JSON list) with the trained model.
RASA_SCORER = r"""
import asyncio, json, logging, sys
logging.disable(logging.WARNING)
from rasa.core.agent import Agent
texts = json.load(sys.stdin)
agent = Agent.load(sys.argv[1])
async def main():
    return [await agent.parse_message(t) for t in texts]
out = asyncio.run(main())
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump([{"text": o["text"], "intent": o["intent"],
                "intent_ranking": o.get("intent_ranking", []), "entities": o.get("entities", [])}
               for o in out], f)
"""


def desk_rows(territory, items: list[dict], parse) -> tuple[list[ParseResult], list[dict]]:
    """What the desk decides for each message with `parse` (texts -> ParseResults) as its NLU: the
    message and the parts `problem_spans` cuts are parsed by the same backend, and the top level
    of a message with several problems is its first ticket's (`guichet.triage.triage_parsed`)."""
    texts = [it["text"] for it in items]
    spans = [problem_spans(t) for t in texts]
    results = parse(texts)
    part_texts = [t[a:b] for t, cut in zip(texts, spans) if len(cut) > 1 for a, b in cut]
    parts = iter(parse(part_texts) if part_texts else [])
    rows = [triage_parsed(territory, r, it["school_status"], it["asset_owner"], cut,
                          [next(parts) for _ in cut] if len(cut) > 1 else [])
            for it, r, cut in zip(items, results, spans)]
    return results, rows


def score(name: str, items: list[dict], results: list[ParseResult], rows: list[dict], errors: bool) -> dict:
    n = len(items)
    gold, pred = [it["intent"] for it in items], [r["intent"] for r in rows]
    m = intent_metrics(gold, pred)
    # The doors ask nothing of a message that is unsure only because it mixes two clear problems.
    asked = [needs_clarification(r) is not None and "problems" not in row for r, row in zip(results, rows)]
    confident = [(g == p) for g, p, a in zip(gold, pred, asked) if not a]
    out = {
        "backend": name,
        "messages": n,
        "intent_accuracy": round(m["accuracy"], 3),
        "macro_f1": round(m["macro_f1"], 3),
        "org_accuracy": round(sum(r["org"] == it["org"] for r, it in zip(rows, items)) / n, 3),
        "equipment_accuracy": round(sum(r["equipment"] == it["equipment"] for r, it in zip(rows, items)) / n, 3),
        "ask_rate": round(sum(asked) / n, 3),
        "right_not_to_ask": round(sum(confident) / len(confident), 3) if confident else None,
        "english_flagged": f"{sum(r.language == 'en' for r, it in zip(results, items) if it.get('language') == 'en')}"
        f"/{sum(it.get('language') == 'en' for it in items)}",
        "top_confusions": m["confusions"][:6],
    }
    if errors:
        for it, r in zip(items, rows):
            for k in ("intent", "org", "equipment"):
                if r[k] != it[k]:
                    print(f"  [{name}] {k}: expected {it[k]} got {r[k]} ({r['confidence']:.2f}) {it['text'][:80]}")
    return out


def rasa_results(texts: list[str]) -> list[ParseResult]:
    venv = Path(os.environ.get("GUICHET_RASA_VENV", ROOT / ".rasa-venv"))
    model = Path(os.environ.get("GUICHET_RASA_MODELS", ROOT / "var" / "rasa" / "models")) / "guichet-nlu.tar.gz"
    # The parses come back in a file: Rasa and TensorFlow write to stdout too.
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([str(venv / "bin" / "python"), "-c", RASA_SCORER, str(model), out.name],
                       input=json.dumps(texts), capture_output=True, text=True, check=True,
                       env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"})
        return [ParseResult.from_rasa_json(o) for o in json.load(open(out.name, encoding="utf-8"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--territory", default="sem")
    parser.add_argument("--rasa", action="store_true", help="also score Rasa 3.6 DIET in this run")
    parser.add_argument("--errors", action="store_true", help="list every miss")
    parser.add_argument("--file", action="append", type=Path,
                        help="a held-out YAML file (default: every messages*.yml of nlu/heldout)")
    args = parser.parse_args()
    territory = load_territory(args.territory)
    nlu = LocalNlu()
    nlu.model()
    for path in args.file or sorted(HELDOUT_DIR.glob("messages*.yml")):
        print(f"== {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        evaluate_file(path, territory, nlu, args.rasa, args.errors)


def evaluate_file(path: Path, territory, nlu: LocalNlu, rasa: bool, errors: bool) -> None:
    items = yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]
    t0 = time.perf_counter()
    for it in items:
        nlu.parse(it["text"])
    per_msg_ms = (time.perf_counter() - t0) * 1000 / len(items)
    local, rows = desk_rows(territory, items, lambda texts: [nlu.parse(t) for t in texts])
    reports = [score("guichet", items, local, rows, errors)]
    split = [row.get("problems", []) for row in rows]
    two = [(it, p) for it, p in zip(items, split) if it.get("second")]
    reports[0]["two_problems_found"] = f"{sum(any((q['intent'], q['org']) == (it['second']['intent'], it['second']['org']) for q in p) for it, p in two)}/{len(two)}"
    reports[0]["false_splits"] = f"{sum(bool(p) for it, p in zip(items, split) if not it.get('second'))}/{len(items) - len(two)}"
    if errors:
        for it, p in zip(items, split):
            if p and not it.get("second"):
                print(f"  [guichet] false split into {[(q['intent'], q['org']) for q in p]}: {it['text'][:80]}")
    reports[0]["mean_parse_ms"] = round(per_msg_ms, 3)
    if rasa:
        reports.append(score("rasa-3.6-diet", items, *desk_rows(territory, items, rasa_results), errors))
    for rep in reports:
        print(json.dumps(rep, ensure_ascii=False))
    if rasa:
        diff = reports[0]["macro_f1"] - reports[1]["macro_f1"]
        print(f"macro-F1 guichet {reports[0]['macro_f1']:.3f} vs Rasa DIET {reports[1]['macro_f1']:.3f}: "
              f"{diff * 100:+.1f} points (target +5)")

if __name__ == "__main__":
    main()

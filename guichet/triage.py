"""`guichet triage --jsonl`: JSON lines in, triage and routing decision out (DOMAIN.md §3).

No database and no network: the in-process NLU and the territory's rules only. A message that
reports several problems is printed as the doors handle it: the first ticket's reading at the top
level, every problem under `problems`, each routed on its own (`handlers.problems`).
"""

from __future__ import annotations

import gc
import itertools
import json
import multiprocessing as mp
import os
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from domain.vocabulary import AssetOwner, Equipment, Intent, SchoolStatus
from handlers.problems import (
    Problem,
    announces_subject,
    confident_part,
    problems_beside_question,
    problems_of,
    without,
)
from nlu import LocalNlu, ParseResult
from nlu.problems import problem_spans
from routing import Territory, TerritoryError, decide, load_territory

BATCH = 512
# The members by value (a dictionary lookup instead of the enum's call).
_EQUIPMENT = {e.value: e for e in Equipment}
_STATUS = {s.value: s for s in SchoolStatus}
_OWNERS = frozenset(o.value for o in AssetOwner)
# One encoder for every output line (`json.dumps` with options builds a new one per call).
_encode = json.JSONEncoder(ensure_ascii=False).encode


def _entity_json(result: ParseResult) -> list[dict[str, Any]]:
    return [
        {"entity": e.entity, "value": e.value, "start": e.start, "end": e.end}
        for e in result.entities
    ]


def triage_one(
    territory: Territory,
    result: ParseResult,
    school_status: str,
    asset_owner: str | None,
    first: Problem | None = None,
    others: Sequence[Problem] = (),
) -> dict[str, Any]:
    """The output object for one parsed message; for a message with several problems, the top level
    is the first ticket's: the `first` problem's reading, routed on the message without the
    `others` (`handlers.problems.reading_of`, `without`: what the doors open first)."""
    intent, equipment, confidence, text = result.intent, result.equipment, result.confidence, result.text
    if first is not None:
        intent, equipment, confidence = first.intent, first.equipment, first.confidence
        text = without(text, [p.to_pending() for p in others])
    decision = decide(
        territory,
        intent=intent,
        equipment=(_EQUIPMENT.get(equipment) or Equipment(equipment)) if equipment else None,
        school_status=_STATUS.get(school_status) or SchoolStatus(school_status),
        asset_owner=AssetOwner(asset_owner) if asset_owner else None,
        text=text,
    )
    out: dict[str, Any] = {
        "intent": intent.value,
        "confidence": round(confidence, 4),
        "language": result.language,
        "entities": _entity_json(result),
        "equipment": equipment,
        "role": decision.role.value if decision.role else None,
        "org": decision.org_kind,
        "sla": decision.sla.value if decision.sla else None,
        "reason": decision.reason,
        "rule": decision.rule_id,
    }
    if decision.followup is not None:
        follow = decision.followup
        out["followup"] = {
            "role": follow.role.value if follow.role else None,
            "org": follow.org_kind,
            "sla": follow.sla.value if follow.sla else None,
            "reason": follow.reason,
        }
    return out


def problems(
    territory: Territory, nlu: LocalNlu, text: str, school_status: str, asset_owner: str | None
) -> list[dict[str, Any]]:
    """The problems of a message that reports several, each routed on its own; [] for one problem
    (the rule is the doors' one: `handlers.problems`)."""
    spans = problem_spans(text)
    if len(spans) < 2:
        return []
    parts = nlu.parse_many([text[a:b] for a, b in spans], routing_only=True)
    return [p.to_json() for p in _problems_of(territory, text, spans, parts, school_status, asset_owner)]


def _problems_of(
    territory: Territory,
    text: str,
    spans: list[tuple[int, int]],
    parts: list[ParseResult],
    school_status: str,
    asset_owner: str | None,
) -> list[Problem]:
    return problems_of(territory, text, spans, parts, school_status=_STATUS[school_status], asset_owner=asset_owner)


def triage_parsed(
    territory: Territory,
    result: ParseResult,
    school_status: str,
    asset_owner: str | None,
    spans: Sequence[tuple[int, int]],
    parts: Sequence[ParseResult],
) -> dict[str, Any]:
    """The output object of one message from its parse and its parts' parses (`problem_spans`;
    no parts for a message that is not cut): with several problems, the first ticket's reading at
    the top level and every problem under `problems`; a status question beside a problem is the
    problem's ticket (`handlers.problems.problems_beside_question`)."""
    several = _problems_of(territory, result.text, list(spans), list(parts), school_status, asset_owner) \
        if len(spans) > 1 else []
    if not several and len(spans) > 1 and result.intent is Intent.TICKET_STATUS:
        # « la souris est HS, et où en est la demande 2024-0318 ? »: the first ticket is the mouse's.
        several = problems_beside_question(territory, result.text, list(spans), list(parts),
                                           school_status=_STATUS[school_status], asset_owner=asset_owner)
        if len(several) == 1:
            return triage_one(territory, result, school_status, asset_owner, several[0])
    if not several:
        return triage_one(territory, result, school_status, asset_owner)
    out = triage_one(territory, result, school_status, asset_owner, several[0], several[1:])
    out["problems"] = [p.to_json() for p in several]
    return out


def triage_lines(territory: Territory, nlu: LocalNlu, lines: list[str]) -> str:
    """The output lines of a batch of input lines: one vectorised parse for the messages, one
    for the parts of the messages that may report several problems."""
    parsed: list[tuple[str, str, str | None] | str] = []
    for line in lines:
        try:
            parsed.append(_validate(line))
        except ValueError as exc:
            parsed.append(str(exc))
    valid = [p for p in parsed if isinstance(p, tuple)]
    # The output reads the top of the ranking only.
    results = nlu.parse_many([p[0] for p in valid], ranking=1) if valid else []
    spans = [problem_spans(p[0]) for p in valid]
    part_texts = [p[0][a:b] for p, cut in zip(valid, spans, strict=True) if len(cut) > 1 for a, b in cut]
    parts = iter(_parse_parts(nlu, part_texts, spans)) if part_texts else iter(())
    out: list[str] = []
    n = 0
    for item in parsed:
        if isinstance(item, str):
            out.append(_encode({"error": item}))
            continue
        text, status, owner = item
        cut = spans[n]
        one = triage_parsed(territory, results[n], status, owner, cut, [next(parts) for _ in cut] if len(cut) > 1 else [])
        n += 1
        out.append(_encode(one))
    return "\n".join(out) + "\n"


def _parse_parts(nlu: LocalNlu, part_texts: list[str], spans: list[list[tuple[int, int]]]) -> list[ParseResult]:
    """The parts of the messages cut in several, parsed for routing: the entities only of the
    parts `_problems_of` reads (confident ones, in a message with at least two of them, and the
    part announcing the subject)."""
    parts = nlu.parse_many(part_texts, routing_only=True, entities=False)
    n = 0
    for cut in spans:
        if len(cut) < 2:
            continue
        mine = range(n, n + len(cut))
        n += len(cut)
        confident = [i for i in mine if confident_part(parts[i])]
        if len(confident) > 1:
            # and the part announcing what the message is about: its device is the next problem's
            for i in [*confident, *(i for i in mine if i not in confident and announces_subject(parts[i]))]:
                parts[i] = nlu.with_entities(parts[i], routing_only=True)
    return parts


def _validate(line: str) -> tuple[str, str, str | None]:
    """Text, school status and asset owner of one input line, or ValueError with a reason."""
    if not line.strip():
        raise ValueError("ligne vide")
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"ligne JSON invalide : {exc.msg}") from None
    if not isinstance(data, dict):
        raise ValueError("un objet JSON est attendu")
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("le champ « text » (chaîne) est obligatoire")
    status = data.get("school_status") or "public"
    if status not in _STATUS:
        raise ValueError(f"school_status inconnu : {status!r}")
    owner = data.get("asset_owner")
    if owner is not None and owner not in _OWNERS:
        raise ValueError(f"asset_owner inconnu : {owner!r}")
    return text, status, owner


def _batches(stream: TextIO) -> Iterator[list[str]]:
    batch: list[str] = []
    for line in stream:
        batch.append(line.rstrip("\n"))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


# Set in the parent before the workers fork (they inherit the loaded model, never pickle it).
_WORKER: tuple[Territory, LocalNlu] | None = None


def _work(lines: list[str]) -> str:
    assert _WORKER is not None
    return triage_lines(*_WORKER, lines)


def run_jsonl(
    stdin: TextIO,
    stdout: TextIO,
    *,
    territory: str = "sem",
    nlu: LocalNlu | None = None,
    jobs: int = 1,
) -> int:
    """Process every line; a bad line yields {"error": ...} and the rest goes on.

    `jobs` worker processes share the batches (output order kept); 0 means one per core as soon
    as the input holds more than one batch. Workers are forked after the model is loaded.
    """
    global _WORKER
    try:
        preset = load_territory(territory, check_holidays=False)  # routing only: no clock counts here
    except (TerritoryError, FileNotFoundError, KeyError) as exc:
        print(json.dumps({"error": f"territoire inconnu ou invalide : {exc}"}, ensure_ascii=False),
              file=stdout)
        return 2
    nlu = nlu or LocalNlu()
    nlu.compiled()
    batches = _batches(stdin)
    first = next(batches, None)
    if first is None:
        return 0
    second = next(batches, None) if jobs != 1 else None
    workers = (os.cpu_count() or 1) if jobs == 0 else jobs
    # The model's objects leave the collector's sight (and the workers' shared pages stay untouched).
    gc.freeze()
    try:
        if second is None or workers <= 1 or "fork" not in mp.get_all_start_methods():
            for batch in itertools.chain([first], [second] if second else [], batches):
                stdout.write(triage_lines(preset, nlu, batch))
                stdout.flush()
            return 0
        _WORKER = (preset, nlu)
        with mp.get_context("fork").Pool(workers) as pool:
            for out in pool.imap(_work, itertools.chain([first, second], batches)):
                stdout.write(out)
            stdout.flush()
    finally:
        _WORKER = None
        gc.unfreeze()
    return 0

"""When is the NLU unsure enough that the bot should ask which of 2-3 intents was meant?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.vocabulary import Intent

from .result import ParseResult

#: Below this top confidence, cross-validated accuracy on nlu/data falls under ~0.8
#: (computed by `suggest_threshold` in `nlu evaluate`; the numbers are in nlu/README.md).
CLARIFY_THRESHOLD = 0.67
#: A candidate intent is offered when its confidence reaches this share of the top one.
CANDIDATE_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class Clarification:
    """The intents to offer the teacher, most likely first."""

    candidates: tuple[Intent, ...]
    confidence: float


def needs_clarification(
    result: ParseResult, threshold: float = CLARIFY_THRESHOLD, max_candidates: int = 3
) -> Clarification | None:
    """None when the top intent is confident enough, else the 2-3 intents worth offering."""
    if result.confidence >= threshold:
        return None
    ranking = list(result.intent_ranking) or []
    if not ranking:
        return Clarification((result.intent,), result.confidence)
    top = ranking[0].confidence
    picked = [s.intent for s in ranking[:max_candidates] if s.confidence >= top * CANDIDATE_SHARE]
    if len(picked) < 2 and len(ranking) > 1:
        picked = [s.intent for s in ranking[:2]]
    return Clarification(tuple(picked), result.confidence)


def suggest_threshold(
    confidences: Sequence[float], correct: Sequence[bool], target_accuracy: float = 0.8, min_bin: int = 20
) -> float:
    """The lowest confidence above which predictions reach `target_accuracy`.

    Sorts the predictions by confidence and slides a window of `min_bin` from the top:
    the threshold is the confidence where the windowed accuracy first drops below the target.
    """
    pairs = sorted(zip(confidences, correct, strict=True), key=lambda p: -p[0])
    if not pairs:
        return CLARIFY_THRESHOLD
    window = max(1, min(min_bin, len(pairs)))
    threshold = pairs[-1][0]
    for i in range(0, len(pairs) - window + 1):
        chunk = pairs[i : i + window]
        acc = sum(ok for _, ok in chunk) / window
        if acc < target_accuracy:
            threshold = chunk[0][0]
            break
    return round(float(threshold), 3)

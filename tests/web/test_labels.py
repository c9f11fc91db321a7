"""French labels of the timeline: every event kind the code writes has one, never its identifier."""

from __future__ import annotations

import ast
from pathlib import Path

from web import labels

ROOT = Path(__file__).resolve().parents[2]
#: The layers that write ticket events.
WRITERS = ("handlers", "desk", "bot")
#: Calls that name an event's kind (and their defaults): the repository's writer, the model, the agents' reply helper.
KIND_CALLS = {"add_event": 2, "TicketEvent": None, "_reply": None}


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def written_kinds() -> set[str]:
    """Every literal event kind passed to the event writers in the writing layers."""
    kinds: set[str] = set()
    for layer in WRITERS:
        for path in (ROOT / layer).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and node.name in KIND_CALLS:
                    # A writer's own default kind (`_reply(..., kind="reply")`).
                    pairs = zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True)
                    kinds |= {d.value for a, d in pairs if a.arg == "kind" and isinstance(d, ast.Constant)}
                if not isinstance(node, ast.Call) or _name(node.func) not in KIND_CALLS:
                    continue
                position = KIND_CALLS[_name(node.func)]
                values = [k.value for k in node.keywords if k.arg == "kind"]
                if position is not None and len(node.args) > position:
                    values.append(node.args[position])
                kinds |= {v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)}
    return kinds


def test_the_scan_finds_the_kinds_written_through_each_writer() -> None:
    """The scan sees kinds written by add_event, by TicketEvent and by the agents' question."""
    assert {"created", "message", "status", "reply", "question", "kb", "note", "satisfaction"} <= written_kinds()


def test_every_written_event_kind_has_a_french_label() -> None:
    """No kind the code writes falls back to a generic heading, let alone to its English identifier."""
    missing = sorted(kind for kind in written_kinds() if kind not in labels.EVENT)
    assert missing == []
    for kind in written_kinds():
        assert labels.event_label(kind) != kind.replace("_", " ").capitalize()


def test_an_unknown_kind_reads_in_french() -> None:
    """A kind no table knows yet gets a French heading, not « Some kind »."""
    assert labels.event_label("some_kind") == "Événement"
    assert labels.event_label("sla_breached") == "Échéance (engagement de service)"


def test_a_question_is_not_labelled_as_a_reply() -> None:
    """The agent's question and reply read differently in the timeline."""
    assert labels.event_label("question") == "Question au demandeur"
    assert labels.event_label("reply") == "Réponse au demandeur"
    assert labels.event_label("kb") == "Tutoriels essayés par le demandeur"

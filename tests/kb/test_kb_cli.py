"""`guichet kb search` and `guichet kb check` through the real command line."""

from __future__ import annotations

import io
import json

from guichet.cli import main
from guichet.kb_cli import run


def test_search_prints_a_french_table() -> None:
    """Hits come with score, slug and title under a French header, best first."""
    out = io.StringIO()
    assert main(["kb", "search", "le projo affiche pas de signal", "--equipment", "projector"], stdout=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == "Articles trouvés pour « le projo affiche pas de signal » :"
    assert "projector-no-signal" in lines[2] and "Pas de signal" in lines[2]


def test_search_json_lines() -> None:
    """--json prints one JSON object per hit with slug, title and score."""
    out = io.StringIO()
    assert run(["search", "bourrage papier", "--intent", "howto", "--json", "--limit", "2"], out) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(rows) == 2 and rows[0]["slug"] == "printer-paper-jam"
    assert set(rows[0]) == {"slug", "title", "score"}


def test_no_hit_and_bad_option() -> None:
    """No match is said in French (exit 0); an unknown intent is a usage error (exit 2)."""
    out = io.StringIO()
    assert run(["search", "pizzeria"], out) == 0
    assert out.getvalue().startswith("Aucun article ne correspond")
    assert run(["search", "x", "--intent", "nope"], io.StringIO()) == 2


def test_check_counts_valid_articles() -> None:
    """`kb check` validates every article file."""
    out = io.StringIO()
    assert run(["check"], out) == 0
    assert out.getvalue().strip().endswith("articles valides.")

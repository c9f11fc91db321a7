"""French typography on every page, from the same helper as the chat's messages (issue 12, item 14)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.french import NNBSP
from web.typography import finalize, french_source

TEMPLATES = sorted((Path(__file__).resolve().parents[2] / "web" / "templates").rglob("*.html"))
_TAGS = re.compile(r"(\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<script\b.*?</script>|<style\b.*?</style>|<[^>]*>)", re.S)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.parent.name + "/" + p.name)
def test_no_mark_of_a_template_can_wrap_alone(path: Path) -> None:
    """Once loaded, no template's text has a breakable space before « ? ! : ; » or inside « »; tags,
    jinja2 code and scripts are untouched."""
    source = path.read_text(encoding="utf-8")
    loaded = french_source(source)
    text = [part for index, part in enumerate(_TAGS.split(loaded)) if index % 2 == 0]
    for part in text:
        assert not re.search(r"[ \t][?!:;]|« | »", part), (path.name, part)
    assert _TAGS.findall(loaded) == _TAGS.findall(source)


def test_printed_values_get_typography_but_markup_is_left_alone() -> None:
    from markupsafe import Markup

    assert finalize("Plus d'internet ?") == f"Plus d'internet{NNBSP}?"
    assert finalize(Markup("<b>a ?</b>")) == Markup("<b>a ?</b>")
    assert finalize(3) == 3 and finalize(None) is None


"""French typography on every page: the same helper as the chat's messages (domain.french).

Two hooks per jinja2 environment, so no template has to remember it:
- `FrenchLoader` applies it to the templates' own text when they are loaded (once per
  process): the text between HTML tags and jinja2 tags, never inside a tag, a script or a style;
- `finalize` applies it to every value a template prints that is not already markup
  (a ticket's subject, an article's title, a flash message).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jinja2
from markupsafe import Markup

from domain.french import typography

__all__ = ["FrenchLoader", "finalize", "french_source"]

#: What is not text: jinja2 expressions, statements and comments, scripts, styles, HTML tags.
_NOT_TEXT = re.compile(
    r"(\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<script\b.*?</script>|<style\b.*?</style>|<[^>]*>)",
    re.DOTALL | re.IGNORECASE,
)


def french_source(source: str) -> str:
    """A template's source with French typography on its text only."""
    parts = _NOT_TEXT.split(source)
    # split() with one group alternates text, match, text, …: the odd indices are not text.
    return "".join(part if index % 2 else typography(part) for index, part in enumerate(parts))


class FrenchLoader(jinja2.FileSystemLoader):
    """A FileSystemLoader whose templates come out with French typography on their text."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        source, filename, uptodate = super().get_source(environment, template)
        return french_source(source), filename, uptodate


def finalize(value: Any) -> Any:
    """Every printed value that is plain text gets French typography; markup is left as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return typography(value)
    return value


"""A small, safe Markdown renderer for the articles: nothing from the source reaches the page raw.

Supported: headings, numbered and bulleted lists, pipe tables, paragraphs, **bold** and
`code`. Every piece of text is HTML-escaped before the few inline marks become tags, so an
article cannot inject markup, scripts or links.
"""

from __future__ import annotations

import re
from html import escape

from markupsafe import Markup

from domain.french import typography

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ORDERED = re.compile(r"^(\d{1,3})[.)]\s+(.*)$")
_BULLET = re.compile(r"^[-*+]\s+(.*)$")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")


def inline(text: str) -> str:
    """French typography, escape the text, then turn **bold** and `code` into tags."""
    html = escape(typography(text.strip()), quote=True)
    html = _CODE.sub(r"<code>\1</code>", html)
    return _BOLD.sub(r"<strong>\1</strong>", html)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table(lines: list[str]) -> str:
    header, rows = _cells(lines[0]), [_cells(line) for line in lines[2:]]
    head = "".join(f'<th scope="col">{inline(cell)}</th>' for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{inline(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(source: str, *, top_level: int = 2) -> Markup:
    """HTML for an article body; no heading goes above <h{top_level}>, so the page keeps one <h1>."""
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag: str | None = None
    list_start = 1
    lines = source.splitlines()

    def close() -> None:
        nonlocal list_tag
        if paragraph:
            out.append(f"<p>{inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if list_tag:
            start = f' start="{list_start}"' if list_tag == "ol" and list_start != 1 else ""
            out.append(f"<{list_tag}{start}>" + "".join(f"<li>{i}</li>" for i in items) + f"</{list_tag}>")
            items.clear()
            list_tag = None

    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        stripped = line.strip()
        if not stripped:
            close()
        elif heading := _HEADING.match(stripped):
            close()
            level = max(top_level, len(heading.group(1)))
            out.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
        elif stripped.startswith("|") and i + 1 < len(lines) and _TABLE_RULE.match(lines[i + 1].strip()):
            close()
            block = [stripped]
            while i + 1 < len(lines) and lines[i + 1].strip().startswith("|"):
                i += 1
                block.append(lines[i].strip())
            out.append(_table(block))
        elif (item := _ORDERED.match(stripped)) or (item := _BULLET.match(stripped)):
            tag = "ol" if item.re is _ORDERED else "ul"
            if list_tag != tag or paragraph:
                close()
                list_tag = tag
                list_start = int(item.group(1)) if tag == "ol" else 1
            items.append(inline(item.group(item.re.groups)))
        elif list_tag and line.startswith((" ", "\t")):
            items[-1] += " " + inline(stripped)
        else:
            if list_tag:
                close()
            paragraph.append(stripped)
        i += 1
    close()
    return Markup("\n".join(out))

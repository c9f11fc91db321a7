"""Server-side SVG charts: readable without JavaScript, printable, accessible (a title and a
description; the figures stay in the table beside them)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from handlers.committee import CommitteeReview

__all__ = ["committee_chart", "paired_bars"]

_ROW = 26
_LABEL = 190
_WIDTH = 640
_CURRENT, _PREVIOUS = "#1f5fbf", "#9fb6da"


def paired_bars(title: str, rows: Sequence[tuple[str, int, int]], current: str, previous: str) -> Markup:
    """One row per label: this period's bar above the previous period's, to the same scale."""
    top = 34
    height = top + _ROW * max(1, len(rows)) + 8
    scale = (_WIDTH - _LABEL - 60) / max([1] + [max(a, b) for _, a, b in rows])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" width="100%" '
        f'role="img" aria-labelledby="chart-title chart-desc" class="chart">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(current)} en bleu foncé, {escape(previous)} en bleu clair.</desc>',
        f'<rect x="{_LABEL}" y="4" width="12" height="12" fill="{_CURRENT}"/>'
        f'<text x="{_LABEL + 18}" y="15" font-size="12">{escape(current)}</text>',
        f'<rect x="{_LABEL + 200}" y="4" width="12" height="12" fill="{_PREVIOUS}"/>'
        f'<text x="{_LABEL + 218}" y="15" font-size="12">{escape(previous)}</text>',
    ]
    for index, (label, now, before) in enumerate(rows):
        y = top + index * _ROW
        shown = label if len(label) <= 28 else label[:27] + "…"
        parts.append(f'<text x="{_LABEL - 8}" y="{y + 14}" font-size="12" text-anchor="end">{escape(shown)}</text>')
        parts.append(f'<rect x="{_LABEL}" y="{y + 2}" width="{now * scale:.1f}" height="10" fill="{_CURRENT}"/>')
        parts.append(f'<text x="{_LABEL + now * scale + 4:.1f}" y="{y + 11}" font-size="11">{now}</text>')
        parts.append(f'<rect x="{_LABEL}" y="{y + 13}" width="{before * scale:.1f}" height="8" fill="{_PREVIOUS}"/>')
        parts.append(f'<text x="{_LABEL + before * scale + 4:.1f}" y="{y + 21}" font-size="10">{before}</text>')
    if not rows:
        parts.append(f'<text x="{_LABEL}" y="{top + 14}" font-size="12">Aucun incident sur ces deux périodes.</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def committee_chart(review: CommitteeReview) -> Markup:
    """The committee review's communes (the fifteen with most incidents), this period beside the previous."""
    return paired_bars("Vols et dégradations par commune",
                       [(row.commune, row.incidents, row.previous) for row in review.communes[:15]],
                       review.period.label, review.previous.label)

"""Printable documents — the committee pack, the insurance list, a claim file's statement: one
standalone HTML page each (no agents' menu, no script), and the same HTML as a PDF (WeasyPrint).

The pages and the command share these templates, so a PDF shows exactly what the page shows.
WeasyPrint is imported on first use: the desk starts without it when no one prints.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from domain.french import duration_fr, euros, percent_fr
from handlers.committee import CommitteeReview
from handlers.sla_report import ComplianceRow, month_label
from web import labels
from web.typography import FrenchLoader, finalize

__all__ = ["committee_pack", "pdf", "pdf_response", "render_document"]

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=FrenchLoader(TEMPLATES), autoescape=True, finalize=finalize,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["euros"] = euros
    env.filters["day"] = lambda value: "—" if value is None else value.strftime("%d/%m/%Y")
    env.globals.update(labels=labels, percent=percent_fr, hours=duration_fr, month_label=month_label)
    return env


def render_document(name: str, **context: Any) -> str:
    """The standalone page `documents/<name>.html`, typeset in French."""
    return _environment().get_template(f"documents/{name}.html").render(**context)


def pdf(html: str) -> bytes:
    """The page as an A4 PDF (page size, margins and page numbers come from the page's own CSS)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=None).write_pdf()


def pdf_response(html: str, filename: str) -> web.Response:
    """The page as a PDF to download under `filename`, never cached (it holds the day's figures)."""
    return web.Response(body=pdf(html), content_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


def committee_pack(review: CommitteeReview, compliance: list[ComplianceRow], territory: str) -> str:
    """The technical committee's pack for one period: the review of thefts and damages with its
    chart (art. 6), then the commitments kept on the tickets opened in those two months (art. 8)."""
    from web.charts import committee_chart

    return render_document("committee", c=review, compliance=compliance, territory=territory,
                           chart=committee_chart(review))

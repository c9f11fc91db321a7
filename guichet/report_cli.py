"""`guichet report committee`: the technical committee's bimonthly review, territory-wide."""

from __future__ import annotations

import sys
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from desk.clock import utcnow
from desk.models import Organisation
from desk.repositories import get_territory
from domain.vocabulary import AgentRole, OrgKind
from handlers.agent_scope import Actor
from handlers.committee import Period, committee_review, review_csv
from handlers.sla_report import compliance
from guichet.document_output import refuses_pdf_here, write_document


async def committee(sessions: async_sessionmaker[AsyncSession], territory_name: str, period_text: str | None,
                    output: str, stdout: TextIO, destination: str | None = None) -> int:
    """The review on stdout (HTML or CSV), or in `destination`; a PDF needs a file or a pipe."""
    if refuses_pdf_here(output, destination, stdout):
        return 2
    async with sessions() as session:
        territory = await get_territory(session, territory_name)
        operator = await session.scalar(select(Organisation).where(
            Organisation.territory_id == territory.id, Organisation.kind == OrgKind.SEM))
        today = utcnow().astimezone(ZoneInfo(territory.timezone)).date()
        try:
            period = Period.parse(period_text) if period_text else Period.last_complete(today)
        except ValueError as exc:
            print(f"guichet: {exc}", file=sys.stderr)
            return 2
        actor = Actor(id=0, email="", name="guichet report", role=AgentRole.ADMIN,
                      organisation_id=operator.id if operator else 0,
                      organisation_name=operator.name if operator else territory.name,
                      territory_id=territory.id, timezone=territory.timezone)
        review = await committee_review(session, actor, period)
        rows = await compliance(session, actor, between=(period.start, period.end)) if output != "csv" else []
    if output == "csv":
        data: str | bytes = review_csv(review)
    else:
        from web.documents import committee_pack, pdf

        data = committee_pack(review, rows, territory.name)
        data = pdf(data) if output == "pdf" else data
    write_document(data, stdout, destination, f"bilan {period.label} écrit")
    return 0

"""`guichet report committee`: the technical committee's bimonthly review, territory-wide."""

from __future__ import annotations

import sys
from pathlib import Path
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


async def committee(sessions: async_sessionmaker[AsyncSession], territory_name: str, period_text: str | None,
                    output: str, stdout: TextIO, destination: str | None = None) -> int:
    """The review on stdout (HTML or CSV), or in `destination`; a PDF needs a file or a pipe."""
    if output == "pdf" and destination is None and (not hasattr(stdout, "buffer") or stdout.isatty()):
        print("guichet: un PDF ne s'affiche pas dans le terminal : indiquez --output FICHIER.pdf "
              "ou redirigez la sortie vers un fichier.", file=sys.stderr)
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
    if destination is not None:
        path = Path(destination)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        print(f"bilan {period.label} écrit dans {path}", file=stdout)
    elif isinstance(data, bytes):
        stdout.flush()
        stdout.buffer.write(data)  # type: ignore[attr-defined]
        stdout.buffer.flush()  # type: ignore[attr-defined]
    else:
        stdout.write(data)
    return 0

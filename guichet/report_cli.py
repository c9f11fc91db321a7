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
from domain.french import euros
from domain.vocabulary import AgentRole, OrgKind
from handlers.agent_scope import Actor
from handlers.committee import Period, committee_review, review_csv


def _environment():
    import jinja2

    from web import labels
    from web.agents.templating import TEMPLATES
    from web.typography import FrenchLoader, finalize

    env = jinja2.Environment(loader=FrenchLoader(TEMPLATES), autoescape=True, finalize=finalize,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["euros"] = euros
    env.globals["labels"] = labels
    return env


async def committee(sessions: async_sessionmaker[AsyncSession], territory_name: str, period_text: str | None,
                    output: str, stdout: TextIO) -> int:
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
    if output == "csv":
        stdout.write(review_csv(review))
    else:
        from web.charts import committee_chart

        stdout.write(_environment().get_template("agents/committee_print.html").render(
            c=review, territory=territory.name, chart=committee_chart(review)))
    return 0

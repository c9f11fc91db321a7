"""The territory's reference data as agents read it: communes, schools, an asset and its tickets.

Plain arguments in, rows or frozen dataclasses out; each function runs in the caller's session.
Everything is bounded by the territory; an asset's tickets by the agent's ticket scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from desk import repositories as repo
from desk.models import Asset, Commune, School, Ticket
from handlers.agent_scope import Actor, ticket_scope

__all__ = [
    "AssetFile", "AssetTicket", "SchoolPage", "asset_file", "search_schools", "territory_communes",
]

#: Tickets listed under an asset, newest first.
ASSET_TICKETS = 100


async def territory_communes(session: AsyncSession, territory_id: int) -> list[tuple[int, str]]:
    """(id, name) of the territory's communes, by name: the choices of a filter or a form."""
    rows = await session.execute(
        select(Commune.id, Commune.name).where(Commune.territory_id == territory_id).order_by(Commune.name))
    return [(i, n) for i, n in rows.all()]


@dataclass(frozen=True, slots=True)
class SchoolPage:
    """Schools with their commune loaded."""

    schools: list[School]
    page: int
    has_next: bool


async def search_schools(
    session: AsyncSession, territory_id: int, q: str = "", *, page: int = 1, per_page: int = 50,
    order: Literal["uai", "commune"] = "uai",
) -> SchoolPage:
    """One page of the territory's schools whose name, UAI or commune contains `q`.

    Ordered by UAI, or by commune then name. `%` and `_` in `q` are dropped, not wildcards.
    """
    stmt = (select(School).join(Commune, School.commune_id == Commune.id)
            .options(joinedload(School.commune)).where(School.territory_id == territory_id))
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(School.name.ilike(like) | School.uai.ilike(like) | Commune.name.ilike(like))
    ordering = (School.uai,) if order == "uai" else (Commune.name, School.name)
    rows = (await session.scalars(
        stmt.order_by(*ordering).offset((page - 1) * per_page).limit(per_page + 1))).all()
    return SchoolPage(schools=list(rows[:per_page]), page=page, has_next=len(rows) > per_page)


@dataclass(frozen=True, slots=True)
class AssetTicket:
    reference: str
    opened_at: datetime
    intent: str
    status: str


@dataclass(frozen=True, slots=True)
class AssetFile:
    """An asset of the territory (school and room loaded) and its tickets in the agent's scope."""

    asset: Asset
    tickets: list[AssetTicket]


async def asset_file(session: AsyncSession, actor: Actor, tag: str) -> AssetFile | None:
    """The territory's asset with this tag and its logbook, or None when no asset has it.

    The logbook lists only the tickets `actor` may see (ticket_scope), newest first.
    """
    asset = await repo.asset_by_tag(session, actor.territory_id, tag)
    if asset is None:
        return None
    rows = (await session.execute(
        select(Ticket.reference, Ticket.opened_at, Ticket.intent, Ticket.status)
        .where(Ticket.asset_id == asset.id, ticket_scope(actor))
        .order_by(Ticket.opened_at.desc()).limit(ASSET_TICKETS)
    )).all()
    return AssetFile(asset=asset, tickets=[AssetTicket(r, o, i, s) for r, o, i, s in rows])

"""Finding and linking a teacher's school, for every door (UAI code or name, then the link)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk import repositories as repo
from desk.models import Commune, Requester, School

__all__ = ["SchoolRow", "link_requester", "school_by_uai", "territory_schools"]


@dataclass(frozen=True, slots=True)
class SchoolRow:
    id: int
    name: str
    commune: str
    uai: str


async def territory_schools(session: AsyncSession, territory_id: int) -> list[SchoolRow]:
    """Every school of the territory with its commune, for fuzzy matching of a typed name."""
    rows = await session.execute(
        select(School.id, School.name, Commune.name, School.uai)
        .join(Commune, School.commune_id == Commune.id)
        .where(School.territory_id == territory_id)
    )
    return [SchoolRow(i, n, c, u) for i, n, c, u in rows.all()]


async def school_by_uai(session: AsyncSession, territory_id: int, uai: str) -> School | None:
    """The territory's school with this (valid, normalised) UAI, with its commune; None elsewhere."""
    found = await repo.school_by_uai(session, uai)
    if found is None or found.territory_id != territory_id:
        return None
    return found


async def link_requester(
    session: AsyncSession, territory_id: int, *, channel: str, external_id: str, school_id: int,
    role: str, name: str | None,
) -> Requester:
    """Create or complete the requester behind this channel identity, linked to her school."""
    requester = await repo.ensure_requester(
        session, territory_id, channel, external_id, name=name, school_id=school_id, role=role,
    )
    requester.school_id, requester.role = school_id, role
    if name and not requester.name:
        requester.name = name
    await session.flush()
    return requester

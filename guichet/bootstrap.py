"""Bring a territory preset (routing/territories/NAME.yml) into the database."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import Territory
from desk.repositories import ensure_organisation, ensure_territory
from routing import OrgRef, load_territory


async def ensure_territory_from_preset(session: AsyncSession, name: str) -> Territory:
    """Create or update the territory row and its fixed organisations (operator, education...)."""
    preset = load_territory(name)
    territory = await ensure_territory(session, preset.name, preset.label, preset.timezone)
    fixed = [preset.operator, preset.education]
    fixed += [o for o in preset.school_authority.values() if isinstance(o, OrgRef)]
    for org in fixed:
        await ensure_organisation(session, territory.id, kind=org.kind, slug=org.slug, name=org.name)
    return territory

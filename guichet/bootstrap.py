"""Bring a territory preset (routing/territories/NAME.yml) into the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import Territory
from desk.repositories import ensure_organisation, ensure_territory

TERRITORIES = Path(__file__).resolve().parent.parent / "routing" / "territories"


def preset(name: str) -> dict[str, Any]:
    """The raw preset of a territory."""
    path = TERRITORIES / f"{name}.yml"
    if not path.exists():
        raise FileNotFoundError(f"territoire inconnu : {name} ({path.name} absent)")
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


async def ensure_territory_from_preset(session: AsyncSession, name: str) -> Territory:
    """Create or update the territory row and its fixed organisations (operator, education)."""
    data = preset(name)
    territory = await ensure_territory(
        session, name, data.get("label") or data.get("name") or name,
        data.get("timezone", "Europe/Paris"),
    )
    for role, org in (data.get("organisations") or {}).items():
        if isinstance(org, dict) and {"kind", "slug", "name"} <= org.keys():
            await ensure_organisation(
                session, territory.id, kind=org["kind"], slug=org["slug"], name=org["name"],
                email=org.get("email"),
            )
    return territory

"""The yearly list of new equipment for the insurers (convention 2023-2027 art. 6: « la liste des
nouveaux équipements … pour la mise à jour des contrats d'assurance »): for each commune (or OGEC),
the plan's devices installed in its schools during a civil year, with their value.

The operator, the administrators and the coordinator read every commune's list; a commune's or an
OGEC's agents read the list of the schools they answer for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from desk.models import Asset, Commune, School
from domain.french import decimal_fr
from domain.labels import EQUIPMENT_FR
from handlers.agent_scope import Actor, reads_every_school
from handlers.spreadsheet import french_csv

__all__ = ["InsuranceLine", "insurance_csv", "insurance_list"]


@dataclass(frozen=True, slots=True)
class InsuranceLine:
    commune: str
    school: str
    uai: str
    tag: str
    equipment: str
    model: str
    room: str
    acquired_on: date
    value_cents: int | None


async def insurance_list(session: AsyncSession, actor: Actor, year: int) -> list[InsuranceLine]:
    """The devices acquired in `year` in the schools `actor` answers for, by commune, school and tag."""
    stmt = (
        select(Asset, School, Commune.name)
        .join(School, Asset.school_id == School.id).join(Commune, School.commune_id == Commune.id)
        .options(selectinload(Asset.room))
        .where(Asset.territory_id == actor.territory_id,
               Asset.acquired_on >= date(year, 1, 1), Asset.acquired_on < date(year + 1, 1, 1))
        .order_by(Commune.name, School.name, Asset.tag)
    )
    if not await reads_every_school(session, actor):
        stmt = stmt.where(or_(Commune.organisation_id == actor.organisation_id, School.ogec_id == actor.organisation_id))
    return [InsuranceLine(commune=commune, school=school.name, uai=school.uai, tag=asset.tag,
                          equipment=EQUIPMENT_FR.get(asset.type, asset.type), model=asset.model or "",
                          room=asset.room.name if asset.room else "", acquired_on=asset.acquired_on,
                          value_cents=asset.value_cents)
            for asset, school, commune in (await session.execute(stmt)).all()]


def insurance_csv(lines: list[InsuranceLine]) -> str:
    """UTF-8 with BOM, `;`, decimal commas: as the insurer's and the commune's Excel opens it."""
    return french_csv(
        ["Commune", "École", "UAI", "Étiquette", "Matériel", "Modèle", "Salle", "Acquis le", "Valeur (€)"],
        ([line.commune, line.school, line.uai, line.tag, line.equipment, line.model, line.room,
          line.acquired_on.strftime("%d/%m/%Y"), decimal_fr(None if line.value_cents is None else line.value_cents / 100, 2)]
         for line in lines))

"""The statement SEM sends the commune (or OGEC) after a replacement: « un état des équipements
installés précisant la nouvelle valeur de ces équipements » (convention 2023-2027 art. 6).

One per claim file: each device of the file, what it gave (the refund at the incident's date) and
what was installed in its place, with its new value — the figures the insurer and the commune's
contract need. Read from the file's stored lines, so it does not move when the inventory does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.clock import utcnow
from desk.errors import RecordNotFound
from desk.models import Commune, Organisation, School, Territory
from domain.french import decimal_fr
from domain.vocabulary import OrgKind
from handlers.agent_queue import scoped_ticket
from handlers.agent_scope import Actor
from handlers.claims import LineView, claim_file, file_ticket, territory_rules
from handlers.spreadsheet import french_csv

__all__ = ["Statement", "statement_csv", "statement_for"]


@dataclass(frozen=True, slots=True)
class Statement:
    reference: str
    subject: str
    incident_on: date
    authority: str
    operator: str
    school: str
    uai: str
    commune: str
    territory: str
    lines: list[LineView]
    written_on: date

    @property
    def installed(self) -> list[LineView]:
        return [line for line in self.lines if line.installed_on is not None]

    @property
    def new_value_cents(self) -> int:
        return sum(line.new_value_cents or 0 for line in self.installed)

    @property
    def refund_cents(self) -> int:
        return sum(line.refund_cents or 0 for line in self.lines)

    @property
    def complete(self) -> bool:
        """Every replaced device has its successor recorded."""
        return all(line.installed_on is not None for line in self.lines if line.replaced)


async def statement_for(session: AsyncSession, actor: Actor, reference: str,
                        now: datetime | None = None) -> Statement:
    """The statement of the claim file `reference` carries or follows; RecordNotFound when the
    ticket is not in the actor's scope or has no claim file."""
    now = now or utcnow()
    ticket = await scoped_ticket(session, actor, reference)
    target = await file_ticket(session, ticket)
    if target is None:
        raise RecordNotFound(f"claim file of {reference}")
    rules, today = await territory_rules(session, target, now)
    file = await claim_file(session, target, rules, today)
    assert file is not None
    territory = await session.get(Territory, target.territory_id)
    assert territory is not None
    authority = await session.scalar(select(Organisation.name).where(Organisation.id == target.organisation_id))
    operator = await session.scalar(select(Organisation.name).where(
        Organisation.territory_id == target.territory_id, Organisation.kind == OrgKind.SEM.value))
    school = await session.get(School, target.school_id) if target.school_id else None
    commune = await session.scalar(select(Commune.name).where(Commune.id == school.commune_id)) if school else None
    return Statement(
        reference=target.reference, subject=target.subject,
        incident_on=target.opened_at.astimezone(ZoneInfo(territory.timezone)).date(),
        authority=authority or "", operator=operator or territory.name, school=school.name if school else "",
        uai=school.uai if school else "", commune=commune or "", territory=territory.name,
        lines=file.lines, written_on=today,
    )


def statement_csv(statement: Statement) -> str:
    """The statement as Excel in French opens it: UTF-8 with BOM, `;`, decimal commas."""
    def cents(value: int | None) -> str:
        return "" if value is None else decimal_fr(value / 100, 2)

    return french_csv(
        ["Dossier", "École", "UAI", "Matériel", "Étiquette", "Acquis le", "Valeur", "Taux (%)", "Remboursement",
         "Installé à la place", "Installé le", "Nouvelle valeur"],
        ([statement.reference, statement.school, statement.uai, line.label, line.tag or "",
          line.acquired_on.strftime("%d/%m/%Y") if line.acquired_on else "", cents(line.value_cents),
          "" if line.rate is None else line.rate, cents(line.refund_cents) if line.replaced else "non remplacé",
          line.new_tag or "", line.installed_on.strftime("%d/%m/%Y") if line.installed_on else "",
          cents(line.new_value_cents)] for line in statement.lines))

"""Theft or damage: what must happen now, said the same way on every door (convention art. 6).

The figures (delays, depreciation table, age limit) come from the territory file
(`claims:` and the `declaration` SLA policy), never from code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from desk import repositories as repo
from domain.french import as_object
from domain.vocabulary import Intent, SlaPolicy
from handlers.context import DeskContext
from handlers.report import ReportOutcome
from routing.claims import refund_rate

__all__ = ["GUIDE_SLUG", "GUIDE_TITLE", "TheftChecklist", "theft_checklist"]

GUIDE_SLUG = "theft-or-damage-first-48-hours"
GUIDE_TITLE = "Vol ou dégradation : que faire dans les 48 premières heures"
_YEAR_LABEL = ("année d'acquisition",)


@dataclass(frozen=True, slots=True)
class TheftChecklist:
    """The steps in French, one per line, and whether the equipment will be replaced."""

    lines: tuple[str, ...]
    replaced: bool = True

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _hours(value: float | int) -> str:
    return f"{int(value)} h"


async def theft_checklist(
    session: AsyncSession, ctx: DeskContext, outcome: ReportOutcome, *, intent: Intent,
    territory_id: int, asset_tag: str | None, today: date, requester_role: str | None = None,
) -> TheftChecklist:
    """Explain what the teacher, the director and the school authority must do now."""
    rules = ctx.territory.claims
    declaration = ctx.policy(SlaPolicy.DECLARATION)
    # Art. 6 gives both declarations the same delay; the insurer's is the declaration clock's.
    declare_in = _hours(getattr(declaration, "breach_hours", None) or rules.police_report_hours)
    police_in = _hours(rules.police_report_hours)
    theft = intent is Intent.THEFT
    authority = outcome.tickets[0].organisation_name
    operator = outcome.tickets[1].organisation_name if len(outcome.tickets) > 1 else "l'opérateur du plan"
    table = ", ".join(
        f"{_YEAR_LABEL[0] if age == 0 else f'N-{age}'} {rate} %" for age, rate in enumerate(rules.depreciation)
    )
    lines = [
        "Important — ce qu'il faut faire maintenant :",
        f"1. {'Prévenez la mairie' if requester_role == 'director' else 'Prévenez votre directeur·rice et la mairie'} : "
        f"{as_object(authority)} doit déclarer le sinistre "
        f"à son assureur dans les {declare_in} (jours ouvrés).",
        (f"2. Un dépôt de plainte auprès de la police ou de la gendarmerie est obligatoire, lui aussi sous {police_in} ; "
         "gardez le récépissé." if theft else
         f"2. En cas de vandalisme, une plainte doit être déposée auprès de la police ou de la gendarmerie sous {police_in}."),
        f"3. {authority} remplit la « fiche d'engagement de versement » (montant estimé, mode de versement, date prévue).",
        f"4. À réception de la déclaration, {operator} commande et installe le matériel de remplacement.",
        f"Participation selon l'âge du matériel : {table} ; le matériel de plus de "
        f"{rules.not_replaced_beyond_years} ans n'est pas remplacé.",
    ]
    replaced = len(outcome.tickets) > 1
    if asset_tag:
        asset = await repo.asset_by_tag(session, territory_id, asset_tag)
        if asset is not None and asset.acquired_on is not None:
            rate = refund_rate(rules, asset.acquired_on, today)
            if rate is None:
                replaced = False
                lines[4] = (f"4. Ce matériel ({asset.tag}, acquis en {asset.acquired_on.year}) a plus de "
                            f"{rules.not_replaced_beyond_years} ans : il ne sera pas remplacé (convention, art. 6).")
            else:
                amount = f", soit {asset.value_cents * rate // 10000} €" if asset.value_cents else ""
                lines.append(f"Pour ce matériel ({asset.tag}, acquis en {asset.acquired_on.year}), "
                             f"la participation serait de {rate} %{amount}.")
    return TheftChecklist(tuple(lines), replaced)

"""Theft or damage: the 48 h declaration checklist (DOMAIN.md §6, convention art. 5-6)."""

from __future__ import annotations

from datetime import date

from bot.messages import Link
from bot.state import Draft
from bot.turn import Turn
from desk import repositories as repo
from domain.vocabulary import Intent
from handlers.report import ReportOutcome

#: Share of the value the school authority refunds, by age in years (N, N-1, ...).
DEPRECIATION = (100, 80, 60, 40, 20)
#: Equipment older than this is not replaced.
MAX_AGE_YEARS = 6
GUIDE_SLUG = "theft-or-damage-first-48-hours"


def refund_rate(acquired: date, today: date) -> int | None:
    """Percent of the value owed for a device acquired on `acquired`; None when it is not replaced."""
    age = today.year - acquired.year
    if age > MAX_AGE_YEARS:
        return None
    return DEPRECIATION[age] if 0 <= age < len(DEPRECIATION) else 0


async def checklist(turn: Turn, outcome: ReportOutcome, d: Draft) -> None:
    """Explain what the teacher, the director and the school authority must do now."""
    theft = Intent(d.intent or "") is Intent.THEFT
    authority = outcome.tickets[0].organisation_name
    operator = outcome.tickets[1].organisation_name if len(outcome.tickets) > 1 else "l'opérateur du plan"
    lines = [
        "Important — ce qu'il faut faire maintenant :",
        f"1. Prévenez votre directeur·rice et la mairie : {authority} doit déclarer le sinistre "
        "à son assureur dans les 48 h (jours ouvrés).",
        ("2. Un dépôt de plainte auprès de la police ou de la gendarmerie est obligatoire, lui aussi sous 48 h ; "
         "gardez le récépissé." if theft else
         "2. En cas de vandalisme, une plainte doit être déposée auprès de la police ou de la gendarmerie sous 48 h."),
        f"3. {authority} remplit la « fiche d'engagement de versement » (montant estimé, mode de versement, date prévue).",
        f"4. À réception de la déclaration, {operator} commande et installe le matériel de remplacement.",
        "Participation selon l'âge du matériel : année d'acquisition 100 %, N-1 80 %, N-2 60 %, N-3 40 %, "
        "N-4 20 % ; le matériel de plus de 6 ans n'est pas remplacé.",
    ]
    if d.asset_tag:
        asset = await repo.asset_by_tag(turn.session, turn.territory.id, d.asset_tag)
        if asset is not None and asset.acquired_on is not None:
            rate = refund_rate(asset.acquired_on, turn.now.date())
            if rate is None:
                lines.append(f"Ce matériel ({asset.tag}, acquis en {asset.acquired_on.year}) a plus de 6 ans : "
                             "il ne sera pas remplacé.")
            else:
                amount = f", soit {asset.value_cents * rate // 10000} €" if asset.value_cents else ""
                lines.append(f"Pour ce matériel ({asset.tag}, acquis en {asset.acquired_on.year}), "
                             f"la participation serait de {rate} %{amount}.")
    links = []
    kb_get = getattr(turn.services.kb, "get", None)
    if kb_get is not None and kb_get(GUIDE_SLUG) is not None:
        links.append(Link("Vol ou dégradation : que faire dans les 48 premières heures", turn.kb_url(GUIDE_SLUG)))
    turn.say("\n".join(lines), (), links)

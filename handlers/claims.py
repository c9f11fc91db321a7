"""The claim file of a theft, loss or damage (convention 2023-2027 art. 6; DOMAIN.md §6, §9).

The file is the school authority's declaration ticket. Its steps are dated and signed by an
agent, once each, and every step is an event of the ticket's timeline. Its lines are the devices
(« deux tablettes » gives two lines): value, acquisition date, refund rate and amount, computed by
`routing.claims.refund` against the incident's date and stored, so the figures the committee reads
do not move when the inventory changes.

Delays the convention sets, and what is late when they pass:
- the insurer's declaration, the police's (or gendarmerie's) and the complaint: within the
  territory's `police_report_hours` (48 h) of the report;
- the payment: within one year of the complete file (« à compter de l'établissement du dossier
  complet »: the declarations, the complaint and SEM's statement of the new equipment and its value);
- recovered goods after the payment: the commune may take them back if it asks within a fortnight
  (« sous quinzaine ») of being told; the file shows that limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from desk import repositories as repo
from desk.models import Agent, Asset, ClaimLine, ClaimStepRecord, Territory, Ticket
from domain.french import cents_from_euros, euros
from domain.labels import CLAIM_STEP_FR, EQUIPMENT_FR, PAYMENT_MODE_FR
from domain.vocabulary import ClaimStep, PaymentMode, SlaPolicy
from handlers.context import context_for
from routing.claims import ClaimRules, refund

__all__ = [
    "ClaimFile", "ClaimRefused", "LineView", "StepView", "claim_file", "claim_file_for", "file_ticket",
    "complete_line", "install_line", "late_steps", "late_steps_of", "open_claim_lines", "record_step", "step_deadlines",
    "territory_rules",
]

#: The steps that make the file complete: the payment's year counts from the last of them.
COMPLETE_FILE = (ClaimStep.INSURER_DECLARED, ClaimStep.POLICE_DECLARED, ClaimStep.COMPLAINT_FILED,
                 ClaimStep.STATEMENT_SENT)
#: Steps due within `police_report_hours` of the report.
WITHIN_HOURS = frozenset({ClaimStep.INSURER_DECLARED, ClaimStep.POLICE_DECLARED, ClaimStep.COMPLAINT_FILED})
PAYMENT_WITHIN = 365
RECOVERY_REQUEST_DAYS = 15


class ClaimRefused(ValueError):
    """A step that cannot be recorded, with the French reason the agent reads."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class StepView:
    step: ClaimStep
    label: str
    done_on: date | None = None
    agent_name: str | None = None
    note: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    due_on: date | None = None
    late: bool = False

    @property
    def details(self) -> str:
        """What the step carries, in French (the commitment form's amount, mode and date)."""
        parts = []
        if self.data.get("amount_cents") is not None:
            parts.append(f"montant estimé {euros(self.data['amount_cents'])}")
        if self.data.get("payment_mode"):
            parts.append(PAYMENT_MODE_FR.get(self.data["payment_mode"], self.data["payment_mode"]).lower())
        if self.data.get("planned_on"):
            parts.append(f"versement prévu le {date.fromisoformat(self.data['planned_on']):%d/%m/%Y}")
        if self.data.get("after_payment") is not None:
            parts.append("après le versement" if self.data["after_payment"] else "avant le versement")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class LineView:
    id: int
    label: str
    tag: str | None
    acquired_on: date | None
    value_cents: int | None
    rate: int | None
    refund_cents: int | None
    replaced: bool
    new_tag: str | None = None
    new_value_cents: int | None = None
    installed_on: date | None = None
    #: The inventory's status of the line's device (`stolen` once marked from the file), None without a tag.
    asset_status: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimFile:
    ticket: Ticket
    steps: list[StepView]
    lines: list[LineView]
    #: The day the file became complete, and the payment's limit one year later.
    complete_on: date | None
    payment_due_on: date | None
    #: After goods recovered past the payment: the last day to ask to take them back.
    recovery_request_until: date | None

    @property
    def refund_cents(self) -> int:
        return sum(line.refund_cents or 0 for line in self.lines)

    @property
    def unknown_amounts(self) -> int:
        return sum(1 for line in self.lines if line.replaced and line.refund_cents is None)

    @property
    def late(self) -> list[StepView]:
        return [s for s in self.steps if s.late]


def step_deadlines(opened_at: datetime, done: dict[str, date], rules: ClaimRules,
                   ) -> tuple[dict[ClaimStep, date], date | None, date | None]:
    """When each step with a delay is due, given the steps done (step → day): the declarations
    and the complaint within `police_report_hours` of the report, the payment within a year of
    the complete file; and the day the file became complete, and the payment's limit."""
    within = (opened_at + timedelta(hours=rules.police_report_hours)).date()
    complete = [done[s] for s in COMPLETE_FILE if s in done]
    complete_on = max(complete) if len(complete) == len(COMPLETE_FILE) else None
    payment_due = complete_on + timedelta(days=PAYMENT_WITHIN) if complete_on else None
    due = {step: within for step in WITHIN_HOURS}
    if payment_due is not None:
        due[ClaimStep.PAYMENT_RECEIVED] = payment_due
    return due, complete_on, payment_due


def late_steps(opened_at: datetime, done: dict[str, date], rules: ClaimRules, today: date) -> list[ClaimStep]:
    """The steps past their delay and not done, in the convention's order."""
    due, _, _ = step_deadlines(opened_at, done, rules)
    return [step for step in ClaimStep if step.value not in done and step in due and today > due[step]]


async def late_steps_of(session: AsyncSession, tickets: list[Ticket], rules: ClaimRules, today: date,
                        ) -> dict[int, list[str]]:
    """For the claim files among `tickets` (a queue page), the French names of their late steps."""
    files = [t for t in tickets if is_claim_file(t)]
    if not files:
        return {}
    done: dict[int, dict[str, date]] = {t.id: {} for t in files}
    for ticket_id, step, day in (await session.execute(
        select(ClaimStepRecord.ticket_id, ClaimStepRecord.step, ClaimStepRecord.done_on)
        .where(ClaimStepRecord.ticket_id.in_(list(done))))).all():
        done[ticket_id][step] = day
    late = {t.id: [CLAIM_STEP_FR[s] for s in late_steps(t.opened_at, done[t.id], rules, today)] for t in files}
    return {ticket_id: names for ticket_id, names in late.items() if names}


def is_claim_file(ticket: Ticket) -> bool:
    """The declaration ticket of a theft, loss or damage carries the claim file."""
    return ticket.sla_policy == SlaPolicy.DECLARATION


async def open_claim_lines(
    session: AsyncSession, ticket: Ticket, rules: ClaimRules, *, asset: Asset | None, equipment: str | None,
    quantity: int, incident: date,
) -> list[ClaimLine]:
    """One line per device of a new claim file; the named device's with its refund computed."""
    lines = []
    for index in range(max(1, quantity)):
        known = asset if index == 0 else None
        line = ClaimLine(ticket_id=ticket.id, asset_id=known.id if known else None,
                         equipment=(known.type if known else equipment))
        _compute(line, rules, incident, known)
        session.add(line)
        lines.append(line)
    await session.flush()
    return lines


def _compute(line: ClaimLine, rules: ClaimRules, incident: date, asset: Asset | None) -> None:
    if asset is not None:
        line.acquired_on, line.value_cents = asset.acquired_on, asset.value_cents
    result = refund(rules, line.value_cents, line.acquired_on, incident)
    line.rate, line.refund_cents, line.replaced = result.rate, result.amount_cents, result.replaced


async def claim_file(session: AsyncSession, ticket: Ticket, rules: ClaimRules, today: date) -> ClaimFile | None:
    """Where the file of `ticket` stands today; None when the ticket is not a claim file."""
    if not is_claim_file(ticket):
        return None
    records = {r.step: r for r in await session.scalars(
        select(ClaimStepRecord).where(ClaimStepRecord.ticket_id == ticket.id))}
    names = dict((await session.execute(
        select(Agent.id, Agent.name).where(Agent.id.in_({r.agent_id for r in records.values() if r.agent_id}))
    )).all()) if records else {}
    done = {step: record.done_on for step, record in records.items()}
    due_on, complete_on, payment_due = step_deadlines(ticket.opened_at, done, rules)
    steps = []
    for step in ClaimStep:
        record = records.get(step.value)
        due = due_on.get(step)
        steps.append(StepView(
            step=step, label=CLAIM_STEP_FR[step], done_on=record.done_on if record else None,
            agent_name=names.get(record.agent_id) if record else None, note=record.note if record else None,
            data=dict(record.data or {}) if record else {}, due_on=due,
            late=record is None and due is not None and today > due,
        ))
    recovered = records.get(ClaimStep.GOODS_RECOVERED.value)
    recovery_until = (recovered.done_on + timedelta(days=RECOVERY_REQUEST_DAYS)
                      if recovered is not None and (recovered.data or {}).get("after_payment") else None)
    rows = (await session.scalars(
        select(ClaimLine).options(selectinload(ClaimLine.asset)).where(ClaimLine.ticket_id == ticket.id)
        .order_by(ClaimLine.id))).all()
    lines = [LineView(
        id=row.id, label=EQUIPMENT_FR.get(row.equipment or "", row.equipment or "Matériel"),
        tag=row.asset.tag if row.asset else None, acquired_on=row.acquired_on, value_cents=row.value_cents,
        rate=row.rate, refund_cents=row.refund_cents, replaced=row.replaced, new_tag=row.new_tag,
        new_value_cents=row.new_value_cents, installed_on=row.installed_on,
        asset_status=row.asset.status if row.asset else None) for row in rows]
    return ClaimFile(ticket=ticket, steps=steps, lines=lines, complete_on=complete_on,
                     payment_due_on=payment_due, recovery_request_until=recovery_until)


def _step_data(step: ClaimStep, form: dict[str, Any]) -> dict[str, Any]:
    """What a step carries, checked: the commitment form's figures, the recovery's moment."""
    if step is ClaimStep.COMMITMENT_FORM:
        try:
            amount = cents_from_euros(str(form.get("amount") or ""))
        except ValueError:
            raise ClaimRefused("Indiquez le montant estimé du remboursement (en euros).") from None
        if amount < 0 or amount > 10**10:
            raise ClaimRefused("Le montant estimé doit être un nombre positif d'euros.")
        try:
            mode = PaymentMode(str(form.get("payment_mode") or ""))
        except ValueError:
            raise ClaimRefused("Choisissez le mode de versement : direct par l'assureur ou par la commune.") from None
        planned = _date(form.get("planned_on"), "la date prévisionnelle de versement")
        return {"amount_cents": amount, "payment_mode": mode.value, "planned_on": planned.isoformat()}
    if step is ClaimStep.GOODS_RECOVERED:
        return {"after_payment": str(form.get("after_payment") or "") in ("1", "true", "on", "oui")}
    return {}


def _date(raw: object, what: str) -> date:
    try:
        return date.fromisoformat(str(raw or "").strip())
    except ValueError:
        raise ClaimRefused(f"Indiquez {what} au format jj/mm/aaaa.") from None


async def record_step(
    session: AsyncSession, ticket: Ticket, *, agent_id: int, step: str, done_on: object, note: str | None,
    form: dict[str, Any], today: date, at: datetime,
) -> ClaimStepRecord:
    """Date and sign one step of the file; each step once; an event in the ticket's timeline."""
    if not is_claim_file(ticket):
        raise ClaimRefused("Cette demande n'est pas un dossier de sinistre.")
    try:
        kind = ClaimStep(step)
    except ValueError:
        raise ClaimRefused("Choisissez une étape du dossier.") from None
    day = _date(done_on, "la date de l'étape")
    if day > today:
        raise ClaimRefused("La date d'une étape ne peut pas être dans le futur.")
    if day < ticket.opened_at.date() - timedelta(days=7):
        raise ClaimRefused("Cette date précède de plus d'une semaine la déclaration du sinistre.")
    existing = await session.scalar(select(ClaimStepRecord).where(
        ClaimStepRecord.ticket_id == ticket.id, ClaimStepRecord.step == kind.value))
    if existing is not None:
        raise ClaimRefused(f"L'étape « {CLAIM_STEP_FR[kind]} » est déjà enregistrée "
                           f"(le {existing.done_on:%d/%m/%Y}).")
    data = _step_data(kind, form)
    note = (note or "").strip()[:2000] or None
    record = ClaimStepRecord(ticket_id=ticket.id, step=kind.value, done_on=day, agent_id=agent_id,
                             note=note, data=data or None, recorded_at=at)
    session.add(record)
    view = StepView(step=kind, label=CLAIM_STEP_FR[kind], data=data)
    body = f"{CLAIM_STEP_FR[kind]} le {day:%d/%m/%Y}" + (f" ({view.details})" if view.details else "")
    await repo.add_event(session, ticket, "claim_step", body=body + (f"\n{note}" if note else ""),
                         actor_kind="agent", actor_id=agent_id, internal=True, at=at,
                         data={"step": kind.value, "done_on": day.isoformat(), **data})
    await session.flush()
    return record


async def file_ticket(session: AsyncSession, ticket: Ticket) -> Ticket | None:
    """The ticket carrying the claim file of `ticket`: itself, or the declaration it follows."""
    if is_claim_file(ticket):
        return ticket
    if ticket.linked_ticket_id is None:
        return None
    linked = await session.get(Ticket, ticket.linked_ticket_id)
    return linked if linked is not None and is_claim_file(linked) else None


async def territory_rules(session: AsyncSession, ticket: Ticket, now: datetime) -> tuple[ClaimRules, date]:
    """The territory's claim figures and its local date today."""
    territory = await session.get(Territory, ticket.territory_id)
    assert territory is not None
    return context_for(territory.slug).territory.claims, now.astimezone(ZoneInfo(territory.timezone)).date()


async def claim_file_for(session: AsyncSession, ticket: Ticket, now: datetime) -> ClaimFile | None:
    """The claim file shown on `ticket`'s page: its own, or the declaration's it follows (SEM's side)."""
    target = await file_ticket(session, ticket)
    if target is None:
        return None
    rules, today = await territory_rules(session, target, now)
    return await claim_file(session, target, rules, today)


async def complete_line(
    session: AsyncSession, ticket: Ticket, *, agent_id: int, line_id: int, tag: str, value: str, acquired_on: str,
    rules: ClaimRules, at: datetime,
) -> ClaimLine:
    """Name the device of a line (its tag: value and acquisition come from the inventory) or give
    its value and acquisition date; the refund is computed again against the incident's date."""
    line = await session.scalar(select(ClaimLine).where(ClaimLine.id == line_id, ClaimLine.ticket_id == ticket.id))
    if line is None:
        raise ClaimRefused("Cette ligne du dossier est introuvable.")
    tag = tag.strip().upper()
    if tag:
        asset = await session.scalar(select(Asset).where(Asset.territory_id == ticket.territory_id, Asset.tag == tag))
        if asset is None:
            raise ClaimRefused(f"Aucun matériel de l'inventaire ne porte l'étiquette {tag}.")
        line.asset_id, line.equipment = asset.id, asset.type
        _compute(line, rules, ticket.opened_at.date(), asset)
    else:
        try:
            cents = cents_from_euros(value)
        except ValueError:
            raise ClaimRefused("Indiquez la valeur du matériel en euros, ou son étiquette.") from None
        if not 0 <= cents <= 10**9:
            raise ClaimRefused("La valeur du matériel doit être un nombre positif d'euros.")
        line.value_cents, line.acquired_on = cents, _date(acquired_on, "la date d'acquisition")
        _compute(line, rules, ticket.opened_at.date(), None)
    label = EQUIPMENT_FR.get(line.equipment or "", "Matériel")
    amount = euros(line.refund_cents) if line.refund_cents is not None else "non remplacé" if not line.replaced else "à calculer"
    await repo.add_event(session, ticket, "claim_line", actor_kind="agent", actor_id=agent_id, internal=True, at=at,
                         body=f"{label}{f' {tag}' if tag else ''} : remboursement {amount}",
                         data={"line": line.id, "rate": line.rate, "refund_cents": line.refund_cents})
    await session.flush()
    return line


async def install_line(
    session: AsyncSession, ticket: Ticket, *, agent_id: int, line_id: int, tag: str, value: str, installed_on: str,
    today: date, at: datetime,
) -> ClaimLine:
    """Record the device installed in place of a line's: its tag, its new value (from the
    inventory when the tag is there and the value is not given) and the day (art. 6: SEM's
    statement of the installed equipment and its new value is made of these)."""
    line = await session.scalar(select(ClaimLine).where(ClaimLine.id == line_id, ClaimLine.ticket_id == ticket.id))
    if line is None:
        raise ClaimRefused("Cette ligne du dossier est introuvable.")
    if not line.replaced:
        raise ClaimRefused("Ce matériel avait plus de six ans : il n'est pas remplacé (art. 6).")
    tag = tag.strip().upper()[:32]
    asset = await session.scalar(select(Asset).where(Asset.territory_id == ticket.territory_id, Asset.tag == tag)) \
        if tag else None
    if value.strip():
        try:
            cents = cents_from_euros(value)
        except ValueError:
            raise ClaimRefused("Indiquez la nouvelle valeur du matériel en euros.") from None
        if not 0 < cents <= 10**9:
            raise ClaimRefused("La nouvelle valeur du matériel doit être un nombre positif d'euros.")
    elif asset is not None and asset.value_cents:
        cents = asset.value_cents
    else:
        raise ClaimRefused("Indiquez la nouvelle valeur du matériel installé (en euros).")
    day = _date(installed_on, "la date d'installation")
    if day > today:
        raise ClaimRefused("La date d'installation ne peut pas être dans le futur.")
    line.new_tag, line.new_value_cents, line.installed_on = tag or None, cents, day
    label = EQUIPMENT_FR.get(line.equipment or "", "Matériel")
    await repo.add_event(session, ticket, "claim_line", actor_kind="agent", actor_id=agent_id, internal=True, at=at,
                         body=f"{label} remplacé{f' par {tag}' if tag else ''} le {day:%d/%m/%Y} "
                              f"(nouvelle valeur {euros(cents)})",
                         data={"line": line.id, "new_tag": tag or None, "new_value_cents": cents,
                               "installed_on": day.isoformat()})
    await session.flush()
    return line

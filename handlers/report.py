"""Report an incident: route it, open the ticket(s) with their clocks and notices, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from desk import repositories as repo
from desk.lifecycle import change_status
from desk.models import Asset, Commune, Organisation, Requester, School, Ticket
from desk.sla_store import open_clocks, recompute_clocks
from desk.sla_text import WorkingCalendar, format_commitment_fr
from domain.impact import impact_of
from handlers.claims import open_claim_lines
from domain.vocabulary import (
    AssetOwner,
    Channel,
    Equipment,
    Intent,
    Role,
    SchoolStatus,
    SlaPolicy,
    TicketStatus,
)
from handlers.context import DeskContext
from domain.labels import EQUIPMENT_FR, INTENT_FR
from domain.formats import quantity_in
from domain.french import as_object, as_subject
from routing import Decision, OrgRef, decide
from routing.claims import refund_rate
from routing.clocks import Due, due

THEFT_DAMAGE_CHECKLIST = {
    "insurer_declaration": False,
    "police_report": False,
    "complaint_filed": False,
    "commitment_form": False,
    "replacement_ordered": False,
    "replacement_installed": False,
}


@dataclass(frozen=True)
class TriedArticle:
    """A tutorial the teacher tried before reporting: its slug (kept in the event's data) and its title (shown)."""

    slug: str
    title: str


@dataclass(frozen=True)
class ReportDraft:
    """Everything the front desk gathered about one problem, ready to become a ticket."""

    text: str
    intent: Intent
    channel: Channel
    requester_id: int | None = None
    school_id: int | None = None
    equipment: Equipment | None = None
    #: Devices named (« deux tablettes »); None: read from the text (`domain.formats.quantity_in`).
    quantity: int | None = None
    asset_tag: str | None = None
    room: str | None = None
    confidence: float | None = None
    tried_articles: tuple[TriedArticle, ...] = ()
    subject: str | None = None
    attachment_ids: tuple[int, ...] = ()
    #: An organisation (slug) an agent chose instead of the rules' one, and why (a logged call corrected).
    organisation_slug: str | None = None
    routing_reason: str | None = None
    #: The words the rules read when `text` also reports other problems, each with a ticket of its
    #: own (`handlers.problems.without`): the socket of « … et la prise est arrachée » is not this ticket's.
    routing_text: str | None = None


@dataclass(frozen=True)
class OpenedTicket:
    reference: str
    ticket_id: int
    organisation_slug: str
    organisation_name: str
    sla: SlaPolicy | None
    due: Due | None
    reason: str


@dataclass(frozen=True)
class ReportOutcome:
    """The tickets opened (declaration first for a theft/damage) and the French answer."""

    tickets: tuple[OpenedTicket, ...]
    message: str
    decision: Decision
    notices: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return self.tickets[0].reference


class NotATicket(Exception):
    """The territory's rules say this message opens no ticket (how-to, small talk, status)."""


async def _load_school(session: AsyncSession, school_id: int | None) -> School | None:
    if school_id is None:
        return None
    return await session.scalar(
        select(School)
        .options(joinedload(School.commune).joinedload(Commune.organisation),
                 joinedload(School.ogec))
        .where(School.id == school_id)
    )


def organisation_ref(ctx: DeskContext, role: Role, school: School | None) -> OrgRef:
    """The organisation holding `role` for this school, as the territory's preset names it (no I/O)."""
    status = SchoolStatus(school.status) if school else SchoolStatus.PUBLIC
    commune_org = school.commune.organisation if school and school.commune else None
    try:
        return ctx.territory.organisation_for(
            role,
            school_status=status,
            commune_slug=commune_org.slug if commune_org else None,
            commune_name=commune_org.name if commune_org else None,
            ogec_slug=school.ogec.slug if school and school.ogec else None,
            ogec_name=school.ogec.name if school and school.ogec else None,
        )
    except ValueError:
        # Unknown school: the operator runs the desk and re-routes (seed 000, « le guichet »).
        return ctx.territory.operator


async def organisation_name(session: AsyncSession, ctx: DeskContext, role: Role, school_id: int | None) -> str:
    """The name of the organisation holding `role` for this school (« la commune de … » is the
    caller's French: `domain.french`)."""
    return organisation_ref(ctx, role, await _load_school(session, school_id)).name


def role_of(ctx: DeskContext, slug: str, school: School | None, *, default: Role) -> Role:
    """The role an organisation holds for this school (`default` when it holds none of them)."""
    for role in Role:
        if organisation_ref(ctx, role, school).slug == slug:
            return role
    return default


async def _organisation(
    session: AsyncSession, ctx: DeskContext, territory_id: int, role: Role, school: School | None
) -> Organisation:
    """The concrete organisation holding `role` for this school (created from the preset if new)."""
    ref = organisation_ref(ctx, role, school)
    return await repo.ensure_organisation(
        session, territory_id, kind=ref.kind, slug=ref.slug, name=ref.name
    )


def quantity_of(draft: ReportDraft) -> int:
    """How many devices the report is about (1 unless the teacher named more)."""
    return draft.quantity or quantity_in(draft.text) or 1


def equipment_label(equipment: str, quantity: int) -> str:
    """« Tablette », or « Tablette (2) » when the report names several."""
    name = EQUIPMENT_FR.get(equipment, equipment)
    return f"{name} ({quantity})" if quantity > 1 else name


def _subject(draft: ReportDraft, school: School | None) -> str:
    if draft.subject:
        return draft.subject
    what = INTENT_FR.get(draft.intent, draft.intent)
    if draft.equipment:
        what += f" — {equipment_label(draft.equipment, quantity_of(draft))}"
    if school:
        what += f" ({school.name})"
    return what


async def open_report(session: AsyncSession, ctx: DeskContext, draft: ReportDraft) -> ReportOutcome:
    """Open the ticket(s) a report calls for; the caller commits (one transaction)."""
    territory = await repo.get_territory(session, ctx.territory.name)
    school = await _load_school(session, draft.school_id)
    asset: Asset | None = None
    if draft.asset_tag:
        asset = await repo.asset_by_tag(session, territory.id, draft.asset_tag)
        if asset is not None and school is None and asset.school_id:
            school = await _load_school(session, asset.school_id)
    equipment = draft.equipment or (Equipment(asset.type) if asset else None)
    decision = decide(
        ctx.territory,
        intent=draft.intent,
        equipment=equipment,
        school_status=SchoolStatus(school.status) if school else SchoolStatus.PUBLIC,
        asset_owner=AssetOwner(asset.owner) if asset else None,
        text=draft.routing_text or draft.text,
    )
    if not decision.opens_ticket:
        raise NotATicket(decision.rule_id)
    requester = (
        await session.get(Requester, draft.requester_id) if draft.requester_id else None
    )
    now = ctx.now()
    too_old = (asset is not None and asset.acquired_on is not None and decision.followup is not None
               and refund_rate(ctx.territory.claims, asset.acquired_on, now.date()) is None)
    # Equipment past the convention's age limit is not replaced (art. 6): no replacement ticket.
    steps = [decision] + ([decision.followup] if decision.followup and not too_old else [])
    opened: list[tuple[Ticket, Decision, Organisation]] = []
    impact = impact_of(draft.text, intent=draft.intent.value, quantity=quantity_of(draft))
    for index, step in enumerate(steps):
        assert step.role is not None
        role, rule_id, reason = step.role, step.rule_id, step.reason
        org = await _organisation(session, ctx, territory.id, step.role, school)
        if index == 0 and draft.organisation_slug and draft.organisation_slug != org.slug:
            org = await repo.get_organisation(session, territory.id, draft.organisation_slug)
            role = role_of(ctx, org.slug, school, default=step.role)
            rule_id, reason = None, draft.routing_reason or step.reason
        theft_or_damage = draft.intent in (Intent.THEFT, Intent.DAMAGE)
        # The teacher's own words on every ticket: the follow-up's link is `linked_ticket`, not a prefix.
        ticket = await repo.create_ticket(
            session,
            territory=territory,
            organisation=org,
            intent=draft.intent.value,
            role=role.value,
            subject=_subject(draft, school),
            description=draft.text,
            equipment=equipment.value if equipment else None,
            quantity=quantity_of(draft) if equipment else 1,
            priority=int(impact),
            school=school,
            asset=asset,
            room=draft.room or (asset.room.name if asset and asset.room else None),
            channel=draft.channel.value,
            requester=requester,
            sla_policy=step.sla.value if step.sla else None,
            rule_id=rule_id,
            reason=reason,
            confidence=draft.confidence,
            checklist=dict(THEFT_DAMAGE_CHECKLIST) if theft_or_damage else None,
            linked_ticket=opened[0][0] if index else None,
            opened_at=now,
        )
        if theft_or_damage and index == 0:
            await open_claim_lines(session, ticket, ctx.territory.claims, asset=asset,
                                   equipment=equipment.value if equipment else None,
                                   quantity=quantity_of(draft), incident=now.date())
        if too_old and index == 0 and asset is not None and asset.acquired_on is not None:
            await repo.add_event(
                session, ticket, "note", internal=True, at=now,
                body=(f"Matériel {asset.tag} acquis en {asset.acquired_on.year} : plus de "
                      f"{ctx.territory.claims.not_replaced_beyond_years} ans, il ne sera pas remplacé "
                      "(convention, art. 6). Aucune demande de remplacement n'est ouverte."),
                data={"not_replaced": asset.tag},
            )
        if draft.tried_articles and index == 0:
            await repo.add_event(
                session, ticket, "kb",
                body="Tutoriel(s) essayé(s) sans succès : " + ", ".join(a.title for a in draft.tried_articles),
                actor_kind="requester" if requester else "system", actor_id=requester.id if requester else None,
                data={"articles": [a.slug for a in draft.tried_articles]}, at=now,
            )
        if index:
            # The replacement waits for the school authority's declaration (convention art. 6).
            first = opened[0][0]
            first.linked_ticket_id = ticket.id
            change_status(ticket, TicketStatus.ON_HOLD, reason=(
                f"En attente de la déclaration de sinistre (demande {first.reference})."
            ), at=now)
        policy = ctx.policy(step.sla)
        if policy is not None and index == 0:
            await open_clocks(session, ticket, policy, ctx.calendar)
        elif policy is not None:
            # The follow-up's clock is paused until it leaves `on_hold` (handlers.ticket_status).
            await recompute_clocks(session, ticket, policy, ctx.calendar, now)
        opened.append((ticket, replace(step, role=role, reason=reason), org))
        if org.email:
            await repo.enqueue(
                session, channel=Channel.EMAIL.value, recipient=org.email,
                subject=f"[Guichet {ticket.reference}] {ticket.subject}",
                body=(f"Nouvelle demande {ticket.reference} pour {org.name}"
                      + (f" (suite de la demande {opened[0][0].reference})" if index else "")
                      + f" :\n\n{ticket.description}"),
                ticket_id=ticket.id, dedupe_key=f"new:{ticket.id}:{org.id}",
            )
    await session.flush()
    results = []
    for ticket, step, org in opened:
        policy = ctx.policy(step.sla)
        results.append(OpenedTicket(
            reference=ticket.reference, ticket_id=ticket.id, organisation_slug=org.slug,
            organisation_name=org.name, sla=step.sla,
            due=due(now, policy, ctx.calendar) if policy else None, reason=step.reason,
        ))
    message = confirmation_message(results, draft.intent, ctx.calendar, not_replaced=too_old)
    return ReportOutcome(tickets=tuple(results), message=message, decision=decision)


def _deadline(opened: OpenedTicket) -> datetime | None:
    if opened.due is None:
        return None
    return opened.due.target or opened.due.breach


def confirmation_message(tickets: list[OpenedTicket], intent: Intent, calendar: WorkingCalendar, *,
                         not_replaced: bool = False) -> str:
    """The teacher's answer: the reference, who handles it and by when."""
    first = tickets[0]
    lines = [f"C'est noté : votre demande {first.reference} est enregistrée."]
    if intent in (Intent.THEFT, Intent.DAMAGE) and (len(tickets) > 1 or not_replaced):
        event = "le vol" if intent is Intent.THEFT else "le sinistre"
        deadline = _deadline(first)
        lines.append(
            f"{as_subject(first.organisation_name)} doit déclarer {event} à son assureur"
            + (" et porter plainte" if intent is Intent.THEFT else "")
            + (f" d'ici {format_commitment_fr(deadline, calendar)}" if deadline else "")
            + " (convention, art. 6)."
        )
        if not_replaced:
            lines.append("Ce matériel a dépassé l'âge limite de la convention : il ne sera pas remplacé.")
            return "\n".join(lines)
        second = tickets[1]
        lines.append(
            f"{as_subject(second.organisation_name)} remplacera le matériel dès réception de la déclaration "
            f"(demande liée {second.reference})."
        )
        return "\n".join(lines)
    lines.append(f"Elle est transmise à {as_object(first.organisation_name)}.")
    deadline = _deadline(first)
    if deadline is not None:
        if first.sla is SlaPolicy.REPLACEMENT:
            lines.append(f"Remplacement prévu d'ici {format_commitment_fr(deadline, calendar)}.")
        elif first.sla is SlaPolicy.FIRST_RESPONSE:
            lines.append(f"Première réponse attendue d'ici {format_commitment_fr(deadline, calendar)}.")
        else:
            lines.append(f"Traitement prévu d'ici {format_commitment_fr(deadline, calendar)}.")
    return "\n".join(lines)

"""Calls (and visits) logged by agents: a school's teacher on the phone becomes a ticket like any other.

The agent finds the school (among those they cover, `handlers.agent_scope`) and the teacher (an
existing requester of that school, or a new one with a phone number and an optional e-mail), types
the message, the device if known; the desk's triage and routing suggest the category and the
organisation with the rule's reason; the agent confirms or corrects. The ticket is then opened by
`handlers.report.open_report`, the use case of every door, with channel `phone`: clocks, events and
the organisation's notice in one transaction, plus the teacher's reference on a channel the desk
can write to (Telegram, e-mail, a web chat) when one is known.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import joinedload, selectinload

from desk import repositories as repo
from desk.errors import DeskError
from desk.models import Asset, Commune, Organisation, Requester, RequesterIdentity, School, Territory, Ticket
from domain.formats import format_phone, normalise_phone
from domain.labels import INTENT_FR, REQUESTER_ROLE_FR
from domain.uai import normalise_uai
from domain.vocabulary import (
    NOTIFIABLE_CHANNELS,
    TICKET_INTENTS,
    AssetOwner,
    Channel,
    Equipment,
    Intent,
    SchoolStatus,
)
from handlers.agent_scope import Actor, reads_every_school, ticket_scope
from handlers.context import DeskContext, context_for
from handlers.report import NotATicket, ReportDraft, open_report, organisation_ref
from nlu import NluBackend, ParseResult
from routing import Decision, OrgRef, decide

__all__ = [
    "CALL_INTENTS", "CallRefused", "CallRequest", "Caller", "LoggedCall", "LoggedCalls", "NewRequester",
    "Suggestion",
]

MAX_TEXT = 20_000
MAX_NAME = 200
#: Schools offered for one search.
MAX_SCHOOLS = 20
#: Callers of a school offered to pick from, most recent first.
MAX_CALLERS = 100
#: What a ticket opened by phone can be about (no small talk, no status question).
CALL_INTENTS: tuple[Intent, ...] = tuple(sorted(TICKET_INTENTS, key=lambda i: INTENT_FR[i].casefold()))
MODES: Mapping[str, str] = {"call": "Appel téléphonique", "visit": "Visite au guichet"}
#: Where the teacher's reference goes first: Telegram is read at once, then mail, then a web chat.
NOTICE_ORDER = (Channel.TELEGRAM, Channel.EMAIL, Channel.WEBCHAT, Channel.HTTPCHAT)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CallRefused(DeskError):
    """The call cannot be recorded as typed: French messages per field, for the form or the API."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(next(iter(self.errors.values()), "Le formulaire contient des erreurs."))

    @property
    def message(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class NewRequester:
    """A teacher the desk does not know yet, as the agent typed her."""

    name: str
    role: str
    phone: str
    email: str = ""


@dataclass(frozen=True, slots=True)
class CallRequest:
    """What the agent typed, as plain strings: the page's form and the API's body alike."""

    school: str
    text: str
    requester_id: int | None = None
    new_requester: NewRequester | None = None
    asset_tag: str = ""
    mode: str = "call"
    #: The category confirmed or corrected by the agent; empty: the triage's.
    intent: str = ""
    #: The organisation chosen by the agent (slug); empty: the one the territory's rules name.
    organisation: str = ""
    #: Why, when the organisation chosen is not the rules' one.
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Caller:
    """A requester of a school, as the agent picks her."""

    id: int
    name: str
    role: str
    contacts: tuple[str, ...]

    @property
    def label(self) -> str:
        role = REQUESTER_ROLE_FR.get(self.role, self.role)
        return f"{self.name} ({role.lower()})" + (f" — {', '.join(self.contacts)}" if self.contacts else "")


@dataclass(frozen=True, slots=True)
class Suggestion:
    """What triage and routing make of the message: the category, the organisation and why."""

    intent: Intent
    triaged: Intent
    confidence: float
    equipment: str | None
    organisation_slug: str
    organisation_name: str
    reason: str
    rule_id: str


@dataclass(frozen=True, slots=True)
class LoggedCall:
    """The ticket(s) a call opened and what the agent is told."""

    reference: str
    references: tuple[str, ...]
    status: str
    intent: Intent
    organisation_slug: str
    organisation_name: str
    #: Whether the agent can open the ticket (routed to an organisation outside their scope, it is not).
    in_scope: bool
    #: The channel the teacher's reference went to, None when no identity the desk can write to is known.
    notified: str | None
    suggestion: Suggestion
    corrected: bool
    message: str


@dataclass(frozen=True, slots=True)
class _Checked:
    school: School
    asset: Asset | None
    text: str
    mode: str


class LoggedCalls:
    """The logged-call use cases, bound to the session factory, the NLU and the territories' rules."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], nlu: NluBackend,
                 context_of: Callable[[str], DeskContext] = context_for) -> None:
        self.sessions = sessions
        self.nlu = nlu
        self.context_of = context_of

    # --- what the form offers ----------------------------------------------------------------

    async def schools(self, actor: Actor, q: str) -> list[School]:
        """The schools `actor` covers whose name, UAI or commune contains `q` (commune loaded)."""
        q = " ".join(q.split())[:100].replace("%", "").replace("_", "")
        if len(q) < 2:
            return []
        async with self.sessions() as session:
            like = f"%{q}%"
            rows = await session.scalars(
                select(School).join(Commune, School.commune_id == Commune.id).options(joinedload(School.commune))
                .where(await covered_schools(session, actor),
                       or_(School.name.ilike(like), School.uai == normalise_uai(q), Commune.name.ilike(like)))
                .order_by(Commune.name, School.name).limit(MAX_SCHOOLS))
            return list(rows.all())

    async def school(self, actor: Actor, uai: str) -> School | None:
        """The school with this UAI if `actor` covers it (commune loaded), else None."""
        async with self.sessions() as session:
            return await _covered_school(session, actor, uai)

    async def callers(self, actor: Actor, school_id: int) -> list[Caller]:
        """The school's requesters with their contacts, most recent first."""
        async with self.sessions() as session:
            rows = await session.scalars(
                select(Requester).options(selectinload(Requester.identities))
                .where(Requester.territory_id == actor.territory_id, Requester.school_id == school_id)
                .order_by(Requester.id.desc()).limit(MAX_CALLERS))
            return [_caller(r) for r in rows.all()]

    async def organisations(self, actor: Actor) -> list[tuple[str, str]]:
        """(slug, name) of the territory's organisations: those a call can be routed to."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(Organisation.slug, Organisation.name).where(Organisation.territory_id == actor.territory_id)
                .order_by(Organisation.kind, Organisation.name))
            return [(s, n) for s, n in rows.all()]

    # --- the two steps -------------------------------------------------------------------------

    async def suggest(self, actor: Actor, request: CallRequest) -> Suggestion:
        """Triage and route the message as the doors would; CallRefused for what cannot be read."""
        async with self.sessions() as session:
            ctx = await self._context(session, actor)
            checked = await _check(session, actor, request)
            return await self._suggest(ctx, checked, await self._parse(checked.text))

    async def create(self, actor: Actor, request: CallRequest) -> LoggedCall:
        """Open the ticket(s) of the call, in one transaction, and queue the teacher's reference."""
        async with self.sessions.begin() as session:
            ctx = await self._context(session, actor)
            checked = await _check(session, actor, request, for_create=True)
            parsed = await self._parse(checked.text)
            suggestion = await self._suggest(ctx, checked, parsed)
            intent = _chosen_intent(request.intent, suggestion)
            routed = await self._routing(session, ctx, actor, checked, parsed, intent, request)
            requester = await _requester(session, actor, checked.school, request)
            equipment = _equipment(checked, parsed)
            draft = ReportDraft(
                text=checked.text, intent=intent, channel=Channel.PHONE, requester_id=requester.id,
                school_id=checked.school.id, equipment=Equipment(equipment) if equipment else None,
                asset_tag=checked.asset.tag if checked.asset else None, room=parsed.first("room"),
                confidence=parsed.confidence,
                organisation_slug=routed[0] if routed else None, routing_reason=routed[1] if routed else None,
            )
            try:
                outcome = await open_report(session, ctx, draft)
            except NotATicket:
                raise CallRefused({"intent": "Cette catégorie n'ouvre pas de demande : choisissez-en une autre."}) \
                    from None
            first = outcome.tickets[0]
            ticket = await session.get(Ticket, first.ticket_id)
            assert ticket is not None
            corrected = intent is not suggestion.intent or first.organisation_slug != suggestion.organisation_slug
            who = requester.name or REQUESTER_ROLE_FR.get(requester.role, "Demandeur")
            await repo.add_event(
                session, ticket, "call", channel=Channel.PHONE.value, actor_kind="agent", actor_id=actor.id,
                body=(f"{MODES[checked.mode]} de {who} enregistré par {actor.name} ({actor.organisation_name})."
                      + (f" Orientation proposée : {INTENT_FR[suggestion.intent]}, {suggestion.organisation_name} ;"
                         f" corrigée en : {INTENT_FR[intent]}, {first.organisation_name}." if corrected else "")),
                data={"mode": checked.mode, "requester_id": requester.id, "corrected": corrected,
                      "suggested": {"intent": suggestion.intent.value, "organisation": suggestion.organisation_slug,
                                    "rule": suggestion.rule_id, "confidence": round(suggestion.confidence, 4)},
                      "chosen": {"intent": intent.value, "organisation": first.organisation_slug}},
            )
            notified = await _tell_teacher(session, requester, ticket, outcome.message, checked.mode)
            in_scope = bool(await session.scalar(
                select(exists().where(Ticket.id == ticket.id, ticket_scope(actor)))))
            return LoggedCall(
                reference=first.reference, references=tuple(t.reference for t in outcome.tickets),
                status=ticket.status, intent=intent, organisation_slug=first.organisation_slug,
                organisation_name=first.organisation_name, in_scope=in_scope, notified=notified,
                suggestion=suggestion, corrected=corrected,
                message=_agent_message(first.reference, first.organisation_name, notified),
            )

    # --- inside -------------------------------------------------------------------------------------

    async def _context(self, session: AsyncSession, actor: Actor) -> DeskContext:
        slug = await session.scalar(select(Territory.slug).where(Territory.id == actor.territory_id))
        assert slug is not None
        return self.context_of(slug)

    async def _parse(self, text: str) -> ParseResult:
        return await self.nlu.aparse(text[:4096])

    async def _suggest(self, ctx: DeskContext, checked: _Checked, parsed: ParseResult) -> Suggestion:
        intent = _ticket_intent(parsed, checked.asset)
        ref, decision = _route(ctx, checked, parsed, intent)
        return Suggestion(intent=intent, triaged=parsed.intent, confidence=parsed.confidence,
                          equipment=_equipment(checked, parsed), organisation_slug=ref.slug,
                          organisation_name=ref.name, reason=decision.reason, rule_id=decision.rule_id)

    async def _routing(self, session: AsyncSession, ctx: DeskContext, actor: Actor, checked: _Checked,
                       parsed: ParseResult, intent: Intent, request: CallRequest) -> tuple[str, str] | None:
        """(slug, reason) of the organisation the agent chose instead of the rules' one, or None."""
        slug = request.organisation.strip()
        if not slug:
            return None
        name = await session.scalar(select(Organisation.name).where(
            Organisation.territory_id == actor.territory_id, Organisation.slug == slug))
        if name is None:
            raise CallRefused({"organisation": "Choisissez une organisation du territoire."})
        if slug == _route(ctx, checked, parsed, intent)[0].slug:
            return None
        reason = " ".join(request.reason.split())
        if not reason:
            raise CallRefused({"reason": "Indiquez pourquoi la demande va à une autre organisation que celle "
                                         "prévue par la convention."})
        if len(reason) > 2000:
            raise CallRefused({"reason": "Le motif est trop long (2 000 caractères au plus)."})
        return slug, f"Orientée par {actor.name} ({actor.organisation_name}) lors de l'appel : {reason}"


def _equipment(checked: _Checked, parsed: ParseResult) -> str | None:
    """The device's type from the inventory when its tag was given, else what the message names."""
    return checked.asset.type if checked.asset is not None else parsed.equipment


def _route(ctx: DeskContext, checked: _Checked, parsed: ParseResult, intent: Intent) -> tuple[OrgRef, Decision]:
    """The territory's rules on this call for `intent`: the organisation they name, and the decision."""
    equipment = _equipment(checked, parsed)
    owner = checked.asset.owner if checked.asset is not None else None
    decision = decide(
        ctx.territory, intent=intent, equipment=Equipment(equipment) if equipment else None,
        school_status=SchoolStatus(checked.school.status),
        asset_owner=AssetOwner(owner) if owner in set(AssetOwner) else None, text=checked.text,
    )
    ref = organisation_ref(ctx, decision.role, checked.school) if decision.role else ctx.territory.operator
    return ref, decision


async def covered_schools(session: AsyncSession, actor: Actor) -> ColumnElement[bool]:
    """The schools `actor` covers, as a condition on School (the rule of `agent_scope.covers_school`)."""
    same_territory = School.territory_id == actor.territory_id
    if await reads_every_school(session, actor):
        return same_territory
    return and_(same_territory, or_(
        School.commune_id.in_(select(Commune.id).where(Commune.organisation_id == actor.organisation_id)),
        School.ogec_id == actor.organisation_id,
        exists().where(Ticket.school_id == School.id, ticket_scope(actor)),
    ))


async def _covered_school(session: AsyncSession, actor: Actor, uai: str) -> School | None:
    code = normalise_uai(uai or "")
    if not code:
        return None
    return await session.scalar(
        select(School).options(joinedload(School.commune).joinedload(Commune.organisation), joinedload(School.ogec))
        .where(School.uai == code, await covered_schools(session, actor)))


def _caller(requester: Requester) -> Caller:
    contacts = []
    for identity in requester.identities:
        if identity.channel == Channel.PHONE:
            contacts.append(format_phone(identity.external_id))
        elif identity.channel == Channel.EMAIL:
            contacts.append(identity.external_id)
        elif identity.channel == Channel.TELEGRAM:
            contacts.append("Telegram")
    return Caller(requester.id, requester.name or "Sans nom", requester.role, tuple(dict.fromkeys(contacts)))


async def _check(session: AsyncSession, actor: Actor, request: CallRequest, *,
                 for_create: bool = False) -> _Checked:
    """The school, the device, the message and (to create) the caller, or every error at once."""
    errors: dict[str, str] = {}
    school = await _covered_school(session, actor, request.school) if request.school.strip() else None
    if not request.school.strip():
        errors["school"] = "Choisissez l'école de l'appel."
    elif school is None:
        errors["school"] = "Cette école est introuvable ou hors de votre périmètre."
    text = request.text.strip()
    if not text:
        errors["text"] = "Écrivez le message de l'appel, tel que la personne l'a dit."
    elif len(text) > MAX_TEXT:
        errors["text"] = "Le message est trop long (20 000 caractères au plus)."
    if request.mode not in MODES:
        errors["mode"] = "Indiquez s'il s'agit d'un appel ou d'une visite."
    asset = None
    tag = request.asset_tag.strip()
    if tag:
        asset = await repo.asset_by_tag(session, actor.territory_id, tag)
        if asset is None:
            errors["asset_tag"] = "Aucun matériel de l'inventaire ne porte cette étiquette."
        elif school is not None and asset.school_id is not None and asset.school_id != school.id:
            where = asset.school.name if asset.school else "une autre école"
            errors["asset_tag"] = f"Ce matériel est inventorié dans une autre école : {where}."
    if request.intent and request.intent not in {i.value for i in CALL_INTENTS}:
        errors["intent"] = "Choisissez une catégorie de la liste."
    if for_create:
        errors.update(_check_caller(request))
    if errors:
        raise CallRefused(errors)
    assert school is not None
    return _Checked(school=school, asset=asset, text=text, mode=request.mode)


def _check_caller(request: CallRequest) -> dict[str, str]:
    new = request.new_requester
    if request.requester_id is not None and new is not None:
        return {"requester": "Choisissez une personne de la liste ou créez-en une, pas les deux."}
    if request.requester_id is None and new is None:
        return {"requester": "Choisissez la personne qui appelle, ou créez-la."}
    if new is None:
        return {}
    errors = {}
    if len(new.name.strip()) > MAX_NAME:
        errors["requester.name"] = "Le nom est trop long (200 caractères au plus)."
    if new.role not in REQUESTER_ROLE_FR:
        errors["requester.role"] = "Indiquez si la personne est enseignant·e ou directeur·rice."
    if not new.phone.strip():
        errors["requester.phone"] = "Indiquez le numéro de téléphone de la personne."
    elif normalise_phone(new.phone) is None:
        errors["requester.phone"] = "Numéro de téléphone invalide : dix chiffres, par exemple 04 77 12 34 56."
    if new.email.strip() and (not _EMAIL.match(new.email.strip()) or len(new.email.strip()) > 254):
        errors["requester.email"] = "Adresse électronique invalide."
    return errors


def _ticket_intent(parsed: ParseResult, asset: Asset | None) -> Intent:
    """The triage's intent when it opens a ticket; otherwise the likeliest one that does (a phone call
    is a request for help: « ça ne marche pas » with no more words is a breakdown)."""
    if parsed.intent in TICKET_INTENTS:
        return parsed.intent
    for score in parsed.intent_ranking:
        if score.intent in TICKET_INTENTS and score.intent not in (Intent.THEFT, Intent.DAMAGE):
            return score.intent
    return Intent.HARDWARE_FAILURE if (parsed.equipment or asset is not None) else Intent.SOFTWARE_ISSUE


def _chosen_intent(raw: str, suggestion: Suggestion) -> Intent:
    return Intent(raw) if raw else suggestion.intent


async def _requester(session: AsyncSession, actor: Actor, school: School, request: CallRequest) -> Requester:
    """The caller: a requester of the school picked from the list, or the new one (an identity already
    known, her phone number or her e-mail, is the same person)."""
    if request.requester_id is not None:
        found = await session.scalar(select(Requester).where(
            Requester.id == request.requester_id, Requester.territory_id == actor.territory_id,
            Requester.school_id == school.id))
        if found is None:
            raise CallRefused({"requester": "Choisissez une personne de cette école."})
        return found
    new = request.new_requester
    assert new is not None
    phone = normalise_phone(new.phone)
    assert phone is not None
    email = new.email.strip().lower()
    by_phone = await repo.requester_by_identity(session, Channel.PHONE.value, phone)
    by_email = await repo.requester_by_identity(session, Channel.EMAIL.value, email) if email else None
    if by_phone is not None and by_email is not None and by_phone.id != by_email.id:
        raise CallRefused({"requester.email": "Cette adresse électronique est celle d'une autre personne que ce "
                                              "numéro : vérifiez-les."})
    found = by_phone or by_email
    if found is not None and found.territory_id != actor.territory_id:
        raise CallRefused({"requester.phone": "Cette personne est enregistrée sur un autre territoire."})
    if found is None and not new.name.strip():
        raise CallRefused({"requester.name": "Indiquez le nom de la personne (ce numéro n'est pas encore connu)."})
    if found is None:
        found = Requester(territory_id=actor.territory_id, name=" ".join(new.name.split()), role=new.role,
                          school_id=school.id)
        found.identities = []
        session.add(found)
    elif not found.name:
        found.name = " ".join(new.name.split())
    if found.school_id is None:
        found.school_id = school.id
    identities = [(Channel.PHONE, phone)] + ([(Channel.EMAIL, email)] if email else [])
    for channel, external_id in identities:
        if (channel is Channel.PHONE and by_phone is None) or (channel is Channel.EMAIL and by_email is None):
            session.add(RequesterIdentity(requester=found, channel=channel.value, external_id=external_id))
    await session.flush()
    return found


async def _tell_teacher(session: AsyncSession, requester: Requester, ticket: Ticket, confirmation: str,
                        mode: str) -> str | None:
    """Queue the reference on the best channel the desk can write to; the channel, or None."""
    identities = (await session.scalars(
        select(RequesterIdentity).where(RequesterIdentity.requester_id == requester.id,
                                        RequesterIdentity.unreachable.is_(False)))).all()
    usable = {Channel(i.channel): i for i in identities if i.channel in NOTIFIABLE_CHANNELS}
    channel = next((c for c in NOTICE_ORDER if c in usable), None)
    if channel is None:
        return None
    after = "Suite à votre appel au guichet" if mode == "call" else "Suite à votre passage au guichet"
    await repo.enqueue(
        session, channel=channel.value, recipient=usable[channel].external_id,
        subject=f"Votre demande {ticket.reference}",
        body=f"Bonjour,\n{after}, voici la trace de votre demande.\n{confirmation}",
        payload={"reference": ticket.reference, "kind": "call"}, ticket_id=ticket.id,
        dedupe_key=f"call:{ticket.id}",
    )
    return channel.value


def _agent_message(reference: str, organisation: str, notified: str | None) -> str:
    told = {Channel.TELEGRAM.value: " Le demandeur a reçu la référence sur Telegram.",
            Channel.EMAIL.value: " Le demandeur a reçu la référence par courriel."}
    tail = told.get(notified or "", " Le demandeur la recevra dans sa messagerie." if notified else
                    " Aucun moyen d'écrire au demandeur n'est connu : donnez-lui la référence de vive voix.")
    return f"Demande {reference} enregistrée et transmise à {organisation}.{tail}"


"""The inventory's use cases: find a device, read its identity and logbook, and change it.

Every change (create, edit, move, retire, mark stolen, a note) writes one `desk.models.AssetEvent`
with who, when, why and the details before and after, in the same transaction: the logbook
(« carnet de bord attaché au matériel », seed 000). Tickets about the device are read from the
tickets and their status events, never copied. Who sees a device: the territory's readers
(admin, coordinator), its owner organisation and the organisations of its school (the commune or
the OGEC); anyone else gets RecordNotFound, as for tickets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from desk.errors import DeskError, RecordNotFound
from desk.lifecycle import OPEN_STATUSES
from desk.models import (
    Agent,
    Asset,
    AssetEvent,
    ClaimLine,
    Commune,
    Organisation,
    Requester,
    Room,
    School,
    Territory,
    Ticket,
    TicketEvent,
)
from domain.formats import ASSET_TAG_PATTERN
from domain.french import cents_from_euros
from domain.labels import EQUIPMENT_FR
from domain.uai import normalise_uai
from domain.vocabulary import AgentRole, AssetEventKind, AssetOwner, AssetStatus, Equipment, Intent, OrgKind
from handlers.agent_scope import Actor
from handlers.context import context_for
from routing.claims import refund_rate

__all__ = [
    "AssetChanges", "AssetFile", "AssetPage", "AssetQuery", "AssetRefused", "AssetRow", "LogEntry", "NoteOutcome",
    "NoteResult", "TeacherNote", "add_note", "asset_file", "create_asset", "edit_asset", "logbook", "mark_stolen", "move_asset",
    "parse_device_note", "retire_asset", "search_assets", "set_status", "teacher_note", "visible_asset",
]

MAX_NOTE = 2000
MAX_WHY = 1000
#: Tickets whose open state means the device is being repaired.
REPAIR_INTENTS = frozenset({Intent.HARDWARE_FAILURE, Intent.SOFTWARE_ISSUE, Intent.DAMAGE})
#: Owners that are one organisation of the territory, whichever the school.
_TERRITORY_OWNERS = {AssetOwner.SEM.value: OrgKind.SEM.value, AssetOwner.AGGLOMERATION.value: OrgKind.AGGLOMERATION.value}
_TAG = re.compile(rf"^{ASSET_TAG_PATTERN}$")
#: Ticket statuses the logbook shows (opening is the ticket itself).
_LOGGED_TICKET_STATUSES = frozenset({"resolved", "closed", "cancelled", "reopened"})


class AssetRefused(DeskError):
    """The change cannot be done as asked; `message` is French, for the agent."""

    def __init__(self, message: str, field_name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field_name


# --- what the pages and the API read ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssetRow:
    """One device as a list shows it; `status` is the effective one (in repair while a repair ticket is open)."""

    tag: str
    type: str
    model: str | None
    serial: str | None
    owner: str
    school_uai: str | None
    school_name: str | None
    commune: str | None
    room: str | None
    acquired_on: date | None
    value_cents: int | None
    status: str


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of the logbook: an inventory event or a ticket about the device."""

    at: datetime
    kind: str  # an AssetEventKind, or `ticket` (opened) / `ticket_status` (resolved, closed…)
    actor: str | None
    body: str | None
    data: dict[str, Any] | None = None
    ticket_reference: str | None = None
    ticket_status: str | None = None


@dataclass(frozen=True, slots=True)
class AssetFile:
    """A device's page: its identity, age and refund rate today, and its whole logbook in order."""

    row: AssetRow
    owner_name: str | None
    today: date
    age_years: int | None
    #: Percent the school authority would refund today (convention art. 6); None: not replaced any more.
    refund_rate: int | None
    logbook: tuple[LogEntry, ...]
    can_manage: bool
    claims_source: str


@dataclass(frozen=True, slots=True)
class AssetQuery:
    """Search and filters of the inventory list (all optional)."""

    q: str = ""  # tag, serial or model, in part
    school: str = ""  # UAI, or part of the school's name
    room: str = ""
    type: str = ""
    status: str = ""
    owner: str = ""


@dataclass(frozen=True, slots=True)
class AssetPage:
    rows: tuple[AssetRow, ...]
    has_next: bool
    total: int | None = None


# --- scope -----------------------------------------------------------------------------------


async def _org_kind(session: AsyncSession, actor: Actor) -> str | None:
    return await session.scalar(select(Organisation.kind).where(Organisation.id == actor.organisation_id))


async def asset_scope(session: AsyncSession, actor: Actor) -> ColumnElement[bool]:
    """Devices `actor` may see: the territory's for its readers; otherwise those their organisation
    owns and those of the schools it answers for (the commune's, the OGEC's)."""
    same = Asset.territory_id == actor.territory_id
    if actor.reads_territory:
        return same
    schools = (select(School.id).join(Commune, School.commune_id == Commune.id)
               .where(or_(Commune.organisation_id == actor.organisation_id,
                          School.ogec_id == actor.organisation_id)))
    conditions: list[ColumnElement[bool]] = [Asset.school_id.in_(schools)]
    kind = await _org_kind(session, actor)
    owners = [owner for owner, org_kind in _TERRITORY_OWNERS.items() if org_kind == kind]
    if owners:
        conditions.append(Asset.owner.in_(owners))
    return and_(same, or_(*conditions))


def _repairing() -> ColumnElement[bool]:
    return exists().where(Ticket.asset_id == Asset.id, Ticket.status.in_([s.value for s in OPEN_STATUSES]),
                          Ticket.intent.in_([i.value for i in REPAIR_INTENTS]))


def status_column() -> ColumnElement[str]:
    """The effective status: the recorded one, « in repair » while a repair ticket on it is open."""
    return case((and_(Asset.status == AssetStatus.IN_SERVICE.value, _repairing()), AssetStatus.IN_REPAIR.value),
                else_=Asset.status)


def _loaded() -> Any:
    return (selectinload(Asset.school).selectinload(School.commune).selectinload(Commune.organisation),
            selectinload(Asset.school).selectinload(School.ogec), selectinload(Asset.room))


async def visible_asset(session: AsyncSession, actor: Actor, tag: str, *, for_update: bool = False) -> Asset:
    """The device with this tag in `actor`'s scope; RecordNotFound otherwise (no such tag or not theirs)."""
    stmt = (select(Asset).options(*_loaded())
            .where(Asset.tag == tag.strip().upper(), await asset_scope(session, actor)))
    if for_update:
        stmt = stmt.with_for_update(of=Asset)
    asset = await session.scalar(stmt)
    if asset is None:
        raise RecordNotFound(f"asset {tag}")
    return asset


async def _may_manage(session: AsyncSession, actor: Actor, owner: str, school: School | None) -> bool:
    """Create, edit, move and retire: an administrator, or the owner organisation's agents."""
    if actor.is_admin:
        return True
    if actor.role is AgentRole.COORDINATOR:
        return False
    if owner in _TERRITORY_OWNERS:
        return await _org_kind(session, actor) == _TERRITORY_OWNERS[owner]
    if school is None:
        return False
    commune_org = await session.scalar(select(Commune.organisation_id).where(Commune.id == school.commune_id))
    if owner == AssetOwner.OGEC.value:
        return school.ogec_id == actor.organisation_id
    if owner == AssetOwner.COMMUNE.value:
        return commune_org == actor.organisation_id
    return actor.organisation_id in (commune_org, school.ogec_id)


# --- reading -----------------------------------------------------------------------------------


def _row(asset: Asset, status: str | None = None) -> AssetRow:
    school = asset.school
    return AssetRow(
        tag=asset.tag, type=asset.type, model=asset.model, serial=asset.serial, owner=asset.owner,
        school_uai=school.uai if school else None, school_name=school.name if school else None,
        commune=school.commune.name if school else None, room=asset.room.name if asset.room else None,
        acquired_on=asset.acquired_on, value_cents=asset.value_cents, status=status or asset.status)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def _filters(session: AsyncSession, actor: Actor, query: AssetQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [await asset_scope(session, actor)]
    q = query.q.strip()[:100]
    if q:
        pattern = _like(q.upper())
        where.append(or_(Asset.tag.like(pattern, escape="\\"), func.upper(Asset.serial).like(pattern, escape="\\"),
                         func.upper(Asset.model).like(pattern, escape="\\")))
    school = query.school.strip()[:100]
    if school:
        uai = normalise_uai(school)
        by_name = select(School.id).where(func.lower(School.name).like(_like(school.lower()), escape="\\"))
        where.append(or_(Asset.school_id.in_(select(School.id).where(School.uai == uai)), Asset.school_id.in_(by_name))
                     if uai else Asset.school_id.in_(by_name))
    room = " ".join(query.room.split())[:120]
    if room:
        where.append(Asset.room_id.in_(select(Room.id).where(func.lower(Room.name).like(_like(room.lower()), escape="\\"))))
    if query.type:
        where.append(Asset.type == query.type)
    if query.owner:
        where.append(Asset.owner == query.owner)
    if query.status:
        where.append(status_column() == query.status)
    return where


async def search_assets(session: AsyncSession, actor: Actor, query: AssetQuery, *, limit: int = 50,
                        offset: int = 0, after: str | None = None, count: bool = False) -> AssetPage:
    """The devices of `actor`'s scope matching `query`, by tag; `after` a tag for keyset pages, or `offset`."""
    where = await _filters(session, actor, query)
    stmt = select(Asset, status_column()).options(*_loaded()).where(*where).order_by(Asset.tag)
    if after:
        stmt = stmt.where(Asset.tag > after.strip().upper())
    rows = (await session.execute(stmt.offset(offset).limit(limit + 1))).all()
    total = await session.scalar(select(func.count()).select_from(Asset).where(*where)) if count else None
    return AssetPage(rows=tuple(_row(a, s) for a, s in rows[:limit]), has_next=len(rows) > limit, total=total)


async def _owner_name(session: AsyncSession, asset: Asset) -> str | None:
    if asset.owner in _TERRITORY_OWNERS:
        return await session.scalar(select(Organisation.name).where(
            Organisation.territory_id == asset.territory_id, Organisation.kind == _TERRITORY_OWNERS[asset.owner])
            .order_by(Organisation.id).limit(1))
    school = asset.school
    if school is None:
        return None
    if asset.owner == AssetOwner.COMMUNE.value:
        return school.commune.organisation.name if school.commune.organisation else school.commune.name
    if asset.owner == AssetOwner.OGEC.value:
        return school.ogec.name if school.ogec else None
    return None


async def logbook(session: AsyncSession, asset: Asset) -> list[LogEntry]:
    """The device's whole story in order: inventory events, the tickets about it (opened, then
    resolved, closed, cancelled, reopened), read where they live."""
    entries: list[tuple[datetime, int, int, LogEntry]] = []
    for event in (await session.scalars(
            select(AssetEvent).where(AssetEvent.asset_id == asset.id).order_by(AssetEvent.at, AssetEvent.id))).all():
        reference = (event.data or {}).get("ticket")
        entries.append((event.at, 1, event.id, LogEntry(at=event.at, kind=event.kind, actor=event.actor_name,
                                                        body=event.body, data=event.data,
                                                        ticket_reference=reference if isinstance(reference, str) else None)))
    claimed = select(ClaimLine.ticket_id).where(ClaimLine.asset_id == asset.id)
    tickets = (await session.scalars(
        select(Ticket).options(selectinload(Ticket.requester))
        .where(Ticket.territory_id == asset.territory_id, or_(Ticket.asset_id == asset.id, Ticket.id.in_(claimed)))
    )).all()
    by_id = {t.id: t for t in tickets}
    for ticket in tickets:
        who = ticket.requester.name if ticket.requester and ticket.requester.name else None
        entries.append((ticket.opened_at, 0, ticket.id, LogEntry(
            at=ticket.opened_at, kind="ticket", actor=who, body=ticket.subject,
            ticket_reference=ticket.reference, ticket_status=ticket.status)))
    if by_id:
        rows = (await session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id.in_(list(by_id)), or_(
                and_(TicketEvent.kind == "status", TicketEvent.to_status.in_(sorted(_LOGGED_TICKET_STATUSES))),
                TicketEvent.kind == "reply"))
            .order_by(TicketEvent.id))).all()
        # A resolution's words are the agent's reply just before it (the intervention).
        last_reply: dict[int, str | None] = {}
        events, said = [], {}
        for row in rows:
            if row.kind == "reply":
                last_reply[row.ticket_id] = row.body
                continue
            events.append(row)
            said[row.id] = row.body or (last_reply.pop(row.ticket_id, None) if row.to_status == "resolved" else None)
        agents = dict((await session.execute(select(Agent.id, Agent.name).where(
            Agent.id.in_({e.actor_id for e in events if e.actor_kind == "agent" and e.actor_id})))).all())
        for event in events:
            ticket = by_id[event.ticket_id]
            who = agents.get(event.actor_id) if event.actor_kind == "agent" else (
                ticket.requester.name if event.actor_kind == "requester" and ticket.requester else None)
            entries.append((event.at, 2, event.id, LogEntry(
                at=event.at, kind="ticket_status", actor=who, body=said[event.id],
                ticket_reference=ticket.reference, ticket_status=event.to_status)))
    entries.sort(key=lambda item: item[:3])
    return [entry for *_, entry in entries]


async def _today(session: AsyncSession, territory_id: int, now: datetime) -> tuple[date, Territory]:
    territory = await session.get(Territory, territory_id)
    assert territory is not None
    return now.astimezone(ZoneInfo(territory.timezone)).date(), territory


async def asset_file(session: AsyncSession, actor: Actor, tag: str, now: datetime) -> AssetFile:
    """The device's page for `actor`: RecordNotFound outside their scope."""
    asset = await visible_asset(session, actor, tag)
    status = await session.scalar(select(status_column()).where(Asset.id == asset.id))
    today, territory = await _today(session, asset.territory_id, now)
    rules = context_for(territory.slug).territory.claims
    age = rate = None
    if asset.acquired_on is not None:
        age = max(rules.age(asset.acquired_on, today), 0)
        rate = refund_rate(rules, asset.acquired_on, today)
    return AssetFile(
        row=_row(asset, status), owner_name=await _owner_name(session, asset), today=today, age_years=age,
        refund_rate=rate, logbook=tuple(await logbook(session, asset)),
        can_manage=await _may_manage(session, actor, asset.owner, asset.school), claims_source=rules.source)


# --- changes -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssetChanges:
    """What a form gives for a device's identity, as typed (checked here)."""

    type: str
    owner: str
    model: str = ""
    serial: str = ""
    acquired_on: str = ""  # ISO date or JJ/MM/AAAA
    value: str = ""  # euros, « 450 », « 450,50 »


@dataclass(frozen=True, slots=True)
class _Identity:
    type: str
    owner: str
    model: str | None
    serial: str | None
    acquired_on: date | None
    value_cents: int | None

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "owner": self.owner, "model": self.model, "serial": self.serial,
                "acquired_on": self.acquired_on.isoformat() if self.acquired_on else None,
                "value_cents": self.value_cents}


def _date(raw: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", raw)
    try:
        return date(int(match[3]), int(match[2]), int(match[1])) if match else date.fromisoformat(raw)
    except ValueError:
        raise AssetRefused("Date d'acquisition invalide : écrivez-la JJ/MM/AAAA.", "acquired_on") from None


def _identity(changes: AssetChanges) -> _Identity:
    if changes.type not in {e.value for e in Equipment}:
        raise AssetRefused("Choisissez un type de matériel de la liste.", "type")
    if changes.owner not in {o.value for o in AssetOwner}:
        raise AssetRefused("Choisissez un propriétaire de la liste.", "owner")
    value = None
    if changes.value.strip():
        try:
            value = cents_from_euros(changes.value)
        except ValueError:
            raise AssetRefused("Valeur invalide : indiquez un montant en euros, par exemple 450,00.", "value") from None
        if not 0 <= value <= 10**9:
            raise AssetRefused("La valeur doit être un montant positif en euros.", "value")
    return _Identity(type=changes.type, owner=changes.owner, model=changes.model.strip()[:200] or None,
                     serial=changes.serial.strip()[:100] or None, acquired_on=_date(changes.acquired_on),
                     value_cents=value)


def _why(text: str, required: bool = False) -> str | None:
    text = " ".join(text.split())[:MAX_WHY]
    if required and not text:
        raise AssetRefused("Indiquez la raison de ce changement.", "why")
    return text or None


def _place(asset: Asset) -> dict[str, Any]:
    return {"school": asset.school.uai if asset.school else None,
            "school_name": asset.school.name if asset.school else None,
            "room": asset.room.name if asset.room else None}


async def _school_and_room(session: AsyncSession, actor: Actor, uai: str, room: str) -> tuple[School, Room | None]:
    normalised = normalise_uai(uai)
    school = await session.scalar(
        select(School).options(selectinload(School.commune)).where(
            School.uai == normalised, School.territory_id == actor.territory_id)) if normalised else None
    if school is None:
        raise AssetRefused("Aucune école du territoire ne porte ce code UAI.", "school")
    name = " ".join(room.split())[:120]
    if not name:
        return school, None
    found = await session.scalar(select(Room).where(Room.school_id == school.id, func.lower(Room.name) == name.lower()))
    if found is None:
        found = Room(school_id=school.id, name=name)
        session.add(found)
        await session.flush()
    return school, found


def _event(asset: Asset, kind: AssetEventKind, actor: Actor | None, at: datetime, *, body: str | None = None,
           data: dict[str, Any] | None = None) -> AssetEvent:
    return AssetEvent(asset_id=asset.id, kind=kind.value, at=at, actor_kind="agent" if actor else "system",
                      actor_id=actor.id if actor else None, actor_name=actor.name if actor else None,
                      channel="web" if actor else None, body=body, data=data)


async def create_asset(session: AsyncSession, actor: Actor, tag: str, changes: AssetChanges, *, school_uai: str,
                       room: str, why: str, now: datetime) -> Asset:
    """A new device of the inventory, with its « created » event."""
    tag = tag.strip().upper()
    if not _TAG.match(tag):
        raise AssetRefused("Étiquette invalide : trois lettres, un tiret et six chiffres, par exemple SEM-000123.", "tag")
    identity = _identity(changes)
    school, room_row = await _school_and_room(session, actor, school_uai, room)
    if not await _may_manage(session, actor, identity.owner, school):
        raise AssetRefused("Seul le propriétaire du matériel ou un administrateur peut l'inscrire à l'inventaire.", "owner")
    if await session.scalar(select(Asset.id).where(Asset.territory_id == actor.territory_id, Asset.tag == tag)):
        raise AssetRefused(f"Un matériel porte déjà l'étiquette {tag}.", "tag")
    asset = Asset(territory_id=actor.territory_id, tag=tag, school_id=school.id,
                  room_id=room_row.id if room_row else None, status=AssetStatus.IN_SERVICE.value,
                  type=identity.type, owner=identity.owner, model=identity.model, serial=identity.serial,
                  acquired_on=identity.acquired_on, value_cents=identity.value_cents)
    session.add(asset)
    await session.flush()
    place = {"school": school.uai, "school_name": school.name, "room": room_row.name if room_row else None}
    session.add(_event(asset, AssetEventKind.CREATED, actor, now, body=_why(why),
                       data={"after": {**identity.as_dict(), **place}}))
    await session.flush()
    return asset


async def _managed(session: AsyncSession, actor: Actor, tag: str) -> Asset:
    asset = await visible_asset(session, actor, tag, for_update=True)
    if not await _may_manage(session, actor, asset.owner, asset.school):
        raise AssetRefused("Seul le propriétaire du matériel ou un administrateur peut le modifier.")
    return asset


async def edit_asset(session: AsyncSession, actor: Actor, tag: str, changes: AssetChanges, *, why: str,
                     now: datetime) -> Asset:
    """Correct a device's identity; the event keeps only what changed, before and after."""
    asset = await _managed(session, actor, tag)
    identity = _identity(changes)
    if identity.owner != asset.owner and not await _may_manage(session, actor, identity.owner, asset.school):
        raise AssetRefused("Vous ne pouvez pas donner ce matériel à un autre propriétaire.", "owner")
    before = _Identity(type=asset.type, owner=asset.owner, model=asset.model, serial=asset.serial,
                       acquired_on=asset.acquired_on, value_cents=asset.value_cents).as_dict()
    after = identity.as_dict()
    changed = {k for k in after if after[k] != before[k]}
    if not changed:
        raise AssetRefused("Aucune modification à enregistrer.")
    asset.type, asset.owner, asset.model, asset.serial = identity.type, identity.owner, identity.model, identity.serial
    asset.acquired_on, asset.value_cents = identity.acquired_on, identity.value_cents
    session.add(_event(asset, AssetEventKind.EDITED, actor, now, body=_why(why), data={
        "before": {k: before[k] for k in sorted(changed)}, "after": {k: after[k] for k in sorted(changed)}}))
    await session.flush()
    return asset


async def move_asset(session: AsyncSession, actor: Actor, tag: str, *, school_uai: str, room: str, why: str,
                     now: datetime, ticket_reference: str | None = None) -> Asset:
    """Move a device to another school or room (convention art. 1: class closures and moves); the
    event names the ticket of the operation when there is one (`handlers.class_changes`)."""
    asset = await _managed(session, actor, tag)
    school, room_row = await _school_and_room(session, actor, school_uai, room)
    if not await _may_manage(session, actor, asset.owner, school):
        raise AssetRefused("Vous ne pouvez pas installer ce matériel dans cette école.", "school")
    before = _place(asset)
    if asset.school_id == school.id and asset.room_id == (room_row.id if room_row else None):
        raise AssetRefused("Le matériel est déjà à cet endroit.", "school")
    asset.school_id, asset.room_id = school.id, room_row.id if room_row else None
    after = {"school": school.uai, "school_name": school.name, "room": room_row.name if room_row else None}
    data: dict[str, Any] = {"before": before, "after": after}
    if ticket_reference:
        data["ticket"] = ticket_reference
    session.add(_event(asset, AssetEventKind.MOVED, actor, now, body=_why(why, required=True), data=data))
    await session.flush()
    await session.refresh(asset, ["school", "room"])
    return asset


async def set_status(session: AsyncSession, actor: Actor, tag: str, status: AssetStatus, *, why: str,
                     now: datetime, ticket_reference: str | None = None) -> Asset:
    """Record a device's status with the reason; retiring needs the owner's rights, the rest the scope.

    Stolen and retired have their own event kinds; the others are a « status » event.
    """
    if status is AssetStatus.IN_REPAIR:
        raise AssetRefused("« En réparation » se lit des demandes ouvertes sur le matériel.", "status")
    asset = await (_managed(session, actor, tag) if status is AssetStatus.RETIRED
                   else visible_asset(session, actor, tag, for_update=True))
    if asset.status == status.value:
        raise AssetRefused("Le matériel a déjà ce statut.", "status")
    if asset.status == AssetStatus.RETIRED.value and not await _may_manage(session, actor, asset.owner, asset.school):
        raise AssetRefused("Seul le propriétaire du matériel peut remettre en service un matériel réformé.", "status")
    kind = {AssetStatus.RETIRED: AssetEventKind.RETIRED, AssetStatus.STOLEN: AssetEventKind.STOLEN}.get(
        status, AssetEventKind.STATUS)
    data: dict[str, Any] = {"before": {"status": asset.status}, "after": {"status": status.value}}
    if ticket_reference:
        data["ticket"] = ticket_reference
    asset.status = status.value
    session.add(_event(asset, kind, actor, now, body=_why(why, required=True), data=data))
    await session.flush()
    return asset


async def retire_asset(session: AsyncSession, actor: Actor, tag: str, *, why: str, now: datetime) -> Asset:
    return await set_status(session, actor, tag, AssetStatus.RETIRED, why=why, now=now)


async def mark_stolen(session: AsyncSession, actor: Actor, tag: str, *, why: str, now: datetime,
                      ticket_reference: str | None = None) -> Asset:
    return await set_status(session, actor, tag, AssetStatus.STOLEN, why=why, now=now,
                            ticket_reference=ticket_reference)


async def add_note(session: AsyncSession, actor: Actor, tag: str, text: str, *, now: datetime) -> Asset:
    """An agent's note in the logbook (an intervention, a loan, an observation)."""
    asset = await visible_asset(session, actor, tag)
    body = text.strip()[:MAX_NOTE]
    if not body:
        raise AssetRefused("La note est vide.", "body")
    session.add(_event(asset, AssetEventKind.NOTE, actor, now, body=body))
    await session.flush()
    return asset


# --- the teacher's notes, on every door ----------------------------------------------------------


#: « note SEM-000123 : câble HDMI rebranché », « Note pour SEM-000123 - ... », « carnet SEM-000123 : ... ».
_NOTE = re.compile(
    rf"^\s*(?:note|carnet(?:\s+de\s+bord)?)\s*(?:pour|sur|du|de)?\s*(?:le\s+|la\s+|l')?(?:mat[ée]riel\s+)?"
    rf"({ASSET_TAG_PATTERN})\s*[:\-–—,]?\s*(.*)$",
    re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class TeacherNote:
    tag: str
    text: str


def parse_device_note(text: str | None) -> TeacherNote | None:
    """A teacher's note for a device's logbook, or None when the message is something else."""
    match = _NOTE.match(text or "")
    if match is None:
        return None
    return TeacherNote(tag=match[1].upper(), text=match[2].strip())


class NoteOutcome(Enum):
    ADDED = "added"
    EMPTY = "empty"
    UNKNOWN = "unknown"  # no such tag in the territory, or a device of another school


@dataclass(frozen=True, slots=True)
class NoteResult:
    outcome: NoteOutcome
    tag: str
    equipment: str | None = None
    #: What the teacher reads, in French.
    message: str = field(default="")


async def teacher_note(session: AsyncSession, *, territory_id: int, requester: Requester, note: TeacherNote,
                       channel: str, now: datetime) -> NoteResult:
    """Add a teacher's note to a device of her school's logbook, without opening a ticket."""
    if not note.text:
        return NoteResult(NoteOutcome.EMPTY, note.tag, message=(
            f"Que voulez-vous noter sur le matériel {note.tag} ? Écrivez par exemple « note {note.tag} : "
            "câble HDMI rebranché, ça remarche »."))
    asset = await session.scalar(select(Asset).where(Asset.territory_id == territory_id, Asset.tag == note.tag))
    if asset is None or (requester.school_id is not None and asset.school_id != requester.school_id):
        return NoteResult(NoteOutcome.UNKNOWN, note.tag, message=(
            f"Je ne trouve pas le matériel {note.tag} dans l'inventaire de votre école : vérifiez l'étiquette "
            "collée sur l'appareil."))
    session.add(AssetEvent(asset_id=asset.id, kind=AssetEventKind.NOTE.value, at=now, actor_kind="requester",
                           actor_id=requester.id, actor_name=requester.name, channel=channel,
                           body=note.text[:MAX_NOTE]))
    await session.flush()
    device = EQUIPMENT_FR.get(asset.type, asset.type)
    return NoteResult(NoteOutcome.ADDED, asset.tag, asset.type, message=(
        f"Merci, c'est noté dans le carnet de bord du matériel {asset.tag} ({device.lower()}). "
        "Aucune demande n'est ouverte ; s'il tombe en panne, décrivez-moi le problème."))


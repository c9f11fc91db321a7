"""Class closures and openings (convention 2023-2027, art. 1), as one operation each.

Art. 1 sets the plan's aims: « Récupérer le matériel numérique appartenant à Saint-Étienne
Métropole lors des fermetures de classes » and « Réattribuer le matériel non utilisé », and asks the
communes and the plan to talk « lors des ouvertures de classes » and « lors des fermetures de
classes ». So an agent of the operator (SEM) or of the school's commune (or OGEC) records a closure
or an opening; the desk opens the task and keeps the devices' story:

- **Closure** of a room: the operator's devices in it are listed from the inventory; for each the
  agent chooses « à récupérer » (the operator takes it back) or « à réaffecter » (to another room or
  school, named). One ticket per operation, not per device: the operator's technician does one
  visit for the whole room, and the commune is told once; the ticket lists every device and its
  fate. It is routed by the territory's rules for `class_change` (SEM preset: the operator, with its
  clocks), like any report. Every device gets a `class_closure` event in its logbook (who, why, the
  plan, the ticket). The inventory's place does not change at closure: the device is still in the
  room until the operator collects or moves it (then a move on its page, or the destination's
  opening, records where it went) — and a commune's agent may not move the operator's equipment.
- **Opening** of a room: what the new class needs (free text: « 2 tablettes, 1 VPI ») and the
  operator's devices it receives. Devices moved into it get a `moved` event naming the opening's
  ticket; moving needs the owner's rights (the operator's agents, an administrator), as on the
  device's page. The ticket carries the needs and the devices received.

Who: the territory's readers and the operator's agents see every school; a commune or an OGEC sees
its own schools; anyone else gets RecordNotFound (a 404, as for tickets). Recording is for the
administrator, the operator's agents and the school's commune or OGEC (not the coordinator, who
only reads).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from desk import repositories as repo
from desk.errors import DeskError, RecordNotFound
from desk.lifecycle import OPEN_STATUSES
from desk.models import Asset, AssetEvent, Commune, Organisation, Room, School, Territory, Ticket
from domain.labels import EQUIPMENT_FR
from domain.uai import normalise_uai
from domain.vocabulary import AgentRole, AssetEventKind, AssetOwner, AssetStatus, Channel, Intent
from handlers import assets
from handlers.agent_scope import Actor, reads_every_school, ticket_scope
from handlers.context import DeskContext, context_for
from handlers.report import NotATicket, ReportDraft, open_report

__all__ = [
    "ARTICLE", "COLLECT", "REALLOCATE", "ClassChangeRefused", "ClosurePlan", "DeviceChoice", "OpeningPlan",
    "Operation", "RoomDevice", "SchoolClasses", "closure_plan", "opening_plan", "parse_tags", "record_closure",
    "record_opening", "school_classes",
]

ARTICLE = "convention 2023-2027, art. 1"
COLLECT = "collect"
REALLOCATE = "reallocate"
ACTIONS_FR = {COLLECT: "à récupérer", REALLOCATE: "à réaffecter"}
MAX_TEXT = 2000
MAX_TAGS = 200
#: Devices that are no longer in a room: nothing to collect or move.
_GONE = (AssetStatus.RETIRED.value, AssetStatus.STOLEN.value)
_TAGS = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{2,63}")


class ClassChangeRefused(DeskError):
    """The operation cannot be recorded as typed: French messages by field, for the form."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(next(iter(self.errors.values()), "Le formulaire contient des erreurs."))

    @property
    def message(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class RoomDevice:
    tag: str
    type: str
    model: str | None
    owner: str
    room: str | None
    status: str

    @property
    def label(self) -> str:
        """« Vidéoprojecteur Epson EB-W51 »."""
        return EQUIPMENT_FR.get(self.type, self.type) + (f" {self.model}" if self.model else "")


@dataclass(frozen=True, slots=True)
class SchoolClasses:
    """A school's rooms with how many of the operator's devices each holds."""

    uai: str
    name: str
    commune: str
    operator_name: str
    rooms: tuple[tuple[str, int], ...]
    can_record: bool


@dataclass(frozen=True, slots=True)
class ClosurePlan:
    uai: str
    school: str
    commune: str
    room: str
    operator_name: str
    #: The operator's devices in the room: each needs a choice.
    devices: tuple[RoomDevice, ...]
    #: The room's other devices (the commune's, the OGEC's): not the operator's to collect.
    others: tuple[RoomDevice, ...]
    can_record: bool


@dataclass(frozen=True, slots=True)
class OpeningPlan:
    uai: str
    school: str
    commune: str
    operator_name: str
    rooms: tuple[str, ...]
    #: The operator's devices of the school (in service), which the new class may receive.
    candidates: tuple[RoomDevice, ...]
    can_record: bool
    #: Whether the actor may move the operator's devices (its agents, an administrator).
    can_move: bool


@dataclass(frozen=True, slots=True)
class DeviceChoice:
    """What the agent chose for one device of a closed room; the destination for a re-allocation."""

    tag: str
    action: str
    school_uai: str = ""
    room: str = ""


@dataclass(frozen=True, slots=True)
class Operation:
    """The ticket an operation opened and what the agent is told."""

    reference: str
    organisation_name: str
    #: Whether the agent may open the ticket (routed to another organisation, they may not).
    in_scope: bool
    tags: tuple[str, ...]
    message: str


# --- scope -------------------------------------------------------------------------------------


async def _school(session: AsyncSession, actor: Actor, uai: str) -> School:
    """The school with this UAI if `actor` sees its classes: RecordNotFound otherwise."""
    code = normalise_uai(uai or "")
    school = await session.scalar(
        select(School).options(selectinload(School.commune).selectinload(Commune.organisation),
                               selectinload(School.ogec))
        .where(School.uai == code, School.territory_id == actor.territory_id)) if code else None
    if school is None:
        raise RecordNotFound(f"school {uai}")
    if await reads_every_school(session, actor) or actor.organisation_id in (
            school.commune.organisation_id, school.ogec_id):
        return school
    raise RecordNotFound(f"school {uai}")


def _may_record(actor: Actor) -> bool:
    """Everyone who sees the school's classes may record, but the coordinator (who reads)."""
    return actor.role is not AgentRole.COORDINATOR


async def _context(session: AsyncSession, actor: Actor) -> DeskContext:
    slug = await session.scalar(select(Territory.slug).where(Territory.id == actor.territory_id))
    assert slug is not None
    return context_for(slug)


def _operator_owner(ctx: DeskContext) -> str:
    """The inventory's owner value of the territory's operator (SEM preset: `sem`)."""
    kind = ctx.territory.operator.kind
    return kind if kind in {o.value for o in AssetOwner} else AssetOwner.SEM.value


async def _operator_name(session: AsyncSession, ctx: DeskContext, territory_id: int) -> str:
    ref = ctx.territory.operator
    name = await session.scalar(select(Organisation.name).where(
        Organisation.territory_id == territory_id, Organisation.slug == ref.slug))
    return name or ref.name


def _room_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _clean(text: str, limit: int = MAX_TEXT) -> str:
    return " ".join((text or "").split())[:limit]


def _device(asset: Asset) -> RoomDevice:
    return RoomDevice(tag=asset.tag, type=asset.type, model=asset.model, owner=asset.owner,
                      room=asset.room.name if asset.room else None, status=asset.status)


async def _school_devices(session: AsyncSession, school: School) -> list[Asset]:
    return list((await session.scalars(
        select(Asset).options(selectinload(Asset.room))
        .where(Asset.school_id == school.id, Asset.status.not_in(_GONE)).order_by(Asset.tag))).all())


# --- what the pages show -------------------------------------------------------------------------


async def school_classes(session: AsyncSession, actor: Actor, uai: str) -> SchoolClasses:
    """The school's rooms (those of the inventory) and the operator's devices in each."""
    school = await _school(session, actor, uai)
    ctx = await _context(session, actor)
    owner = _operator_owner(ctx)
    counts = dict((await session.execute(
        select(Room.name, func.count(Asset.id)).join(Asset, and_(Asset.room_id == Room.id, Asset.owner == owner,
                                                          Asset.status.not_in(_GONE)), isouter=True)
        .where(Room.school_id == school.id).group_by(Room.name))).all())
    rooms = tuple(sorted(((name, int(n)) for name, n in counts.items()), key=lambda r: _room_key(r[0])))
    return SchoolClasses(uai=school.uai, name=school.name, commune=school.commune.name,
                         operator_name=await _operator_name(session, ctx, school.territory_id), rooms=rooms,
                         can_record=_may_record(actor))


async def closure_plan(session: AsyncSession, actor: Actor, uai: str, room: str) -> ClosurePlan:
    """The room's devices, the operator's first (each needs a choice); RecordNotFound for an unknown room."""
    school = await _school(session, actor, uai)
    wanted = _room_key(room or "")
    found = [r for r in (await session.scalars(select(Room).where(Room.school_id == school.id))).all()
             if _room_key(r.name) == wanted] if wanted else []
    if not found:
        raise RecordNotFound(f"room {room}")
    ctx = await _context(session, actor)
    owner = _operator_owner(ctx)
    in_room = [a for a in await _school_devices(session, school) if a.room_id == found[0].id]
    return ClosurePlan(
        uai=school.uai, school=school.name, commune=school.commune.name, room=found[0].name,
        operator_name=await _operator_name(session, ctx, school.territory_id),
        devices=tuple(_device(a) for a in in_room if a.owner == owner),
        others=tuple(_device(a) for a in in_room if a.owner != owner), can_record=_may_record(actor))


async def opening_plan(session: AsyncSession, actor: Actor, uai: str) -> OpeningPlan:
    """The school's rooms and the operator's devices it holds, which a new class may receive."""
    school = await _school(session, actor, uai)
    ctx = await _context(session, actor)
    owner = _operator_owner(ctx)
    rooms = sorted((r.name for r in (await session.scalars(select(Room).where(Room.school_id == school.id))).all()),
                   key=_room_key)
    candidates = tuple(_device(a) for a in await _school_devices(session, school)
                       if a.owner == owner and a.status == AssetStatus.IN_SERVICE.value)
    can_move = actor.is_admin or (await session.scalar(
        select(Organisation.kind).where(Organisation.id == actor.organisation_id))) == ctx.territory.operator.kind
    return OpeningPlan(uai=school.uai, school=school.name, commune=school.commune.name,
                       operator_name=await _operator_name(session, ctx, school.territory_id), rooms=tuple(rooms),
                       candidates=candidates, can_record=_may_record(actor), can_move=bool(can_move))


# --- recording ----------------------------------------------------------------------------------


async def _open_ticket(session: AsyncSession, ctx: DeskContext, school: School, room: str, subject: str,
                       text: str) -> Ticket:
    draft = ReportDraft(text=text, intent=Intent.CLASS_CHANGE, channel=Channel.WEB, school_id=school.id,
                        room=room, subject=subject)
    try:
        outcome = await open_report(session, ctx, draft)
    except NotATicket:
        raise ClassChangeRefused({"why": "Les règles du territoire n'ouvrent pas de demande pour un changement "
                                         "de classe : contactez l'administrateur."}) from None
    ticket = await session.get(Ticket, outcome.tickets[0].ticket_id)
    assert ticket is not None
    return ticket


async def _outcome(session: AsyncSession, actor: Actor, ticket: Ticket, tags: list[str], what: str) -> Operation:
    organisation = await session.get(Organisation, ticket.organisation_id)
    assert organisation is not None
    in_scope = bool(await session.scalar(select(exists().where(Ticket.id == ticket.id, ticket_scope(actor)))))
    return Operation(reference=ticket.reference, organisation_name=organisation.name, in_scope=in_scope,
                     tags=tuple(tags), message=f"{what} : demande {ticket.reference} transmise à {organisation.name}.")


def _event(asset_id: int, kind: AssetEventKind, actor: Actor, now: datetime, body: str,
           data: dict[str, object]) -> AssetEvent:
    return AssetEvent(asset_id=asset_id, kind=kind.value, at=now, actor_kind="agent", actor_id=actor.id,
                      actor_name=actor.name, channel="web", body=body, data=data)


async def record_closure(session: AsyncSession, actor: Actor, uai: str, room: str, choices: list[DeviceChoice],
                         why: str, now: datetime) -> Operation:
    """Record a room's closure: one ticket for the operator's work, a logbook event on every device."""
    plan = await closure_plan(session, actor, uai, room)
    if not plan.can_record:
        raise ClassChangeRefused({"why": "La chargée de mission consulte les écoles : la fermeture est enregistrée "
                                         "par la commune, l'OGEC ou la Métropole."})
    school = await _school(session, actor, uai)
    reason = _clean(why)
    errors: dict[str, str] = {}
    if not reason:
        errors["why"] = "Indiquez la raison de la fermeture (par exemple la décision de la DSDEN pour la rentrée)."
    if not plan.devices:
        errors["devices"] = (f"Aucun matériel de {plan.operator_name} n'est inscrit dans la salle {plan.room} : "
                             "il n'y a rien à récupérer ni à réaffecter.")
    pending = await session.scalar(select(Ticket.reference).where(
        Ticket.school_id == school.id, Ticket.intent == Intent.CLASS_CHANGE.value, Ticket.room == plan.room,
        Ticket.subject.like("Fermeture de la classe %"), Ticket.status.in_([st.value for st in OPEN_STATUSES]))
        .order_by(Ticket.id).limit(1))
    if pending:
        errors["devices"] = (f"La fermeture de la classe {plan.room} est déjà enregistrée (demande {pending}, "
                             "en cours) : complétez cette demande plutôt que d'en ouvrir une autre.")
    chosen = {c.tag.strip().upper(): c for c in choices}
    destinations: dict[str, tuple[School, str]] = {}
    for device in plan.devices:
        choice = chosen.get(device.tag)
        if choice is None or choice.action not in ACTIONS_FR:
            errors[f"action-{device.tag}"] = f"Choisissez « à récupérer » ou « à réaffecter » pour {device.tag}."
            continue
        if choice.action == REALLOCATE:
            code = normalise_uai(choice.school_uai or plan.uai)
            target = await session.scalar(select(School).options(selectinload(School.commune)).where(
                School.uai == code, School.territory_id == actor.territory_id)) if code else None
            target_room = _clean(choice.room, 120)
            if target is None:
                errors[f"school-{device.tag}"] = f"{device.tag} : aucune école du territoire ne porte ce code UAI."
            elif target.id == school.id and _room_key(target_room) in ("", _room_key(plan.room)):
                errors[f"room-{device.tag}"] = (f"{device.tag} : indiquez la salle qui le reçoit, autre que la classe "
                                                "fermée.")
            else:
                destinations[device.tag] = (target, target_room)
    if errors:
        raise ClassChangeRefused(errors)
    ctx = await _context(session, actor)
    lines = []
    for device in plan.devices:
        if device.tag in destinations:
            target, target_room = destinations[device.tag]
            where = f"{target.name} ({target.uai})" + (f", salle {target_room}" if target_room else "")
            lines.append(f"- {device.tag} — {device.label} : à réaffecter à {where}")
        else:
            lines.append(f"- {device.tag} — {device.label} : à récupérer")
    others = (f"\nAutres matériels de la salle, qui ne sont pas à {plan.operator_name} et ne sont pas concernés : "
              + ", ".join(f"{d.tag} ({d.label})" for d in plan.others) + ".") if plan.others else ""
    text = (f"Fermeture de la classe {plan.room} — {school.name} ({school.uai}, {school.commune.name}), "
            f"enregistrée par {actor.name} ({actor.organisation_name}).\nRaison : {reason}\n"
            f"Matériel de {plan.operator_name} dans la salle, à récupérer ou à réaffecter ({ARTICLE}) :\n"
            + "\n".join(lines) + others)
    ticket = await _open_ticket(session, ctx, school, plan.room, f"Fermeture de la classe {plan.room} ({school.name})",
                                text)
    ids = dict((await session.execute(select(Asset.tag, Asset.id).where(
        Asset.territory_id == actor.territory_id, Asset.tag.in_([d.tag for d in plan.devices])))).all())
    summary = []
    for device in plan.devices:
        if device.tag in destinations:
            target, target_room = destinations[device.tag]
            destination: dict[str, object] | None = {"school": target.uai, "school_name": target.name,
                                                     "room": target_room or None}
            fate = f"à réaffecter à {target.name}" + (f", salle {target_room}" if target_room else "")
            action = REALLOCATE
        else:
            destination, fate, action = None, f"à récupérer par {plan.operator_name}", COLLECT
        session.add(_event(ids[device.tag], AssetEventKind.CLASS_CLOSURE, actor, now,
                           body=f"Fermeture de la classe {plan.room} : {fate}. {reason}",
                           data={"ticket": ticket.reference, "operation": "closure", "room": plan.room,
                                 "action": action, "destination": destination}))
        summary.append({"tag": device.tag, "action": action, "destination": destination})
    collected = sum(1 for s in summary if s["action"] == COLLECT)
    await repo.add_event(
        session, ticket, "class_change", actor_kind="agent", actor_id=actor.id, internal=True, at=now,
        body=(f"Fermeture de la classe {plan.room} enregistrée par {actor.name} ({actor.organisation_name}) : "
              f"{collected} matériel(s) à récupérer, {len(summary) - collected} à réaffecter."),
        data={"operation": "closure", "room": plan.room, "devices": summary})
    await session.flush()
    return await _outcome(session, actor, ticket, [d.tag for d in plan.devices],
                          f"Fermeture de la classe {plan.room} enregistrée")


def parse_tags(text: str) -> list[str]:
    """The tags typed in a free field (spaces, commas, new lines), upper-cased, once each."""
    return list(dict.fromkeys(t.upper() for t in _TAGS.findall(text or "")))[:MAX_TAGS]


async def record_opening(session: AsyncSession, actor: Actor, uai: str, room: str, needs: str, tags: list[str],
                         why: str, now: datetime) -> Operation:
    """Record a room's opening: one ticket (the needs, the devices received); each device received
    is moved into the room with a `moved` event naming the ticket."""
    plan = await opening_plan(session, actor, uai)
    if not plan.can_record:
        raise ClassChangeRefused({"why": "La chargée de mission consulte les écoles : l'ouverture est enregistrée "
                                         "par la commune, l'OGEC ou la Métropole."})
    school = await _school(session, actor, uai)
    name, what, reason = _clean(room, 120), (needs or "").strip()[:MAX_TEXT], _clean(why)
    wanted = list(dict.fromkeys(t.strip().upper() for t in tags if t.strip()))[:MAX_TAGS]
    errors: dict[str, str] = {}
    if not name:
        errors["room"] = "Indiquez le nom de la nouvelle classe (par exemple « CP 2 »)."
    if not reason:
        errors["why"] = "Indiquez la raison de l'ouverture (par exemple la décision de la DSDEN pour la rentrée)."
    if not what and not wanted:
        errors["needs"] = "Indiquez ce dont la nouvelle classe a besoin, ou le matériel qu'elle reçoit."
    if wanted and not plan.can_move:
        errors["tags"] = (f"Le matériel de {plan.operator_name} est déplacé par ses agents : décrivez les besoins, "
                          "la demande leur est transmise.")
    found = {a.tag: a for a in (await session.scalars(select(Asset).options(selectinload(Asset.room)).where(
        Asset.territory_id == actor.territory_id, Asset.tag.in_(wanted)))).all()} if wanted else {}
    unknown = [t for t in wanted if t not in found]
    if unknown:
        errors["tags"] = "Aucun matériel de l'inventaire ne porte l'étiquette " + ", ".join(unknown) + "."
    here = [t for t in wanted if t in found and found[t].school_id == school.id and found[t].room is not None
            and _room_key(found[t].room.name) == _room_key(name)]
    if here and "tags" not in errors:
        errors["tags"] = "Déjà dans cette classe : " + ", ".join(here) + "."
    if errors:
        raise ClassChangeRefused(errors)
    ctx = await _context(session, actor)
    received = [f"- {t} — {EQUIPMENT_FR.get(found[t].type, found[t].type)}"
                + (f", depuis {found[t].room.name}" if found[t].room else "") for t in wanted]
    text = (f"Ouverture de la classe {name} — {school.name} ({school.uai}, {school.commune.name}), "
            f"enregistrée par {actor.name} ({actor.organisation_name}).\nRaison : {reason}\n"
            + (f"Besoins de la nouvelle classe ({ARTICLE}) :\n{what}\n" if what else "")
            + ("Matériel réaffecté à la nouvelle classe :\n" + "\n".join(received) if received else ""))
    ticket = await _open_ticket(session, ctx, school, name, f"Ouverture de la classe {name} ({school.name})",
                                text.strip())
    for tag in wanted:
        try:
            await assets.move_asset(session, actor, tag, school_uai=school.uai, room=name,
                                    why=f"Ouverture de la classe {name} (demande {ticket.reference}). {reason}",
                                    now=now, ticket_reference=ticket.reference)
        except RecordNotFound:
            raise ClassChangeRefused({"tags": f"Le matériel {tag} n'est pas dans votre périmètre."}) from None
        except assets.AssetRefused as refused:
            raise ClassChangeRefused({"tags": f"{tag} : {refused.message}"}) from None
    await repo.add_event(
        session, ticket, "class_change", actor_kind="agent", actor_id=actor.id, internal=True, at=now,
        body=(f"Ouverture de la classe {name} enregistrée par {actor.name} ({actor.organisation_name})"
              + (f" : {len(wanted)} matériel(s) réaffecté(s) à la classe." if wanted else ".")),
        data={"operation": "opening", "room": name, "needs": what or None, "devices": wanted})
    await session.flush()
    return await _outcome(session, actor, ticket, wanted, f"Ouverture de la classe {name} enregistrée")

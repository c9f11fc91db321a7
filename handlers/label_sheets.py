"""The devices of a school (or of one of its rooms) as their labels name them, for every door that prints them.

Plain arguments in, frozen dataclasses out; each function runs in the caller's session. Who may
print a school's labels is `handlers.agent_scope.covers_school`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from desk import repositories as repo
from desk.errors import RecordNotFound
from desk.models import Asset, Organisation, School
from domain.uai import normalise_uai
from domain.vocabulary import AssetOwner, OrgKind
from handlers.agent_scope import Actor, covers_school

__all__ = ["LabelAsset", "SchoolLabels", "agent_school_labels", "school_labels"]

_OWNERS = frozenset(owner.value for owner in AssetOwner)
#: Owners that are one organisation of the territory, whichever the school.
_TERRITORY_OWNERS = {AssetOwner.SEM: OrgKind.SEM, AssetOwner.AGGLOMERATION: OrgKind.AGGLOMERATION}


@dataclass(frozen=True, slots=True)
class LabelAsset:
    """One device as its label shows it."""

    tag: str
    equipment: str
    room: str | None
    #: Who owns it (domain.vocabulary.AssetOwner) and that organisation's name when the desk knows it.
    owner: str
    owner_name: str | None


@dataclass(frozen=True, slots=True)
class SchoolLabels:
    """A school's devices to label, by room then tag; `room` and `tag` are the filters asked for, if any."""

    uai: str
    school: str
    commune: str
    room: str | None
    assets: tuple[LabelAsset, ...]
    tag: str | None = None


def _room_key(name: str) -> str:
    return " ".join(name.split()).casefold()


async def school_labels(
    session: AsyncSession, territory_id: int, uai: str, room: str | None = None, tag: str | None = None
) -> SchoolLabels:
    """The labels of the territory's school with this UAI (only one room's when `room` is given, only
    one device's when `tag` is: a label to print again).

    RecordNotFound when the territory has no such school.
    """
    normalised = normalise_uai(uai)
    school = await repo.school_by_uai(session, normalised) if normalised else None
    if school is None or school.territory_id != territory_id:
        raise RecordNotFound(f"school {uai}")
    return await _labels_of(session, school, room, tag)


async def agent_school_labels(
    session: AsyncSession, actor: Actor, uai: str, room: str | None = None, tag: str | None = None
) -> SchoolLabels:
    """The same for a signed-in agent: RecordNotFound too when the school is outside their scope."""
    normalised = normalise_uai(uai)
    school = await repo.school_by_uai(session, normalised) if normalised else None
    if school is None or not await covers_school(session, actor, school):
        raise RecordNotFound(f"school {uai}")
    return await _labels_of(session, school, room, tag)


async def _labels_of(session: AsyncSession, school: School, room: str | None, tag: str | None = None,
                     ) -> SchoolLabels:
    territory_orgs = dict((await session.execute(
        select(Organisation.kind, Organisation.name).where(
            Organisation.territory_id == school.territory_id,
            Organisation.kind.in_([kind.value for kind in _TERRITORY_OWNERS.values()]))
        .order_by(Organisation.id.desc())  # the first created wins when a kind has several
    )).all())
    school_orgs = {
        AssetOwner.COMMUNE: school.commune.organisation.name if school.commune.organisation else None,
        AssetOwner.OGEC: school.ogec.name if school.ogec else None,
    }
    wanted_tag = tag.strip().upper()[:64] if tag and tag.strip() else None
    assets = (await session.scalars(
        select(Asset).options(selectinload(Asset.room)).where(
            Asset.school_id == school.id, *([Asset.tag == wanted_tag] if wanted_tag else []))
    )).all()
    wanted = _room_key(room) if room and room.strip() else None
    labels = []
    for asset in assets:
        room_name = asset.room.name if asset.room else None
        if wanted is not None and (room_name is None or _room_key(room_name) != wanted):
            continue
        owner = AssetOwner(asset.owner) if asset.owner in _OWNERS else AssetOwner.OTHER
        name = (territory_orgs.get(_TERRITORY_OWNERS[owner].value) if owner in _TERRITORY_OWNERS
                else school_orgs.get(owner))
        labels.append(LabelAsset(tag=asset.tag, equipment=asset.type, room=room_name, owner=owner.value,
                                 owner_name=name))
    labels.sort(key=lambda label: (_room_key(label.room or ""), label.tag))
    return SchoolLabels(uai=school.uai, school=school.name, commune=school.commune.name,
                        room=_room_name(room, labels) if wanted else None, assets=tuple(labels), tag=wanted_tag)


def _room_name(asked: str, labels: list[LabelAsset]) -> str:
    """The room's name as the inventory spells it, or as it was asked when no device is there."""
    return next((label.room for label in labels if label.room), " ".join(asked.split()))

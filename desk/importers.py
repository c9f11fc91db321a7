"""`guichet import schools|assets`: idempotent upserts with a report of rejected rows."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.french import commune_organisation_name, euros
from domain.labels import EQUIPMENT_FR
from domain.vocabulary import AssetEventKind, AssetOwner, Equipment

from desk.clock import utcnow
from desk.csvfiles import CsvRow, UnreadableHeader, decode, read_rows
from desk.models import Asset, AssetEvent, Commune, Organisation, Room, School, Territory
from desk.repositories import ensure_organisation
from domain.uai import is_valid_uai, normalise_uai

# Column names of the national directory (« Annuaire de l'éducation »), normalised, and ours.
SCHOOL_COLUMNS = {
    "uai": ("identifiant_de_l_etablissement", "uai", "code_uai"),
    "name": ("nom_etablissement", "nom", "name"),
    "kind": ("type_etablissement", "type"),
    "status": ("statut_public_prive", "statut", "status"),
    "insee": ("code_commune", "code_insee", "commune_code"),
    "commune": ("nom_commune", "commune"),
    "address": ("adresse_1", "adresse", "address"),
    "postal_code": ("code_postal", "postal_code"),
    "email": ("mail", "email", "courriel"),
    "phone": ("telephone", "phone"),
    "ogec": ("ogec", "organisme_de_gestion", "nom_ogec"),
}
REQUIRED_SCHOOL = ("uai", "name", "status", "insee", "commune")

ASSET_COLUMNS = {
    "tag": ("tag", "etiquette", "numero_etiquette", "asset_tag"),
    "type": ("type", "equipment", "type_materiel"),
    "model": ("model", "modele"),
    "uai": ("uai", "school", "ecole", "identifiant_de_l_etablissement"),
    "room": ("room", "salle", "classe"),
    "owner": ("owner", "proprietaire"),
    "acquired_on": ("acquired_on", "date_acquisition", "date_d_acquisition"),
    "value": ("value", "valeur", "valeur_eur", "prix"),
    "serial": ("serial", "numero_de_serie", "n_serie"),
}
REQUIRED_ASSET = ("tag", "type", "uai", "owner")

PRIMARY_KINDS = ("ecole", "école")
OWNER_ALIASES = {
    "sem": "sem", "metropole": "sem", "métropole": "sem", "operator": "sem",
    "commune": "commune", "mairie": "commune", "ville": "commune",
    "ogec": "ogec", "other": "other", "autre": "other",
}
TAG_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,63}$")


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str


#: The identity fields an asset row may change, as the logbook's events name them (handlers.assets).
IDENTITY_FIELDS = ("type", "owner", "model", "serial", "acquired_on", "value_cents")
#: Optional columns: absent from the file, the inventory's value is kept.
_OPTIONAL = {"model": "model", "serial": "serial", "acquired_on": "acquired_on", "value_cents": "value"}
_FIELD_FR = {"type": "type", "owner": "propriétaire", "model": "modèle", "serial": "numéro de série",
             "acquired_on": "date d'acquisition", "value_cents": "valeur"}


@dataclass(frozen=True)
class AssetChange:
    """What one row does to one device: `created`, `edited` (the fields that change, before and
    after) or `moved` (school and room before and after), as its logbook event records it."""

    line: int
    tag: str
    kind: str  # an AssetEventKind value: created, edited, moved
    before: dict[str, Any]
    after: dict[str, Any]

    def describe(self) -> str:
        """« ligne 3, SEM-000002 : déplacé — 0421001K CM2 → 0421002L BCD », in French."""
        head = f"  ligne {self.line}, {self.tag} : "
        if self.kind == AssetEventKind.CREATED:
            what = EQUIPMENT_FR.get(self.after.get("type") or "", self.after.get("type") or "")
            return head + f"créé ({what}, {_place_fr(self.after)})"
        if self.kind == AssetEventKind.MOVED:
            return head + f"déplacé — {_place_fr(self.before)} → {_place_fr(self.after)}"
        parts = [f"{_FIELD_FR.get(k, k)} : {_shown(k, self.before.get(k))} → {_shown(k, v)}"
                 for k, v in self.after.items()]
        return head + "modifié — " + " ; ".join(parts)


def _place_fr(place: dict[str, Any]) -> str:
    where = f"école {place.get('school') or '—'}"
    return where + (f", salle {place['room']}" if place.get("room") else ", sans salle")


def _shown(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if key == "value_cents":
        return euros(int(value))
    if key == "acquired_on":
        year, month, day = str(value).split("-")
        return f"{day}/{month}/{year}"
    if key == "type":
        return EQUIPMENT_FR.get(str(value), str(value))
    return str(value)


@dataclass
class ImportReport:
    encoding: str = "utf-8"
    created: int = 0
    #: Rows that changed an existing record (for assets: edited, moved, or both).
    updated: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    #: Assets only: rows that changed the identity, rows that moved the device, rows that changed nothing.
    edited: int = 0
    moved: int = 0
    unchanged: int = 0
    changes: list[AssetChange] = field(default_factory=list)
    assets: bool = False

    @property
    def accepted(self) -> int:
        return self.created + self.updated + self.unchanged

    def reject(self, line: int, reason: str) -> None:
        self.rejected.append(Rejection(line, reason))

    def summary(self, details: bool = False) -> str:
        """The counts, the ignored columns and the rejected rows; with `details`, every change (a preview)."""
        if self.assets:
            first = (f"{self.accepted} ligne(s) importée(s) : {self.created} créée(s), {self.edited} modifiée(s), "
                     f"{self.moved} déplacée(s), {self.unchanged} inchangée(s) ; {len(self.rejected)} rejetée(s) "
                     f"(encodage {self.encoding}).")
        else:
            first = (f"{self.accepted} ligne(s) importée(s) : {self.created} créée(s), "
                     f"{self.updated} mise(s) à jour ; {len(self.rejected)} rejetée(s) "
                     f"(encodage {self.encoding}).")
        lines = [first]
        if self.unknown_columns:
            lines.append("Colonnes ignorées : " + ", ".join(self.unknown_columns))
        if details and self.changes:
            lines.append("Changements :")
            lines.extend(change.describe() for change in self.changes)
        lines.extend(f"  ligne {r.line} : {r.reason}" for r in self.rejected)
        return "\n".join(lines)


class ImportFileError(Exception):
    """The file cannot be imported at all (missing required columns, empty file)."""


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _resolve_columns(
    keys: list[str], spec: dict[str, tuple[str, ...]], required: tuple[str, ...]
) -> tuple[dict[str, str], list[str]]:
    mapping: dict[str, str] = {}
    for field_name, aliases in spec.items():
        for alias in aliases:
            if alias in keys:
                mapping[field_name] = alias
                break
    missing = [f for f in required if f not in mapping]
    if missing:
        raise ImportFileError(
            "colonnes obligatoires absentes : " + ", ".join(spec[m][0] for m in missing)
        )
    used = set(mapping.values())
    return mapping, [k for k in keys if k not in used]


def _parse_status(raw: str) -> str | None:
    value = slugify(raw)
    if value.startswith("public"):
        return "public"
    if value.startswith("prive") or value.startswith("private"):
        return "private"
    return None


def _parse_date(raw: str) -> date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValueError(raw)


def _parse_value_cents(raw: str) -> int:
    text = raw.replace("€", "").replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(raw) from None
    if amount < 0:
        raise ValueError(raw)
    return int((amount * 100).to_integral_value())


Progress = Callable[[Iterable[CsvRow]], Iterable[CsvRow]]


def _no_progress(rows: Iterable[CsvRow]) -> Iterable[CsvRow]:
    return rows


async def import_schools(
    session: AsyncSession, territory: Territory, raw: bytes, progress: Progress = _no_progress
) -> ImportReport:
    """Upsert primary schools (and their communes) from a directory export."""
    text, encoding = decode(raw)
    try:
        keys, rows = read_rows(text)
    except UnreadableHeader as exc:
        raise ImportFileError(str(exc)) from None
    if not keys:
        raise ImportFileError("fichier vide")
    columns, unknown = _resolve_columns(keys, SCHOOL_COLUMNS, REQUIRED_SCHOOL)
    report = ImportReport(encoding=encoding, unknown_columns=unknown)

    communes = {
        c.insee_code: c
        for c in (await session.scalars(
            select(Commune).where(Commune.territory_id == territory.id)
        )).all()
    }
    seen: set[str] = set()
    for row in progress(rows):
        if row.error is not None:
            report.reject(row.line, row.error)
            continue
        get = lambda f: row.values.get(columns.get(f, ""), "")  # noqa: E731
        uai = normalise_uai(get("uai"))
        if not is_valid_uai(uai):
            report.reject(row.line, f"code UAI invalide : {get('uai')!r}")
            continue
        if uai in seen:
            report.reject(row.line, f"code UAI en double dans le fichier : {uai}")
            continue
        kind = get("kind") or "Ecole"
        if not slugify(kind).startswith("ecole"):
            report.reject(row.line, f"type d'établissement non pris en charge : {kind}")
            continue
        status = _parse_status(get("status"))
        if status is None:
            report.reject(row.line, f"statut public/privé inconnu : {get('status')!r}")
            continue
        insee, commune_name, name = get("insee"), get("commune"), get("name")
        if not re.fullmatch(r"\d[\dAB]\d{3}", insee) or not commune_name:
            report.reject(row.line, f"commune invalide : {insee!r} {commune_name!r}")
            continue
        if not name:
            report.reject(row.line, "nom d'établissement vide")
            continue
        existing = await session.scalar(select(School).where(School.uai == uai))
        if existing is not None and existing.territory_id != territory.id:
            report.reject(row.line, f"l'école {uai} appartient à un autre territoire")
            continue
        seen.add(uai)

        commune = communes.get(insee)
        if commune is None:
            org = await ensure_organisation(
                session, territory.id, kind="commune",
                slug=f"commune-{slugify(commune_name)}", name=commune_organisation_name(commune_name),
            )
            commune = Commune(
                territory_id=territory.id, insee_code=insee, name=commune_name,
                organisation_id=org.id,
            )
            session.add(commune)
            await session.flush()
            communes[insee] = commune

        ogec_id = None
        if status == "private":
            ogec_name = get("ogec") or f"OGEC {name}"
            ogec = await ensure_organisation(
                session, territory.id, kind="ogec", slug=f"ogec-{slugify(ogec_name)[:80]}",
                name=ogec_name,
            )
            ogec_id = ogec.id

        school = existing or School(uai=uai, territory_id=territory.id)
        school.name = name
        school.kind = kind
        school.status = status
        school.commune_id = commune.id
        school.ogec_id = ogec_id
        school.address = get("address") or None
        school.postal_code = get("postal_code") or None
        school.email = get("email") or None
        school.phone = get("phone") or None
        if existing is None:
            session.add(school)
            report.created += 1
        else:
            report.updated += 1
    await session.flush()
    return report


async def import_assets(
    session: AsyncSession, territory: Territory, raw: bytes, progress: Progress = _no_progress, *,
    source: str = "", who: str = "import", agent_id: int | None = None, now: datetime | None = None,
) -> ImportReport:
    """Upsert inventory rows keyed by tag; rooms are created on the fly per school.

    Every device created or changed gets its logbook event (created, edited with the fields that
    changed, moved), with who (`who`: an agent's name, or « import ») and why (the file `source`);
    a row that changes nothing writes nothing. A column absent from the file keeps the inventory's
    value. A preview is this same call in a transaction the caller rolls back (`guichet import --dry-run`).
    """
    now = now or utcnow()
    why = f"Import du fichier {source}" if source else "Import d'un fichier CSV"
    text, encoding = decode(raw)
    try:
        keys, rows = read_rows(text)
    except UnreadableHeader as exc:
        raise ImportFileError(str(exc)) from None
    if not keys:
        raise ImportFileError("fichier vide")
    columns, unknown = _resolve_columns(keys, ASSET_COLUMNS, REQUIRED_ASSET)
    report = ImportReport(encoding=encoding, unknown_columns=unknown, assets=True)

    schools = {
        s.uai: s
        for s in (await session.scalars(
            select(School).where(School.territory_id == territory.id)
        )).all()
    }
    assets = {
        a.tag: a
        for a in (await session.scalars(
            select(Asset).where(Asset.territory_id == territory.id)
        )).all()
    }
    rooms = {
        (r.school_id, r.name.lower()): r
        for r in (await session.scalars(
            select(Room).join(School).where(School.territory_id == territory.id)
        )).all()
    }
    schools_by_id = {s.id: s for s in schools.values()}
    room_names = {r.id: r.name for r in rooms.values()}
    equipment_values = {e.value for e in Equipment}
    seen: set[str] = set()

    def event(asset: Asset, kind: AssetEventKind, line: int, data: dict[str, Any]) -> None:
        session.add(AssetEvent(asset_id=asset.id, kind=kind.value, at=now, actor_kind="agent" if agent_id else "system",
                               actor_id=agent_id, actor_name=who, channel="web" if agent_id else None,
                               body=f"{why}, ligne {line}", data=data))

    def place(school_id: int | None, room_id: int | None) -> dict[str, Any]:
        school_row = schools_by_id.get(school_id) if school_id else None
        return {"school": school_row.uai if school_row else None,
                "school_name": school_row.name if school_row else None,
                "room": room_names.get(room_id) if room_id else None}

    for row in progress(rows):
        if row.error is not None:
            report.reject(row.line, row.error)
            continue
        get = lambda f: row.values.get(columns.get(f, ""), "")  # noqa: E731
        tag = get("tag").upper()
        if not TAG_PATTERN.match(tag):
            report.reject(row.line, f"étiquette invalide : {get('tag')!r}")
            continue
        if tag in seen:
            report.reject(row.line, f"étiquette en double dans le fichier : {tag}")
            continue
        kind = get("type").strip().lower()
        if kind not in equipment_values:
            report.reject(row.line, f"type de matériel inconnu : {get('type')!r}")
            continue
        owner = OWNER_ALIASES.get(slugify(get("owner")).replace("-", ""))
        if owner is None or owner not in {o.value for o in AssetOwner}:
            report.reject(row.line, f"propriétaire inconnu : {get('owner')!r}")
            continue
        school = schools.get(normalise_uai(get("uai")))
        if school is None:
            report.reject(row.line, f"école inconnue : {get('uai')!r}")
            continue
        acquired = None
        if get("acquired_on"):
            try:
                acquired = _parse_date(get("acquired_on"))
            except ValueError:
                report.reject(row.line, f"date d'acquisition invalide : {get('acquired_on')!r}")
                continue
        value_cents = None
        if get("value"):
            try:
                value_cents = _parse_value_cents(get("value"))
            except ValueError:
                report.reject(row.line, f"valeur invalide : {get('value')!r}")
                continue
        seen.add(tag)

        room = None
        room_name = get("room")
        if room_name:
            room = rooms.get((school.id, room_name.lower()))
            if room is None:
                room = Room(school_id=school.id, name=room_name)
                session.add(room)
                await session.flush()
                rooms[(school.id, room_name.lower())] = room
                room_names[room.id] = room.name

        values: dict[str, Any] = {"type": kind, "owner": owner, "model": get("model") or None,
                                  "serial": get("serial") or None, "acquired_on": acquired, "value_cents": value_cents}
        asset = assets.get(tag)
        if asset is None:
            asset = Asset(territory_id=territory.id, tag=tag, school_id=school.id, room_id=room.id if room else None,
                          **values)
            session.add(asset)
            await session.flush()
            assets[tag] = asset
            after = {**_identity(asset), **place(asset.school_id, asset.room_id)}
            event(asset, AssetEventKind.CREATED, row.line, {"after": after})
            report.changes.append(AssetChange(row.line, tag, AssetEventKind.CREATED.value, {}, after))
            report.created += 1
            continue
        for name, column in _OPTIONAL.items():
            if column not in columns:
                values[name] = getattr(asset, name)
        before = _identity(asset)
        for name, value in values.items():
            setattr(asset, name, value)
        after = _identity(asset)
        changed = sorted(k for k in after if after[k] != before[k])
        old_place = place(asset.school_id, asset.room_id)
        asset.school_id, asset.room_id = school.id, room.id if room else None
        new_place = place(asset.school_id, asset.room_id)
        if changed:
            edit = ({k: before[k] for k in changed}, {k: after[k] for k in changed})
            event(asset, AssetEventKind.EDITED, row.line, {"before": edit[0], "after": edit[1]})
            report.changes.append(AssetChange(row.line, tag, AssetEventKind.EDITED.value, *edit))
            report.edited += 1
        if new_place != old_place:
            event(asset, AssetEventKind.MOVED, row.line, {"before": old_place, "after": new_place})
            report.changes.append(AssetChange(row.line, tag, AssetEventKind.MOVED.value, old_place, new_place))
            report.moved += 1
        if changed or new_place != old_place:
            report.updated += 1
        else:
            report.unchanged += 1
    await session.flush()
    return report


def _identity(asset: Asset) -> dict[str, Any]:
    """A device's identity as the logbook's events record it (dates in ISO)."""
    return {name: (getattr(asset, name).isoformat() if name == "acquired_on" and getattr(asset, name) else
                   getattr(asset, name)) for name in IDENTITY_FIELDS}


def organisation_slug_for_commune(name: str) -> str:
    return f"commune-{slugify(name)}"


__all__ = [
    "AssetChange",
    "ImportFileError",
    "ImportReport",
    "Organisation",
    "import_assets",
    "import_schools",
    "organisation_slug_for_commune",
    "slugify",
]

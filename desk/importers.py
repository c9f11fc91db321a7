"""`guichet import schools|assets`: idempotent upserts with a report of rejected rows."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.french import commune_organisation_name
from domain.vocabulary import AssetOwner, Equipment

from desk.csvfiles import CsvRow, UnreadableHeader, decode, read_rows
from desk.models import Asset, Commune, Organisation, Room, School, Territory
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


@dataclass
class ImportReport:
    encoding: str = "utf-8"
    created: int = 0
    updated: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.created + self.updated

    def reject(self, line: int, reason: str) -> None:
        self.rejected.append(Rejection(line, reason))

    def summary(self) -> str:
        lines = [
            f"{self.accepted} ligne(s) importée(s) : {self.created} créée(s), "
            f"{self.updated} mise(s) à jour ; {len(self.rejected)} rejetée(s) "
            f"(encodage {self.encoding})."
        ]
        if self.unknown_columns:
            lines.append("Colonnes ignorées : " + ", ".join(self.unknown_columns))
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
    session: AsyncSession, territory: Territory, raw: bytes, progress: Progress = _no_progress
) -> ImportReport:
    """Upsert inventory rows keyed by tag; rooms are created on the fly per school."""
    text, encoding = decode(raw)
    try:
        keys, rows = read_rows(text)
    except UnreadableHeader as exc:
        raise ImportFileError(str(exc)) from None
    if not keys:
        raise ImportFileError("fichier vide")
    columns, unknown = _resolve_columns(keys, ASSET_COLUMNS, REQUIRED_ASSET)
    report = ImportReport(encoding=encoding, unknown_columns=unknown)

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
    equipment_values = {e.value for e in Equipment}
    seen: set[str] = set()
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

        asset = assets.get(tag)
        created = asset is None
        if asset is None:
            asset = Asset(territory_id=territory.id, tag=tag)
            session.add(asset)
            assets[tag] = asset
        asset.type = kind
        asset.model = get("model") or None
        asset.school_id = school.id
        asset.room_id = room.id if room else None
        asset.owner = owner
        asset.acquired_on = acquired
        asset.value_cents = value_cents
        asset.serial = get("serial") or None
        if created:
            report.created += 1
        else:
            report.updated += 1
    await session.flush()
    return report


def organisation_slug_for_commune(name: str) -> str:
    return f"commune-{slugify(name)}"


__all__ = [
    "ImportFileError",
    "ImportReport",
    "Organisation",
    "import_assets",
    "import_schools",
    "organisation_slug_for_commune",
    "slugify",
]

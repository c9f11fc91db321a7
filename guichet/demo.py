"""`guichet demo`: a living SEM territory for newcomers (real communes, fictional schools)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.importers import import_assets, import_schools, slugify
from desk.models import Agent, Organisation
from desk.security import hash_password
from domain.uai import make_uai
from guichet.bootstrap import ensure_territory_from_preset

# Communes of Saint-Étienne Métropole with their INSEE codes.
COMMUNES: list[tuple[str, str]] = [
    ("42218", "Saint-Étienne"),
    ("42095", "Firminy"),
    ("42207", "Saint-Chamond"),
    ("42186", "Rive-de-Gier"),
    ("42189", "Roche-la-Molière"),
    ("42330", "Villars"),
    ("42223", "Saint-Genest-Lerpt"),
    ("42005", "Andrézieux-Bouthéon"),
    ("42305", "La Talaudière"),
    ("42302", "Sorbiers"),
    ("42044", "Le Chambon-Feugerolles"),
    ("42316", "Unieux"),
    ("42099", "Fraisses"),
    ("42183", "La Ricamarie"),
    ("42237", "Saint-Jean-Bonnefonds"),
    ("42275", "Saint-Priest-en-Jarez"),
    ("42097", "La Fouillouse"),
    ("42279", "Saint-Just-Saint-Rambert"),
    ("42123", "Lorette"),
    ("42092", "L'Étrat"),
]

SCHOOL_NAMES = [
    "École élémentaire Jules Ferry", "École primaire Jean Jaurès", "École maternelle Les Tilleuls",
    "École élémentaire Victor Hugo", "École primaire Louis Pasteur", "École maternelle Les Acacias",
    "École élémentaire Jean Moulin", "École primaire Marie Curie", "École maternelle Le Petit Prince",
    "École élémentaire Jacques Prévert", "École primaire Paul Bert", "École maternelle Les Églantines",
    "École élémentaire Albert Camus", "École primaire Simone Veil", "École élémentaire Condorcet",
]
PRIVATE_NAMES = ["École privée Sainte-Marie", "École privée Saint-Joseph", "École privée Notre-Dame"]

EQUIPMENT_MIX = [
    ("desktop", "sem", "Lenovo ThinkCentre M70q", 650),
    ("laptop", "sem", "Dell Latitude 3540", 780),
    ("tablet", "sem", "Samsung Galaxy Tab A9+", 290),
    ("projector", "sem", "Epson EB-W51", 520),
    ("interactive_projector", "sem", "Epson EB-735Fi", 1900),
    ("interactive_display", "sem", "Speechi 65 pouces", 2400),
    ("printer", "sem", "Brother HL-L5210DN", 310),
    ("document_camera", "sem", "IPEVO V4K", 110),
    ("display_dongle", "sem", "Barco ClickShare C-5", 350),
    ("charging_cart", "sem", "Chariot 16 tablettes", 900),
    ("wifi_access_point", "sem", "Ubiquiti U6+", 160),
    ("router", "sem", "Box fibre", 0),
    ("copier", "commune", "Ricoh IM C2000", 3200),
    ("phone", "commune", "Poste fixe Alcatel", 90),
]
ROOMS = ["CP", "CE1", "CE2", "CM1", "CM2", "BCD", "Salle info", "Bureau de la direction"]


@dataclass(frozen=True)
class DemoAgent:
    email: str
    org_slug: str
    role: str
    name: str


DEMO_PASSWORD = "guichet-demo"


def demo_agents() -> list[DemoAgent]:
    return [
        DemoAgent("admin@guichet.demo", "sem", "admin", "Administratrice du guichet"),
        DemoAgent("agent.sem@guichet.demo", "sem", "agent", "Karim Benali (SEM)"),
        DemoAgent("chargee.mission@guichet.demo", "sem", "supervisor", "Claire Vial (SEM)"),
        DemoAgent("agent.firminy@guichet.demo", "commune-firminy", "agent", "Service informatique de Firminy"),
        DemoAgent("agent.saint-etienne@guichet.demo", "commune-saint-etienne", "agent", "DSI de Saint-Étienne"),
        DemoAgent("agent.rectorat@guichet.demo", "rectorat", "agent", "Assistance de la DSDEN de la Loire"),
    ]


def schools_csv(rng: random.Random) -> bytes:
    """A directory-shaped CSV of fictional schools with valid UAI codes."""
    header = (
        "Identifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;"
        "Statut_public_prive;Adresse_1;Code_postal;Code_commune;Nom_commune;Mail\n"
    )
    lines = []
    number = 1001
    for insee, commune in COMMUNES:
        count = 6 if commune == "Saint-Étienne" else 2
        names = rng.sample(SCHOOL_NAMES, count)
        if commune in ("Saint-Étienne", "Saint-Chamond", "Firminy"):
            names.append(rng.choice(PRIVATE_NAMES))
        for name in names:
            uai = make_uai(f"042{number:04d}")
            number += 7
            status = "Privé" if "privée" in name else "Public"
            postal = "42000" if commune == "Saint-Étienne" else f"42{rng.randint(100, 700)}"
            lines.append(
                f"{uai};{name};Ecole;{status};{rng.randint(1, 80)} rue de la République;"
                f"{postal};{insee};{commune};ce.{uai.lower()}@ac-lyon.fr\n"
            )
    return (header + "".join(lines)).encode("utf-8")


def assets_csv(rng: random.Random, uais: list[str], count: int) -> bytes:
    header = "tag;type;model;uai;room;owner;acquired_on;value\n"
    lines = []
    today = date(2026, 9, 1)
    for index in range(count):
        kind, owner, model, value = rng.choice(EQUIPMENT_MIX)
        uai = rng.choice(uais)
        acquired = today - timedelta(days=rng.randint(30, 6 * 365))
        prefix = "SEM" if owner == "sem" else "COM"
        lines.append(
            f"{prefix}-{index + 1:06d};{kind};{model};{uai};{rng.choice(ROOMS)};{owner};"
            f"{acquired.isoformat()};{value}\n"
        )
    return (header + "".join(lines)).encode("utf-8")


async def load_demo(session: AsyncSession, territory_name: str = "sem", assets: int = 400) -> list[DemoAgent]:
    """Load (or refresh) the demo territory; idempotent."""
    rng = random.Random(42)
    territory = await ensure_territory_from_preset(session, territory_name)
    report = await import_schools(session, territory, schools_csv(rng))
    assert not report.rejected, report.summary()
    from desk.repositories import schools_of_territory

    uais = [s.uai for s in await schools_of_territory(session, territory.id)]
    report = await import_assets(session, territory, assets_csv(rng, sorted(uais), assets))
    assert not report.rejected, report.summary()

    created = []
    password_hash = hash_password(DEMO_PASSWORD)
    for demo in demo_agents():
        org = await session.scalar(
            select(Organisation).where(
                Organisation.territory_id == territory.id, Organisation.slug == demo.org_slug
            )
        )
        if org is None:
            continue
        agent = await session.scalar(select(Agent).where(Agent.email == demo.email))
        if agent is None:
            session.add(Agent(
                organisation_id=org.id, email=demo.email, name=demo.name,
                password_hash=password_hash, role=demo.role,
            ))
        created.append(demo)
    await session.flush()
    return created


__all__ = ["DEMO_PASSWORD", "load_demo", "slugify"]

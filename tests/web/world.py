"""A small territory for the web tests: two communes, their agents, tickets and clocks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

from cryptography.fernet import Fernet
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from desk import repositories as repo
from desk.clock import utcnow
from desk.models import Agent, Asset, Attachment, Commune, School, SlaClock
from desk.sla_store import refresh_queue_deadlines
from desk.security import hash_password
from domain.uai import make_uai
from guichet.settings import Settings
from web.agents import setup_agents
from web.api import setup_api
from web.app import init_app

PASSWORD = "mot-de-passe-de-test"
SESSION_SECRET = Fernet.generate_key().decode()
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


def agents_app(settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> web.Application:
    """The application with the agents' pages and the API plugged in, as wiring does."""
    return init_app(settings, engine, sessions, extensions=[setup_agents, setup_api])


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {"session_secret": SESSION_SECRET, "public_url": "http://guichet.test", **overrides}
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class World:
    refs: dict[str, str] = field(default_factory=dict)
    agents: dict[str, int] = field(default_factory=dict)
    attachments: dict[str, int] = field(default_factory=dict)
    schools: dict[str, str] = field(default_factory=dict)


async def seed(sessions: async_sessionmaker[AsyncSession], *, school_name_a: str = "École Jules Ferry") -> World:
    """Commune A (Firminy) and commune B (Saint-Étienne), the SEM, the rectorat, tickets in each."""
    world = World()
    now = utcnow()
    async with sessions.begin() as s:
        territory = await repo.ensure_territory(s, "sem", "Saint-Étienne Métropole")
        orgs = {
            "sem": await repo.ensure_organisation(s, territory.id, kind="sem", slug="sem", name="Saint-Étienne Métropole"),
            "a": await repo.ensure_organisation(s, territory.id, kind="commune", slug="commune-firminy", name="Commune de Firminy"),
            "b": await repo.ensure_organisation(s, territory.id, kind="commune", slug="commune-saint-etienne", name="Commune de Saint-Étienne"),
            "rectorat": await repo.ensure_organisation(s, territory.id, kind="rectorat", slug="rectorat", name="Rectorat de Lyon"),
        }
        communes = {
            "a": Commune(territory_id=territory.id, insee_code="42095", name="Firminy", organisation_id=orgs["a"].id),
            "b": Commune(territory_id=territory.id, insee_code="42218", name="Saint-Étienne", organisation_id=orgs["b"].id),
        }
        s.add_all(communes.values())
        await s.flush()
        schools = {
            "a": School(territory_id=territory.id, uai=make_uai("0421001"), name=school_name_a, commune_id=communes["a"].id),
            "b": School(territory_id=territory.id, uai=make_uai("0421008"), name="École Victor Hugo", commune_id=communes["b"].id),
        }
        s.add_all(schools.values())
        await s.flush()
        world.schools = {k: v.uai for k, v in schools.items()}
        for key, (email, org, role) in {
            "a": ("agent.a@guichet.test", "a", "agent"),
            "a2": ("agent.a2@guichet.test", "a", "agent"),
            "b": ("agent.b@guichet.test", "b", "agent"),
            "sup_a": ("chef.a@guichet.test", "a", "supervisor"),
            "sem": ("agent.sem@guichet.test", "sem", "agent"),
            "admin": ("admin@guichet.test", "sem", "admin"),
        }.items():
            agent = Agent(organisation_id=orgs[org].id, email=email, name=f"Agent {key.upper()}",
                          password_hash=password_hash(), role=role)
            s.add(agent)
            await s.flush()
            world.agents[key] = agent.id
        teacher = await repo.ensure_requester(s, territory.id, "telegram", "tg-1001", name="Mme Martin",
                                              school_id=schools["a"].id)
        teacher_b = await repo.ensure_requester(s, territory.id, "email", "directeur@ecole-b.test",
                                                name="M. Durand", school_id=schools["b"].id, role="director")
        asset = Asset(territory_id=territory.id, tag="SEM-000001", type="projector", model="Epson EB-W51",
                      school_id=schools["a"].id, owner="sem")
        s.add(asset)
        await s.flush()
        specs = {
            "a": dict(org="a", school="a", requester=teacher, channel="telegram", subject="Vidéoprojecteur en panne",
                      description="Le vidéoprojecteur de la classe de CM2 ne s'allume plus.", asset=asset,
                      opened=now - timedelta(days=4), due=now - timedelta(hours=2)),
            "a2": dict(org="a", school="a", requester=teacher, channel="telegram", subject="Prise réseau arrachée",
                       description="La prise réseau de la salle 3 est arrachée.", asset=None,
                       opened=now - timedelta(days=1), due=now + timedelta(hours=5)),
            "a3": dict(org="a", school="a", requester=None, channel="web", subject="Plus de toner",
                       description="", asset=None, opened=now - timedelta(days=2), due=now + timedelta(days=3)),
            "b": dict(org="b", school="b", requester=teacher_b, channel="email", subject="Imprimante bloquée",
                      description="L'imprimante affiche une erreur.", asset=None,
                      opened=now - timedelta(days=3), due=now + timedelta(days=2)),
            "sem": dict(org="sem", school="a", requester=teacher, channel="telegram", subject="Plus d'internet",
                        description="Plus d'internet depuis ce matin.", asset=None,
                        opened=now - timedelta(hours=3), due=now + timedelta(hours=30)),
        }
        for key, spec in specs.items():
            ticket = await repo.create_ticket(
                s, territory=territory, organisation=orgs[spec["org"]], intent="hardware_failure",
                role="school_authority", subject=spec["subject"], description=spec["description"],
                equipment="projector" if spec["asset"] else None, school=schools[spec["school"]],
                asset=spec["asset"], channel=spec["channel"], requester=spec["requester"],
                opened_at=spec["opened"], sla_policy="replacement")
            s.add(SlaClock(ticket_id=ticket.id, policy="replacement", threshold="breach", due_at=spec["due"],
                          deadline=spec["due"]))
            await s.flush()
            await refresh_queue_deadlines(s, [ticket.id])
            world.refs[key] = ticket.reference
            if key in ("a", "b"):
                message = next(e for e in ticket.events if e.kind == "message")
                item = Attachment(ticket_id=ticket.id, event_id=message.id, filename=f"photo écran {key}.png",
                                  content_type="image/png", size=4, content=b"\x89PNG")
                s.add(item)
                await s.flush()
                world.attachments[key] = item.id
    return world

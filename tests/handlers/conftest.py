"""Fixtures of the agents' use cases: the web tests' territory, and a second one next to it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from desk import repositories as repo
from desk.models import Agent, Asset, Commune, School
from domain.uai import make_uai
from handlers.agent_scope import Actor, load_actor
from tests.web.world import World, password_hash, seed


@dataclass(frozen=True)
class Other:
    """Ids of a second territory's rows, which the first territory's agents must never reach."""

    organisation_id: int
    commune_id: int
    school_id: int
    school_uai: str
    agent_id: int


@pytest.fixture
async def world(db) -> World:
    return await seed(db.sessions)


@pytest.fixture
async def other(db, world) -> Other:
    async with db.sessions.begin() as s:
        territory = await repo.ensure_territory(s, "lyon", "Métropole de Lyon")
        org = await repo.ensure_organisation(s, territory.id, kind="commune", slug="commune-lyon",
                                             name="Commune de Lyon")
        commune = Commune(territory_id=territory.id, insee_code="69123", name="Lyon", organisation_id=org.id)
        s.add(commune)
        await s.flush()
        school = School(territory_id=territory.id, uai=make_uai("0691001"), name="École Jules Ferry",
                        commune_id=commune.id)
        agent = Agent(organisation_id=org.id, email="agent@lyon.test", name="Agent Lyon",
                      password_hash=password_hash(), role="admin")
        s.add_all([school, agent])
        await s.flush()
        s.add(Asset(territory_id=territory.id, tag="SEM-000001", type="tablet", school_id=school.id, owner="lyon"))
        return Other(org.id, commune.id, school.id, school.uai, agent.id)


@pytest.fixture
def actor(db, world):
    """The Actor of one of the world's agents, by key ("a", "admin", ...)."""

    async def load(key: str) -> Actor:
        async with db.sessions() as s:
            found = await load_actor(s, world.agents[key])
        assert found is not None
        return found

    return load

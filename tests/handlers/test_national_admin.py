"""The national administrator (`national_admin`): one territory at a time, chosen; nobody else chooses."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desk.errors import RecordNotFound
from desk.models import Agent, Organisation
from handlers import agent_admin as admin
from handlers.agent_scope import load_actor, territory_choices
from tests.web.world import password_hash


async def _national(db) -> int:
    async with db.sessions.begin() as s:
        sem = await s.scalar(select(Organisation).where(Organisation.slug == "sem"))
        agent = Agent(organisation_id=sem.id, email="national@guichet.test", name="Administration nationale",
                      password_hash=password_hash(), role="national_admin")
        s.add(agent)
        await s.flush()
        return agent.id


async def test_the_national_admin_works_in_the_territory_chosen(db, world, other) -> None:
    national = await _national(db)
    async with db.sessions() as s:
        home = await load_actor(s, national)
        lyon = await load_actor(s, national, "lyon")
        unknown = await load_actor(s, national, "nulle-part")
        choices = await territory_choices(s, home)
    assert home.territory_slug == "sem" and home.is_admin and home.reads_territory
    assert lyon.territory_slug == "lyon" and lyon.territory_id != home.territory_id
    assert lyon.organisation_name == home.organisation_name  # still their own organisation
    assert unknown.territory_id == home.territory_id
    assert {slug for slug, _ in choices} == {"sem", "lyon"}


async def test_no_other_agent_changes_territory(db, world, other, actor) -> None:
    for key in ("admin", "a", "sup_a"):
        me = await actor(key)
        async with db.sessions() as s:
            moved = await load_actor(s, world.agents[key], "lyon")
            assert await territory_choices(s, me) == []
        assert moved.territory_id == me.territory_id and not moved.is_national


async def test_a_territorys_admin_cannot_make_or_edit_a_national_admin(db, world, actor) -> None:
    me = await actor("admin")
    national = await _national(db)
    assert "national_admin" not in admin.role_choices(me)
    async with db.sessions.begin() as s:
        org = await s.scalar(select(Organisation.id).where(Organisation.slug == "sem"))
        with pytest.raises(RecordNotFound):
            await admin.save_agent(s, me, None, name="x", email="x@x.test", role="national_admin", active=True,
                                   organisation_id=org, password="un-mot-de-passe")
        assert await admin.agent(s, me, national) is None
        stored = await s.get(Agent, national)
        with pytest.raises(RecordNotFound):
            await admin.save_agent(s, me, stored, name="x", email=stored.email, role="agent", active=True,
                                   organisation_id=org, password=None)
    async with db.sessions() as s:
        boss = await load_actor(s, national)
    assert "national_admin" in admin.role_choices(boss)

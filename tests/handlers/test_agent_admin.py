"""Administration of a territory: its admins read and write its rows, and no other territory's."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desk.errors import RecordNotFound
from desk.models import Agent, Organisation, School
from desk.security import verify_password
from domain.uai import make_uai
from handlers import agent_admin as admin


async def test_listings_are_the_territory_s(db, world, other, actor) -> None:
    me = await actor("admin")
    async with db.sessions() as s:
        orgs = await admin.organisations(s, me)
        assert [(o.slug, n) for o, n in orgs] == [
            ("commune-firminy", 3), ("commune-saint-etienne", 1), ("rectorat", 0), ("sem", 2)]
        assert [name for _, name in await admin.organisation_choices(s, me)] == [
            "Commune de Firminy", "Commune de Saint-Étienne", "Rectorat de Lyon", "Saint-Étienne Métropole"]
        people = await admin.agents(s, me)
        assert len(people) == len(world.agents) and "Commune de Lyon" not in {org for _, org in people}


async def test_rows_of_another_territory_are_not_found(db, world, other, actor) -> None:
    me = await actor("admin")
    async with db.sessions() as s:
        assert await admin.organisation(s, me, other.organisation_id) is None
        assert await admin.agent(s, me, other.agent_id) is None
        assert await admin.school(s, me, other.school_id) is None
        assert (await admin.agent(s, me, world.agents["b"])).email == "agent.b@guichet.test"


async def test_only_an_admin_administers(db, world, actor) -> None:
    supervisor = await actor("sup_a")
    async with db.sessions() as s:
        for call in (admin.organisations(s, supervisor), admin.agents(s, supervisor),
                     admin.school(s, supervisor, 1)):
            with pytest.raises(RecordNotFound):
                await call


async def test_clashes(db, world, other, actor) -> None:
    """Short names are unique in a territory; e-mail addresses and UAI codes everywhere."""
    me = await actor("admin")
    async with db.sessions() as s:
        firminy = await s.scalar(select(Organisation.id).where(Organisation.slug == "commune-firminy"))
        assert await admin.slug_taken(s, me, "commune-firminy")
        assert not await admin.slug_taken(s, me, "commune-firminy", firminy)
        assert not await admin.slug_taken(s, me, "commune-lyon")  # the other territory's
        assert await admin.email_taken(s, "agent@lyon.test")
        assert not await admin.email_taken(s, "agent.a@guichet.test", world.agents["a"])
        assert await admin.uai_taken(s, other.school_uai)
        school_a = await s.scalar(select(School.id).where(School.uai == world.schools["a"]))
        assert not await admin.uai_taken(s, world.schools["a"], school_a)


async def test_create_and_update_in_the_territory(db, world, actor) -> None:
    me = await actor("admin")
    async with db.sessions.begin() as s:
        org = await admin.save_organisation(s, me, None, name="Commune de Roche", kind="commune",
                                            slug="commune-roche", email=None, telegram_chat_id=-1001)
        await s.flush()
        person = await admin.save_agent(s, me, None, name="Agent Roche", email="agent@roche.test", role="agent",
                                        active=True, organisation_id=org.id, password="un-mot-de-passe")
        communes = await s.scalar(select(School.commune_id).where(School.uai == world.schools["a"]))
        created = await admin.save_school(s, me, None, uai=make_uai("0421099"), name="École du Parc",
                                          kind="Ecole", status="public", commune_id=communes, address=None,
                                          postal_code="42700", email=None, phone=None)
    async with db.sessions.begin() as s:
        org = await admin.organisation(s, me, org.id)
        assert (org.territory_id, org.telegram_chat_id) == (me.territory_id, -1001)
        stored = await admin.agent(s, me, person.id)
        assert verify_password(stored.password_hash, "un-mot-de-passe")
        old_hash = stored.password_hash
        await admin.save_agent(s, me, stored, name="Agent Roche", email="agent@roche.test", role="supervisor",
                               active=False, organisation_id=org.id, password=None)
        school = await admin.school(s, me, created.id)
        assert (school.territory_id, school.postal_code) == (me.territory_id, "42700")
    async with db.sessions() as s:
        stored = await s.get(Agent, person.id)
        assert (stored.role, stored.active, stored.password_hash) == ("supervisor", False, old_hash)


async def test_no_write_reaches_another_territory(db, world, other, actor) -> None:
    me = await actor("admin")
    async with db.sessions.begin() as s:
        foreign_org = await s.get(Organisation, other.organisation_id)
        foreign_agent = await s.get(Agent, other.agent_id)
        foreign_school = await s.get(School, other.school_id)
        with pytest.raises(RecordNotFound):
            await admin.save_organisation(s, me, foreign_org, name="x", kind="commune", slug="x", email=None,
                                          telegram_chat_id=None)
        with pytest.raises(RecordNotFound):  # into the other territory's organisation
            await admin.save_agent(s, me, None, name="x", email="x@x.test", role="agent", active=True,
                                   organisation_id=other.organisation_id, password="un-mot-de-passe")
        own_org = await s.scalar(select(Organisation.id).where(Organisation.slug == "sem"))
        with pytest.raises(RecordNotFound):  # out of the other territory
            await admin.save_agent(s, me, foreign_agent, name="x", email="x@x.test", role="agent", active=True,
                                   organisation_id=own_org, password=None)
        with pytest.raises(RecordNotFound):
            await admin.save_school(s, me, foreign_school, uai=foreign_school.uai, name="x", kind="Ecole",
                                    status="public", commune_id=other.commune_id, address=None,
                                    postal_code=None, email=None, phone=None)
        with pytest.raises(RecordNotFound):  # a new school in the other territory's commune
            await admin.save_school(s, me, None, uai=make_uai("0421098"), name="x", kind="Ecole",
                                    status="public", commune_id=other.commune_id, address=None,
                                    postal_code=None, email=None, phone=None)
    async with db.sessions() as s:
        assert (await s.get(Organisation, other.organisation_id)).name == "Commune de Lyon"
        assert (await s.get(Agent, other.agent_id)).organisation_id == other.organisation_id
        assert (await s.get(School, other.school_id)).name == "École Jules Ferry"

"""The administration of a territory by its admins: organisations, agents and schools.

Plain arguments in, rows out; each function runs in the caller's transaction. Every read and
write is bounded by the admin's territory: a row of another territory, or an actor who is not
an admin, is RecordNotFound or None, never shown nor edited. E-mail addresses (agents sign in
with them) and UAI codes (national) are unique across territories.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.errors import RecordNotFound
from desk.models import Agent, Commune, Organisation, School
from desk.security import hash_password
from domain.vocabulary import AgentRole
from handlers.agent_scope import Actor

__all__ = [
    "agent", "agents", "email_taken", "organisation", "organisation_choices", "organisations",
    "save_agent", "save_organisation", "save_school", "school", "slug_taken", "uai_taken",
]


def _territory(actor: Actor) -> int:
    """The territory an admin administers; RecordNotFound for anyone else."""
    if not actor.is_admin:
        raise RecordNotFound("administration")
    return actor.territory_id


def _other_than(row_id: int | None) -> int:
    return row_id if row_id is not None else -1


# --- organisations -------------------------------------------------------------------------


async def organisations(session: AsyncSession, actor: Actor) -> list[tuple[Organisation, int]]:
    """The territory's organisations with their number of agents, by kind then name."""
    rows = await session.execute(
        select(Organisation, func.count(Agent.id)).outerjoin(Agent, Agent.organisation_id == Organisation.id)
        .where(Organisation.territory_id == _territory(actor))
        .group_by(Organisation.id).order_by(Organisation.kind, Organisation.name))
    return [(o, n) for o, n in rows.all()]


async def organisation(session: AsyncSession, actor: Actor, organisation_id: int) -> Organisation | None:
    return await session.scalar(select(Organisation).where(
        Organisation.id == organisation_id, Organisation.territory_id == _territory(actor)))


async def slug_taken(session: AsyncSession, actor: Actor, slug: str, except_id: int | None = None) -> bool:
    """Whether another organisation of the territory already has this short name."""
    clash = await session.scalar(select(Organisation.id).where(
        Organisation.territory_id == _territory(actor), Organisation.slug == slug,
        Organisation.id != _other_than(except_id)))
    return clash is not None


async def save_organisation(
    session: AsyncSession, actor: Actor, existing: Organisation | None, *, name: str, kind: str, slug: str,
    email: str | None, telegram_chat_id: int | None,
) -> Organisation:
    """Create (`existing` None) or update an organisation of the admin's territory."""
    territory_id = _territory(actor)
    if existing is not None and existing.territory_id != territory_id:
        raise RecordNotFound(f"organisation {existing.id}")
    org = existing
    if org is None:
        org = Organisation(territory_id=territory_id)
        session.add(org)
    org.name, org.kind, org.slug, org.email = name, kind, slug, email
    org.telegram_chat_id = telegram_chat_id
    return org


async def organisation_choices(session: AsyncSession, actor: Actor) -> list[tuple[int, str]]:
    """(id, name) of the territory's organisations, by name."""
    rows = await session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.territory_id == _territory(actor)).order_by(Organisation.name))
    return [(i, n) for i, n in rows.all()]


# --- agents --------------------------------------------------------------------------------


async def agents(session: AsyncSession, actor: Actor) -> list[tuple[Agent, str]]:
    """The territory's agents with their organisation's name, by organisation then name."""
    rows = await session.execute(
        select(Agent, Organisation.name).join(Organisation, Agent.organisation_id == Organisation.id)
        .where(Organisation.territory_id == _territory(actor))
        .order_by(Organisation.name, Agent.name))
    return [(a, org) for a, org in rows.all()]


async def agent(session: AsyncSession, actor: Actor, agent_id: int) -> Agent | None:
    """An agent of the territory; a national administrator is managed only by another one."""
    stmt = (select(Agent).join(Organisation, Agent.organisation_id == Organisation.id)
            .where(Agent.id == agent_id, Organisation.territory_id == _territory(actor)))
    if not actor.is_national:
        stmt = stmt.where(Agent.role != AgentRole.NATIONAL_ADMIN.value)
    return await session.scalar(stmt)


def role_choices(actor: Actor) -> list[str]:
    """The roles `actor` may give: a territory's administrator cannot make a national one."""
    return [role.value for role in AgentRole if actor.is_national or role is not AgentRole.NATIONAL_ADMIN]


async def email_taken(session: AsyncSession, email: str, except_id: int | None = None) -> bool:
    """Whether another agent, in any territory, signs in with this address."""
    clash = await session.scalar(select(Agent.id).where(Agent.email == email, Agent.id != _other_than(except_id)))
    return clash is not None


async def save_agent(
    session: AsyncSession, actor: Actor, existing: Agent | None, *, name: str, email: str, role: str,
    active: bool, organisation_id: int, password: str | None,
) -> Agent:
    """Create (`existing` None) or update an agent of one of the territory's organisations.

    An empty `password` keeps the current one (a new agent then has none that can match).
    """
    if role not in role_choices(actor):
        raise RecordNotFound(f"role {role}")
    if existing is not None and existing.role == AgentRole.NATIONAL_ADMIN.value and not actor.is_national:
        raise RecordNotFound(f"agent {existing.id}")
    territory_orgs = {i for i, _ in await organisation_choices(session, actor)}
    if organisation_id not in territory_orgs:
        raise RecordNotFound(f"organisation {organisation_id}")
    if existing is not None and existing.organisation_id not in territory_orgs:
        raise RecordNotFound(f"agent {existing.id}")
    person = existing
    if person is None:
        person = Agent(password_hash="")
        session.add(person)
    person.name, person.email, person.role, person.active = name, email, role, active
    person.organisation_id = organisation_id
    if password:
        person.password_hash = hash_password(password)
    return person


# --- schools -------------------------------------------------------------------------------


async def school(session: AsyncSession, actor: Actor, school_id: int) -> School | None:
    return await session.scalar(select(School).where(
        School.id == school_id, School.territory_id == _territory(actor)))


async def uai_taken(session: AsyncSession, uai: str, except_id: int | None = None) -> bool:
    """Whether another school, in any territory, has this UAI code."""
    clash = await session.scalar(select(School.id).where(School.uai == uai, School.id != _other_than(except_id)))
    return clash is not None


async def save_school(
    session: AsyncSession, actor: Actor, existing: School | None, *, uai: str, name: str, kind: str,
    status: str, commune_id: int, address: str | None, postal_code: str | None, email: str | None,
    phone: str | None,
) -> School:
    """Create (`existing` None) or update a school in one of the territory's communes."""
    territory_id = _territory(actor)
    if existing is not None and existing.territory_id != territory_id:
        raise RecordNotFound(f"school {existing.id}")
    commune = await session.scalar(select(Commune.id).where(
        Commune.id == commune_id, Commune.territory_id == territory_id))
    if commune is None:
        raise RecordNotFound(f"commune {commune_id}")
    found = existing
    if found is None:
        found = School(territory_id=territory_id)
        session.add(found)
    found.uai, found.name, found.kind, found.status = uai, name, kind, status
    found.commune_id = commune_id
    found.address, found.postal_code, found.email, found.phone = address, postal_code, email, phone
    return found

"""Who an agent is and which tickets they may see: the one scoping rule of pages and API."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from desk.models import Agent, Commune, Organisation, School, Territory, Ticket
from domain.vocabulary import AgentRole, OrgKind


@dataclass(frozen=True, slots=True)
class Actor:
    """A logged-in, active agent as the use cases see them."""

    id: int
    email: str
    name: str
    role: AgentRole
    organisation_id: int
    organisation_name: str
    #: The territory the agent works in: their organisation's, or the one a national
    #: administrator chose (every query of the use cases is scoped by it).
    territory_id: int
    timezone: str = "Europe/Paris"
    #: The slug of that territory ("" when not loaded from the database).
    territory_slug: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role in (AgentRole.ADMIN, AgentRole.NATIONAL_ADMIN)

    @property
    def is_national(self) -> bool:
        """An administrator of every territory (`national_admin`), who may change territory."""
        return self.role is AgentRole.NATIONAL_ADMIN

    @property
    def reads_territory(self) -> bool:
        """An administrator or the plan's coordinator reads the whole territory's tickets."""
        return self.role in (AgentRole.ADMIN, AgentRole.NATIONAL_ADMIN, AgentRole.COORDINATOR)

    @property
    def can_see_reports(self) -> bool:
        return self.role in (AgentRole.SUPERVISOR, AgentRole.ADMIN, AgentRole.NATIONAL_ADMIN,
                             AgentRole.COORDINATOR)


def actor_of(agent: Agent, timezone: str = "Europe/Paris", territory: Territory | None = None) -> Actor:
    """Freeze an agent row (with its organisation loaded) into an Actor working in `territory`
    (their organisation's when None)."""
    return Actor(
        id=agent.id, email=agent.email, name=agent.name, role=AgentRole(agent.role),
        organisation_id=agent.organisation_id, organisation_name=agent.organisation.name,
        territory_id=territory.id if territory is not None else agent.organisation.territory_id,
        timezone=territory.timezone if territory is not None else timezone,
        territory_slug=territory.slug if territory is not None else "",
    )


async def load_actor(session: AsyncSession, agent_id: int, territory: str | None = None,
                     *, session_epoch: int | None = None) -> Actor | None:
    """The active agent with this id, or None (deleted, deactivated, or — when `session_epoch`
    is given — signed out since that session was opened).

    Every agent works in their organisation's territory, except a national administrator, who
    works in `territory` (a slug) when it names one of the database's.
    """
    row = (await session.execute(
        select(Agent, Territory)
        .join(Organisation, Agent.organisation_id == Organisation.id)
        .join(Territory, Organisation.territory_id == Territory.id)
        .options(contains_eager(Agent.organisation))
        .where(Agent.id == agent_id, Agent.active.is_(True),
               *(() if session_epoch is None else (Agent.session_epoch == session_epoch,)))
    )).first()
    if row is None:
        return None
    agent, home = row[0], row[1]
    if territory and territory != home.slug and agent.role == AgentRole.NATIONAL_ADMIN.value:
        chosen = await session.scalar(select(Territory).where(Territory.slug == territory))
        home = chosen or home
    return actor_of(agent, territory=home)


async def territory_choices(session: AsyncSession, actor: Actor) -> list[tuple[str, str]]:
    """(slug, name) of the territories `actor` may work in: every one for a national
    administrator, none otherwise (their territory is their organisation's)."""
    if not actor.is_national:
        return []
    return [(r.slug, r.name) for r in (await session.execute(
        select(Territory.slug, Territory.name).order_by(Territory.name))).all()]


def ticket_scope(actor: Actor) -> ColumnElement[bool]:
    """Tickets `actor` may see: their organisation's, or the whole territory's for an admin or the coordinator."""
    same_territory = Ticket.territory_id == actor.territory_id
    if actor.reads_territory:
        return same_territory
    return and_(same_territory, Ticket.organisation_id == actor.organisation_id)


def scoped_tickets(actor: Actor) -> Select[tuple[Ticket]]:
    """SELECT of the tickets in `actor`'s scope; every ticket read goes through here."""
    return select(Ticket).where(ticket_scope(actor))


async def reads_every_school(session: AsyncSession, actor: Actor) -> bool:
    """The territory's readers (admin, coordinator) and the operator's agents, whose equipment is in
    every school, read every school's reference data and figures."""
    if actor.reads_territory:
        return True
    kind = await session.scalar(select(Organisation.kind).where(Organisation.id == actor.organisation_id))
    return kind == OrgKind.SEM


async def covers_school(session: AsyncSession, actor: Actor, school: School) -> bool:
    """Whether `actor` may print and read a school's reference data (its devices' labels).

    The territory's readers (admin, coordinator) and the operator's agents cover every school of the
    territory; another organisation covers the schools it answers for (the commune's, the OGEC's)
    and those with a ticket in its scope.
    """
    if school.territory_id != actor.territory_id:
        return False
    if await reads_every_school(session, actor):
        return True
    commune_org = await session.scalar(select(Commune.organisation_id).where(Commune.id == school.commune_id))
    if actor.organisation_id in (commune_org, school.ogec_id):
        return True
    return bool(await session.scalar(select(exists().where(Ticket.school_id == school.id, ticket_scope(actor)))))


async def territory_name(session: AsyncSession, actor: Actor) -> str:
    """The name of the actor's territory, as printed documents head their pages."""
    return await session.scalar(select(Territory.name).where(Territory.id == actor.territory_id)) or ""

"""A theft's replacement waits for the declaration, then its clock starts (convention art. 6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from desk.models import Agent, Organisation, SlaClock, Ticket
from desk.repositories import school_by_uai
from desk.security import hash_password
from guichet.demo import load_demo
from domain.vocabulary import Channel, Equipment, Intent
from handlers.agent_actions import AgentActions
from handlers.agent_scope import load_actor
from handlers.context import context_for
from handlers.report import ReportDraft, open_report
from handlers.ticket_status import status_hook

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def test_replacement_clock_starts_when_the_declaration_is_resolved(db) -> None:
    """Opened Monday, declared Wednesday: the 48 h replacement target counts from Wednesday."""
    clock = {"now": MONDAY}
    ctx_for = lambda name: context_for(name, now=lambda: clock["now"])  # noqa: E731
    async with db.sessions.begin() as session:
        await load_demo(session, "sem", assets=10)
        from desk.models import School

        school = await session.scalar(select(School).where(School.status == "public").limit(1))
        school = await school_by_uai(session, school.uai)
        outcome = await open_report(session, ctx_for("sem"), ReportDraft(
            text="on nous a volé deux tablettes cette nuit", intent=Intent.THEFT,
            channel=Channel.WEBCHAT, school_id=school.id, equipment=Equipment.TABLET,
        ))
        commune_org = await session.scalar(
            select(Organisation).where(Organisation.slug == outcome.tickets[0].organisation_slug)
        )
        agent = Agent(organisation_id=commune_org.id, email="mairie@example.fr", name="Mairie",
                      password_hash=hash_password("x"), role="agent")
        session.add(agent)
    declaration_ref, replacement_id = outcome.tickets[0].reference, outcome.tickets[1].ticket_id

    async with db.sessions() as session:
        rows = (await session.scalars(select(SlaClock).where(SlaClock.ticket_id == replacement_id))).all()
        assert rows and all(r.due_at is None for r in rows)  # paused while waiting
        actor = await load_actor(session, agent.id)

    clock["now"] = MONDAY + timedelta(days=2)  # Wednesday 10:00 in Paris
    actions = AgentActions(db.sessions, on_status_change=status_hook(ctx_for))
    await actions.resolve(actor, declaration_ref, "Déclaration faite à l'assureur et plainte déposée.")

    async with db.sessions() as session:
        replacement = await session.get(Ticket, replacement_id)
        assert replacement.status == "new"
        target = await session.scalar(select(SlaClock.due_at).where(
            SlaClock.ticket_id == replacement_id, SlaClock.threshold == "target"))
        assert target == clock["now"] + timedelta(hours=48)


async def test_replacements_waiting_before_on_hold_existed_move_to_on_hold(db) -> None:
    """Migration 0007: a replacement left in `waiting` by an earlier version (it read « En attente du
    demandeur ») is `on_hold` after the upgrade; other waiting tickets stay waiting."""
    from sqlalchemy import update

    from desk.migrate import downgrade, upgrade

    async with db.sessions.begin() as session:
        await load_demo(session, "sem", assets=10)
        from desk.models import School

        school = await session.scalar(select(School).where(School.status == "public").limit(1))
        outcome = await open_report(session, context_for("sem", now=lambda: MONDAY), ReportDraft(
            text="on nous a volé deux tablettes cette nuit", intent=Intent.THEFT,
            channel=Channel.WEBCHAT, school_id=school.id, equipment=Equipment.TABLET,
        ))
        other = await open_report(session, context_for("sem", now=lambda: MONDAY), ReportDraft(
            text="le vidéoprojecteur ne s'allume plus", intent=Intent.HARDWARE_FAILURE,
            channel=Channel.WEBCHAT, school_id=school.id, equipment=Equipment.PROJECTOR,
        ))
        await session.execute(update(Ticket).where(Ticket.id == other.tickets[0].ticket_id).values(status="waiting"))
    replacement_id = outcome.tickets[1].ticket_id

    async def statuses() -> tuple[str, str]:
        async with db.sessions() as session:
            # Columns, not rows: at revision 0006 the table lacks the later columns of the model.
            return (await session.scalar(select(Ticket.status).where(Ticket.id == replacement_id)),
                    await session.scalar(select(Ticket.status).where(Ticket.id == other.tickets[0].ticket_id)))

    assert await statuses() == ("on_hold", "waiting")
    await downgrade(db.engine, "0006")
    assert await statuses() == ("waiting", "waiting")
    await upgrade(db.engine)
    assert await statuses() == ("on_hold", "waiting")

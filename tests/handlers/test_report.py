"""Opening a report: routing to the right organisation, SLA clocks, linked theft tickets, the answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from desk.models import Organisation, OutboxMessage, SlaClock, Ticket
from desk.repositories import ensure_requester, school_by_uai, ticket_by_reference
from guichet.demo import load_demo
from domain.vocabulary import Channel, Equipment, Intent
from handlers.context import context_for
from handlers.report import NotATicket, ReportDraft, TriedArticle, open_report

# Friday 20 November 2026, 10:00 in Paris.
FRIDAY = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


async def _school(session, private: bool = False):
    await load_demo(session, "sem", assets=30)
    from desk.models import School

    school = await session.scalar(
        select(School).where(School.status == ("private" if private else "public"))
        .order_by(School.id).limit(1)
    )
    return await school_by_uai(session, school.uai)


async def test_plan_projector_goes_to_sem_with_replacement_date(db) -> None:
    """A broken projector at a public school opens one SEM ticket due Tuesday 10:00."""
    ctx = context_for("sem", now=lambda: FRIDAY)
    async with db.sessions.begin() as session:
        school = await _school(session)
        requester = await ensure_requester(session, school.territory_id, "webchat", "s1",
                                           school_id=school.id)
        outcome = await open_report(session, ctx, ReportDraft(
            text="le vidéoprojecteur de la classe de CM2 ne s'allume plus",
            intent=Intent.HARDWARE_FAILURE, channel=Channel.WEBCHAT, requester_id=requester.id,
            school_id=school.id, equipment=Equipment.PROJECTOR, room="CM2",
        ))
    assert len(outcome.tickets) == 1
    opened = outcome.tickets[0]
    assert opened.organisation_slug == "sem"
    assert opened.due.target == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert opened.reference in outcome.message
    assert "Saint-Étienne Métropole" in outcome.message
    assert "le mardi 24 novembre avant 12 h" in outcome.message
    async with db.sessions() as session:
        ticket = await ticket_by_reference(session, school.territory_id, opened.reference)
        assert ticket.sla_policy == "replacement" and ticket.room == "CM2"
        clocks = (await session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id))).all()
        assert {c.threshold for c in clocks} >= {"target", "breach"}


async def test_consumables_go_to_the_commune(db) -> None:
    """Toner is the commune's (art. 7), routed to the school's own commune."""
    ctx = context_for("sem", now=lambda: FRIDAY)
    async with db.sessions.begin() as session:
        school = await _school(session)
        outcome = await open_report(session, ctx, ReportDraft(
            text="plus de toner", intent=Intent.CONSUMABLES, channel=Channel.EMAIL,
            school_id=school.id, equipment=Equipment.PRINTER,
        ))
    assert outcome.tickets[0].organisation_slug == school.commune.organisation.slug


async def test_theft_opens_declaration_then_on_hold_replacement(db) -> None:
    """A theft opens the school authority's declaration and a linked SEM replacement that waits."""
    ctx = context_for("sem", now=lambda: FRIDAY)
    async with db.sessions.begin() as session:
        school = await _school(session, private=True)
        outcome = await open_report(session, ctx, ReportDraft(
            text="cambriolage cette nuit, 3 tablettes volées", intent=Intent.THEFT,
            channel=Channel.TELEGRAM, school_id=school.id, equipment=Equipment.TABLET,
        ))
    declaration, replacement = outcome.tickets
    assert declaration.organisation_slug.startswith("ogec-")
    assert declaration.sla == "declaration" and replacement.sla == "replacement"
    assert replacement.organisation_slug == "sem"
    assert "d'ici le " in outcome.message and " à " not in outcome.message.split("d'ici")[1].split("(")[0]
    async with db.sessions() as session:
        first = await session.get(Ticket, declaration.ticket_id)
        second = await session.get(Ticket, replacement.ticket_id)
        assert first.checklist["police_report"] is False
        assert first.linked_ticket_id == second.id and second.linked_ticket_id == first.id
        assert second.status == "on_hold"  # waits on the declaration, not on the teacher


async def test_the_replacement_keeps_the_teachers_own_words(db) -> None:
    """Both tickets of a theft carry the teacher's text as she wrote it; only the agents' e-mail names the link."""
    ctx = context_for("sem", now=lambda: FRIDAY)
    text = "cambriolage cette nuit, 3 tablettes volées"
    async with db.sessions.begin() as session:
        school = await _school(session)
        sem = await session.scalar(select(Organisation).where(Organisation.slug == "sem"))
        sem.email = "support@sem.test"
        outcome = await open_report(session, ctx, ReportDraft(
            text=text, intent=Intent.THEFT, channel=Channel.TELEGRAM, school_id=school.id,
            equipment=Equipment.TABLET,
        ))
    declaration, replacement = outcome.tickets
    async with db.sessions() as session:
        for opened in (declaration, replacement):
            ticket = await ticket_by_reference(session, school.territory_id, opened.reference)
            assert ticket.description == text
            assert [e.body for e in ticket.events if e.kind == "message"] == [text]
        mail = await session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "support@sem.test"))
    assert mail.body == (f"Nouvelle demande {replacement.reference} pour Saint-Étienne Métropole "
                         f"(suite de la demande {declaration.reference}) :\n\n{text}")


async def test_tried_tutorials_are_named_by_their_titles(db) -> None:
    """The « kb » event names the tried tutorials by title for people, by slug in its data, as the teacher's."""
    ctx = context_for("sem", now=lambda: FRIDAY)
    async with db.sessions.begin() as session:
        school = await _school(session)
        requester = await ensure_requester(session, school.territory_id, "webchat", "s1", school_id=school.id)
        outcome = await open_report(session, ctx, ReportDraft(
            text="le vidéoprojecteur ne s'allume plus", intent=Intent.HARDWARE_FAILURE,
            channel=Channel.WEBCHAT, requester_id=requester.id, school_id=school.id,
            equipment=Equipment.PROJECTOR,
            tried_articles=(TriedArticle("projector-wont-turn-on", "Le vidéoprojecteur ne s'allume pas"),),
        ))
    async with db.sessions() as session:
        ticket = await ticket_by_reference(session, school.territory_id, outcome.reference)
    (event,) = [e for e in ticket.events if e.kind == "kb"]
    assert event.body == "Tutoriel(s) essayé(s) sans succès : Le vidéoprojecteur ne s'allume pas"
    assert event.data == {"articles": ["projector-wont-turn-on"]}
    assert (event.actor_kind, event.actor_id) == ("requester", requester.id)


async def test_howto_opens_no_ticket(db) -> None:
    """The rules say a how-to question is answered with a tutorial, not a ticket."""
    ctx = context_for("sem", now=lambda: FRIDAY)
    async with db.sessions.begin() as session:
        school = await _school(session)
        with pytest.raises(NotATicket):
            await open_report(session, ctx, ReportDraft(
                text="comment brancher mon portable au VP ?", intent=Intent.HOWTO,
                channel=Channel.WEBCHAT, school_id=school.id,
            ))


async def test_known_asset_decides_owner_and_school(db) -> None:
    """With an asset tag, the inventory gives the school, the room and the owner."""
    ctx = context_for("sem", now=lambda: FRIDAY)
    async with db.sessions.begin() as session:
        await _school(session)
        from desk.models import Asset

        asset = await session.scalar(select(Asset).where(Asset.owner == "commune").limit(1))
        outcome = await open_report(session, ctx, ReportDraft(
            text="ne marche plus", intent=Intent.HARDWARE_FAILURE, channel=Channel.WEBCHAT,
            asset_tag=asset.tag.lower(),
        ))
        ticket = await session.get(Ticket, outcome.tickets[0].ticket_id)
        assert ticket.asset_id == asset.id and ticket.school_id == asset.school_id
        assert outcome.tickets[0].organisation_slug.startswith("commune-")


async def test_a_report_gets_the_priority_of_its_scope(db) -> None:
    """« toute l'école » opens a priority-1 ticket; one projector stays at the default 3."""
    from domain.impact import Impact

    ctx = context_for("sem", now=lambda: FRIDAY)
    async with db.sessions.begin() as session:
        school = await _school(session)
        wide = await open_report(session, ctx, ReportDraft(
            text="plus d'internet dans toute l'école depuis ce matin", intent=Intent.NETWORK_OUTAGE,
            channel=Channel.EMAIL, school_id=school.id,
        ))
        one = await open_report(session, ctx, ReportDraft(
            text="le vidéoprojecteur de la classe de CP ne s'allume plus", intent=Intent.HARDWARE_FAILURE,
            channel=Channel.EMAIL, school_id=school.id, equipment=Equipment.PROJECTOR,
        ))
    async with db.sessions() as session:
        assert (await session.get(Ticket, wide.tickets[0].ticket_id)).priority == Impact.SCHOOL
        assert (await session.get(Ticket, one.tickets[0].ticket_id)).priority == Impact.DEVICE

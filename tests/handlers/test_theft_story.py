"""Theft story details (issue: a director told to warn her director; equipment past the age
limit announced both « ne sera pas remplacé » and « remplacera », with a replacement ticket)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from desk.models import Asset, School, Ticket, TicketEvent
from domain.vocabulary import Channel, Equipment, Intent
from guichet.demo import load_demo
from handlers.context import context_for
from handlers.report import ReportDraft, ReportOutcome, open_report
from handlers.theft import TheftChecklist, theft_checklist

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def _asset(db, *, acquired: date) -> tuple[School, Asset]:
    async with db.sessions.begin() as session:
        await load_demo(session, "sem", assets=20)
        asset, school = (await session.execute(
            select(Asset, School).join(School, Asset.school_id == School.id)
            .where(School.status == "public", Asset.type == "tablet").limit(1))).one()
        asset.acquired_on = acquired
        return school, asset


async def _theft_reported(db, school: School, asset: Asset, *, role: str) -> tuple[ReportOutcome, TheftChecklist]:
    """The tablet reported stolen by a teacher or a director, and the checklist she is given."""
    ctx = context_for("sem", now=lambda: NOW)
    async with db.sessions.begin() as session:
        outcome = await open_report(session, ctx, ReportDraft(
            text="on nous a volé la tablette cette nuit", intent=Intent.THEFT, channel=Channel.WEBCHAT,
            school_id=school.id, equipment=Equipment.TABLET, asset_tag=asset.tag,
        ))
        steps = await theft_checklist(session, ctx, outcome, intent=Intent.THEFT, territory_id=school.territory_id,
                                      asset_tag=asset.tag, today=NOW.date(), requester_role=role)
    return outcome, steps


async def test_equipment_past_the_age_limit_opens_no_replacement(db) -> None:
    school, asset = await _asset(db, acquired=date(2019, 9, 1))  # 7 civil years before 2026
    outcome, steps = await _theft_reported(db, school, asset, role="director")
    assert len(outcome.tickets) == 1
    assert "ne sera pas remplacé" in outcome.message and "remplacera" not in outcome.message
    assert not steps.replaced and "remplacera" not in steps.text and "commande et installe" not in steps.text
    assert "Prévenez la mairie" in steps.text and "votre directeur" not in steps.text
    async with db.sessions() as session:
        (ticket,) = (await session.scalars(select(Ticket))).all()
        notes = (await session.scalars(select(TicketEvent.body).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "note"))).all()
    assert any("plus de 6 ans" in n for n in notes)


async def test_equipment_within_the_limit_gets_its_replacement_and_rate(db) -> None:
    school, asset = await _asset(db, acquired=date(2025, 3, 1))  # N-1: 80 %
    outcome, steps = await _theft_reported(db, school, asset, role="teacher")
    assert len(outcome.tickets) == 2 and steps.replaced
    assert "la participation serait de 80 %" in steps.text and "Prévenez votre directeur·rice" in steps.text

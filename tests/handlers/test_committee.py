"""The committee's bimonthly review against a hand-computed fixture: two periods, three communes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from desk import repositories as repo
from desk.models import Agent, Asset, ClaimLine, ClaimStepRecord, Commune, Organisation, School, Territory
from desk.security import hash_password
from guichet.demo import load_demo
from handlers.agent_scope import load_actor
from handlers.committee import Period, committee_review, review_csv

NOW = datetime(2026, 11, 15, 10, tzinfo=UTC)


def test_periods_are_two_calendar_months() -> None:
    assert Period.parse("2026-09/2026-10") == Period(2026, 9)
    assert Period.parse("2026-09/2026-10").label == "septembre-octobre 2026"
    assert Period(2026, 1).previous() == Period(2025, 11) and Period(2025, 11).end == date(2026, 1, 1)
    assert Period.last_complete(date(2026, 11, 15)) == Period(2026, 9)
    assert Period.last_complete(date(2026, 1, 3)) == Period(2025, 11)
    for bad in ("2026-10/2026-11", "2026-09/2026-11", "2026-12/2027-01", "septembre", ""):
        with pytest.raises(ValueError):
            Period.parse(bad)


async def _fixture(db) -> tuple[int, dict[str, str], dict[str, str]]:
    """Three schools in three communes; thefts and damages in September-October and in July-August."""
    async with db.sessions.begin() as s:
        await load_demo(s, "sem", assets=0)
        territory = await s.scalar(select(Territory))
        communes = (await s.scalars(
            select(Commune).join(School, School.commune_id == Commune.id).group_by(Commune.id)
            .having(func.count(School.id) >= 1).order_by(Commune.name).limit(3))).all()
        schools = [await s.scalar(select(School).where(School.commune_id == c.id).order_by(School.id).limit(1))
                   for c in communes]
        sem = await s.scalar(select(Organisation).where(Organisation.slug == "sem"))
        for i, school in enumerate(schools):  # 10, 20 and 0 devices of the plan
            for n in range(10 * i + 10 if i < 2 else 0):
                s.add(Asset(territory_id=territory.id, tag=f"SEM-9{i}{n:04d}", type="tablet", school_id=school.id))
        plan = [  # (school, intent, opened)
            (0, "theft", datetime(2026, 9, 2, 8, tzinfo=UTC)), (0, "theft", datetime(2026, 9, 20, 8, tzinfo=UTC)),
            (0, "damage", datetime(2026, 10, 31, 21, tzinfo=UTC)),  # 31 Oct 22:00 in Paris: September-October
            (1, "damage", datetime(2026, 10, 1, 8, tzinfo=UTC)),
            (1, "theft", datetime(2026, 8, 30, 8, tzinfo=UTC)), (2, "theft", datetime(2026, 7, 10, 8, tzinfo=UTC)),
            (2, "theft", datetime(2026, 10, 31, 23, 30, tzinfo=UTC)),  # 1 Nov 00:30 in Paris: next period
        ]
        refs = {}
        for n, (i, intent, opened) in enumerate(plan):
            ticket = await repo.create_ticket(s, territory=territory, organisation=sem, intent=intent,
                                              role="school_authority", subject=f"Sinistre {n}", school=schools[i],
                                              sla_policy="declaration", opened_at=opened)
            refs[str(n)] = ticket.reference
            s.add(ClaimLine(ticket_id=ticket.id, equipment="tablet", rate=80, refund_cents=10_000 * (n + 1)))
            if n == 0:  # paid: not in progress any more
                s.add(ClaimStepRecord(ticket_id=ticket.id, step="payment_received", done_on=date(2026, 10, 1)))
            if n == 1:  # complete on 1 Oct 2025... and never paid: overdue
                for step in ("insurer_declared", "police_declared", "complaint_filed", "statement_sent"):
                    s.add(ClaimStepRecord(ticket_id=ticket.id, step=step, done_on=date(2026, 9, 21)))
        admin = Agent(organisation_id=sem.id, email="admin@guichet.test", name="Admin",
                      password_hash=hash_password("x"), role="admin")
        s.add(admin)
        await s.flush()
        names = {str(i): c.name for i, c in enumerate(communes)}
    return admin.id, names, refs


async def test_review_figures_match_the_hand_computed_fixture(db) -> None:
    admin_id, world, refs = await _fixture(db)
    async with db.sessions() as s:
        actor = await load_actor(s, admin_id)
        review = await committee_review(s, actor, Period(2026, 9), now=datetime(2027, 10, 1, tzinfo=UTC))
    rows = {row.commune: row for row in review.communes}
    first, second, third = rows[world["0"]], rows[world["1"]], rows[world["2"]]
    assert (first.thefts, first.damages, first.previous, first.assets, first.per_100_assets) == (2, 1, 0, 10, 30.0)
    assert (second.thefts, second.damages, second.previous, second.assets) == (0, 1, 1, 20)
    assert second.per_100_assets == 5.0
    assert (third.incidents, third.previous, third.per_100_assets) == (0, 1, None)
    assert review.total == 4 and review.previous_total == 2
    assert [row.commune for row in review.communes][0] == world["0"]  # most incidents first
    assert [(u[3]) for u in review.unusual_schools] == [3]  # threshold 3 of the territory file
    # seven files, one paid: six in progress; the complete one unpaid a year later is overdue
    assert review.files_in_progress == 6
    assert review.refunds_in_progress_cents == sum(10_000 * (n + 1) for n in range(1, 7))
    assert [f.ticket.reference for f in review.overdue_files] == [refs["1"]]
    assert review.refunds_overdue_cents == 20_000
    late = {f.ticket.reference: [step.step.value for step in f.late] for f in review.late_files}
    assert late.pop(refs["1"]) == ["payment_received"]  # a year after the complete file
    assert len(late) == 5 and all(steps[:3] == ["insurer_declared", "police_declared", "complaint_filed"]
                                  for steps in late.values())  # never declared within 48 h

    text = review_csv(review)
    assert text.startswith("\ufeffPériode;Commune;Vols;Dégradations;Total;")
    per_school = f"{3 / first.schools:.2f}".replace(".", ",")
    assert f"septembre-octobre 2026;{world['0']};2;1;3;{first.schools};{per_school};10;30,00;0\r\n" in text
    assert f"septembre-octobre 2026;{world['2']};0;0;0;{third.schools};0,00;0;;1\r\n" in text


async def test_a_commune_agent_sees_only_its_own_files(db) -> None:
    await _fixture(db)
    async with db.sessions.begin() as s:
        commune = await s.scalar(select(Organisation).where(Organisation.kind == "commune").order_by(Organisation.id))
        agent = Agent(organisation_id=commune.id, email="chef@mairie.test", name="Chef",
                      password_hash=hash_password("x"), role="supervisor")
        s.add(agent)
    async with db.sessions() as s:
        review = await committee_review(s, await load_actor(s, agent.id), Period(2026, 9), now=NOW)
    assert review.total == 0 and review.files_in_progress == 0  # all the fixture's files are the operator's

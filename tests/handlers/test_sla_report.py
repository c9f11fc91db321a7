"""Commitments kept per month, commitment and organisation, against a hand-made set of tickets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from desk import repositories as repo
from desk.models import Agent, Commune, Organisation, School, SlaClock, Territory
from desk.security import hash_password
from guichet.demo import load_demo
from handlers.agent_scope import load_actor
from handlers.sla_report import compliance, compliance_by_commune, compliance_csv, month_label

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


async def test_met_breached_running_and_medians(db) -> None:
    async with db.sessions.begin() as s:
        await load_demo(s, "sem", assets=0)
        territory = await s.scalar(select(Territory))
        sem = await s.scalar(select(Organisation).where(Organisation.slug == "sem"))
        school = await s.scalar(select(School).order_by(School.id).limit(1))
        admin = Agent(organisation_id=sem.id, email="admin@guichet.test", name="Admin",
                      password_hash=hash_password("x"), role="admin")
        s.add(admin)
        await s.flush()

        async def ticket(opened: datetime, *, resolved_after: float | None = None, breached: bool = False,
                         answered_after: float | None = None, status: str = "new"):
            t = await repo.create_ticket(s, territory=territory, organisation=sem, intent="hardware_failure",
                                         role="operator", subject="Panne", school=school,
                                         sla_policy="replacement", opened_at=opened)
            if resolved_after is not None:
                t.status, t.resolved_at = "resolved", opened + timedelta(hours=resolved_after)
            else:
                t.status = status
            if breached:
                s.add(SlaClock(ticket_id=t.id, policy="replacement", threshold="breach", fired=True,
                               deadline=opened + timedelta(hours=72)))
            if answered_after is not None:
                await repo.add_event(s, t, "reply", body="Un technicien passe demain.", actor_kind="agent",
                                     actor_id=admin.id, at=opened + timedelta(hours=answered_after))

        october = datetime(2026, 10, 5, 9, tzinfo=UTC)
        await ticket(october, resolved_after=30, answered_after=2)
        await ticket(october, resolved_after=50, answered_after=4)
        await ticket(october, resolved_after=100, breached=True, answered_after=6)
        await ticket(october, breached=True)  # still open, already late
        await ticket(datetime(2026, 11, 2, 9, tzinfo=UTC))  # running
        await ticket(datetime(2026, 11, 3, 9, tzinfo=UTC), status="cancelled")  # not counted
        await ticket(datetime(2026, 3, 1, 9, tzinfo=UTC), resolved_after=1)  # outside six months
        commune = await s.scalar(select(Commune.name).where(Commune.id == school.commune_id))
    async with db.sessions() as s:
        rows = await compliance(s, await load_actor(s, admin.id), months=6, now=NOW)
        communes = await compliance_by_commune(s, await load_actor(s, admin.id), months=6, now=NOW)
    # Per commune of the school, over the six months: the same tickets in one row.
    assert [(r.commune, r.met, r.breached, r.running, r.rate) for r in communes] == [(commune, 2, 2, 1, 0.5)]
    assert communes[0].first_answer_hours == 4.0 and communes[0].resolution_hours == 50.0
    assert [(r.month, r.met, r.breached, r.running) for r in rows] == [("2026-11", 0, 0, 1), ("2026-10", 2, 2, 0)]
    october_row = rows[1]
    assert october_row.rate == 0.5 and october_row.first_answer_hours == 4.0 and october_row.resolution_hours == 50.0
    assert october_row.policy_label.startswith("Remplacement") and october_row.organisation == sem.name
    assert month_label("2026-10") == "octobre 2026"
    text = compliance_csv(rows)
    assert text.startswith("\ufeffMois;Engagement;Organisation;Tenus;Dépassés;En cours;")
    assert f"octobre 2026;Remplacement (48 h, 72 h au plus);{sem.name};2;2;0;50;4,0;50,0\r\n" in text

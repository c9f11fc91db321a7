"""The claim file of a theft end to end (convention 2023-2027 art. 6): two tablets → the commune's
declaration with one line per device and its refund → dated steps, late ones, the commitment form →
SEM's steps from its replacement ticket → the complete file and the payment's year."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from desk.models import Agent, Asset, ClaimLine, Organisation, School, Territory, Ticket, TicketEvent
from desk.security import hash_password
from domain.vocabulary import Channel, Equipment, Intent
from guichet.demo import load_demo
from handlers.agent_actions import ActionRefused, AgentActions
from handlers.agent_scope import load_actor
from handlers.claims import claim_file_for
from handlers.context import context_for
from handlers.report import ReportDraft, open_report

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def _theft(db, text: str, *, acquired: date, value_cents: int) -> tuple[str, str, dict[str, int]]:
    """A theft at a public school of the demo, its tag known; the agents of both sides."""
    async with db.sessions.begin() as session:
        await load_demo(session, "sem", assets=0)
        territory = await session.scalar(select(Territory))
        school = await session.scalar(select(School).where(School.status == "public").order_by(School.id).limit(1))
        asset = Asset(territory_id=territory.id, tag="SEM-777001", type="tablet", school_id=school.id,
                      owner="sem", acquired_on=acquired, value_cents=value_cents)
        session.add(asset)
        await session.flush()
        outcome = await open_report(session, context_for("sem", now=lambda: MONDAY), ReportDraft(
            text=text, intent=Intent.THEFT, channel=Channel.WEBCHAT, school_id=school.id,
            equipment=Equipment.TABLET, asset_tag="SEM-777001",
        ))
        agents = {}
        for slug in (outcome.tickets[0].organisation_slug, "sem"):
            org = await session.scalar(select(Organisation).where(Organisation.slug == slug))
            agent = Agent(organisation_id=org.id, email=f"{slug}@guichet.test", name=f"Agent {slug}",
                          password_hash=hash_password("x"), role="agent")
            session.add(agent)
            await session.flush()
            agents["sem" if slug == "sem" else "commune"] = agent.id
    replacement = outcome.tickets[1].reference if len(outcome.tickets) > 1 else ""
    return outcome.tickets[0].reference, replacement, agents


async def _file(db, reference: str, now: datetime):
    async with db.sessions() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.reference == reference))
        return await claim_file_for(session, ticket, now)


async def _actor(db, agent_id: int):
    async with db.sessions() as session:
        return await load_actor(session, agent_id)


async def test_two_tablets_give_two_lines_and_the_named_one_its_refund(db) -> None:
    declaration, replacement, _ = await _theft(
        db, "on nous a volé deux tablettes cette nuit, dont la SEM-777001", acquired=date(2025, 9, 1), value_cents=29_000)
    claim = await _file(db, declaration, MONDAY)
    assert [(line.tag, line.rate, line.refund_cents) for line in claim.lines] == [
        ("SEM-777001", 80, 23_200), (None, None, None)]
    assert claim.refund_cents == 23_200 and claim.unknown_amounts == 1
    assert [s.step.value for s in claim.steps][:3] == ["insurer_declared", "police_declared", "complaint_filed"]
    assert all(s.due_on == date(2026, 11, 25) and not s.late for s in claim.steps[:3])
    # SEM reads the same file from its replacement ticket
    assert (await _file(db, replacement, MONDAY)).ticket.reference == declaration


async def test_steps_are_dated_signed_once_and_late_ones_show(db) -> None:
    declaration, replacement, agents = await _theft(
        db, "vol de la tablette SEM-777001", acquired=date(2024, 1, 10), value_cents=30_000)
    commune = await _actor(db, agents["commune"])
    actions = AgentActions(db.sessions)
    late = await _file(db, declaration, MONDAY + timedelta(days=3))
    assert [s.step.value for s in late.late] == ["insurer_declared", "police_declared", "complaint_filed"]

    today = datetime.now(UTC).date()
    await actions.claim_step(commune, declaration, "insurer_declared", today.isoformat(), "Déclaration AXA n° 12", {})
    with pytest.raises(ActionRefused, match="déjà enregistrée"):
        await actions.claim_step(commune, declaration, "insurer_declared", today.isoformat(), "", {})
    with pytest.raises(ActionRefused, match="futur"):
        await actions.claim_step(commune, declaration, "police_declared", (today + timedelta(days=2)).isoformat(), "", {})
    with pytest.raises(ActionRefused, match="montant"):
        await actions.claim_step(commune, declaration, "commitment_form", today.isoformat(), "",
                                 {"amount": "beaucoup", "payment_mode": "insurer_direct", "planned_on": "2027-03-01"})
    with pytest.raises(ActionRefused, match="étape"):
        await actions.claim_step(commune, declaration, "lunch", today.isoformat(), "", {})
    await actions.claim_step(commune, declaration, "commitment_form", today.isoformat(), "",
                             {"amount": "1 180,50", "payment_mode": "through_authority", "planned_on": "2027-03-01"})

    claim = await _file(db, declaration, datetime.now(UTC))
    by_step = {s.step.value: s for s in claim.steps}
    assert by_step["insurer_declared"].done_on == today and by_step["insurer_declared"].agent_name.startswith("Agent")
    assert by_step["insurer_declared"].note == "Déclaration AXA n° 12"
    assert by_step["commitment_form"].data == {"amount_cents": 118_050, "payment_mode": "through_authority",
                                               "planned_on": "2027-03-01"}
    assert "montant estimé 1\u202f180,50\u00a0€" in by_step["commitment_form"].details
    async with db.sessions() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.reference == declaration))
        events = (await session.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "claim_step"))).all()
    assert [e.data["step"] for e in events] == ["insurer_declared", "commitment_form"]
    assert events[0].body.startswith("Déclaration à l'assureur le ") and events[0].internal

    # SEM records its own steps from its replacement ticket; the file becomes complete
    sem = await _actor(db, agents["sem"])
    for step in ("police_declared", "complaint_filed"):
        await actions.claim_step(commune, declaration, step, today.isoformat(), "", {})
    for step in ("replacement_ordered", "replacement_installed", "statement_sent"):
        await actions.claim_step(sem, replacement, step, today.isoformat(), "", {})
    claim = await _file(db, declaration, datetime.now(UTC))
    assert claim.complete_on == today and claim.payment_due_on == today + timedelta(days=365)
    assert not claim.late
    await actions.claim_step(sem, replacement, "goods_recovered", today.isoformat(), "", {"after_payment": "1"})
    claim = await _file(db, declaration, datetime.now(UTC))
    assert claim.recovery_request_until == today + timedelta(days=15)


async def test_equipment_past_the_age_limit_is_a_line_not_replaced(db) -> None:
    declaration, replacement, _ = await _theft(
        db, "vol de la tablette SEM-777001", acquired=date(2019, 1, 1), value_cents=40_000)
    assert replacement == ""  # no replacement task
    claim = await _file(db, declaration, MONDAY)
    assert [(line.replaced, line.refund_cents) for line in claim.lines] == [(False, None)]
    async with db.sessions() as session:
        assert (await session.scalar(select(ClaimLine))).replaced is False


async def test_a_line_is_completed_by_its_tag_or_its_value(db) -> None:
    """« deux tablettes »: the second line gets its device's tag (the inventory gives value and date), or a
    value and an acquisition date typed by the agent; the refund is computed again; errors in French."""
    declaration, _, agents = await _theft(
        db, "on nous a volé deux tablettes, dont la SEM-777001", acquired=date(2025, 9, 1), value_cents=29_000)
    commune = await _actor(db, agents["commune"])
    actions = AgentActions(db.sessions)
    claim = await _file(db, declaration, MONDAY)
    second = claim.lines[1].id
    with pytest.raises(ActionRefused, match="SEM-000000"):
        await actions.claim_line(commune, declaration, second, "sem-000000", "", "")
    with pytest.raises(ActionRefused, match="valeur du matériel"):
        await actions.claim_line(commune, declaration, second, "", "cher", "2024-01-01")
    with pytest.raises(ActionRefused, match="date d'acquisition"):
        await actions.claim_line(commune, declaration, second, "", "250", "hier")
    await actions.claim_line(commune, declaration, second, "", "250,00", "2024-03-01")
    claim = await _file(db, declaration, MONDAY)
    assert [(line.rate, line.refund_cents) for line in claim.lines] == [(80, 23_200), (60, 15_000)]
    assert claim.refund_cents == 38_200 and claim.unknown_amounts == 0
    result = await actions.claim_line(commune, declaration, claim.lines[0].id, "", "500", "2015-01-01")
    assert "plus de six ans" in result.message
    claim = await _file(db, declaration, MONDAY)
    assert claim.lines[0].replaced is False and claim.refund_cents == 15_000


async def test_the_installed_device_makes_the_statement_and_the_payment_closes_the_file(db) -> None:
    """The end of art. 6: SEM installs the new tablet (its tag and new value), its statement for the
    commune lists it, the commune's payment is the last step: nothing is late or in progress."""
    from handlers.claim_statement import statement_for
    from handlers.committee import Period, committee_review

    declaration, replacement, agents = await _theft(
        db, "vol de la tablette SEM-777001", acquired=date(2024, 1, 10), value_cents=30_000)
    commune, sem = await _actor(db, agents["commune"]), await _actor(db, agents["sem"])
    actions = AgentActions(db.sessions)
    today = datetime.now(UTC).date().isoformat()
    line = (await _file(db, declaration, datetime.now(UTC))).lines[0]
    with pytest.raises(ActionRefused, match="futur"):
        await actions.claim_install(sem, replacement, line.id, "SEM-777002", "320", "2099-01-01")
    with pytest.raises(ActionRefused, match="introuvable"):
        await actions.claim_install(sem, replacement, line.id + 99, "SEM-777002", "320", today)
    await actions.claim_install(sem, replacement, line.id, "sem-777002", "320", today)
    async with db.sessions() as session:
        statement = await statement_for(session, sem, replacement)
    assert statement.reference == declaration and statement.complete
    assert [(l.tag, l.refund_cents, l.new_tag, l.new_value_cents) for l in statement.lines] == [
        ("SEM-777001", 18_000, "SEM-777002", 32_000)]  # 2024 against 2026: N-2, 60 %
    assert statement.authority.startswith("Commune de ") and statement.operator == "Saint-Étienne Métropole"

    for step in ("insurer_declared", "police_declared", "complaint_filed"):
        await actions.claim_step(commune, declaration, step, today, "", {})
    for step in ("replacement_ordered", "replacement_installed", "statement_sent"):
        await actions.claim_step(sem, replacement, step, today, "", {})
    await actions.claim_step(commune, declaration, "payment_received", today, "Mandat n° 2026-118", {})
    claim = await _file(db, declaration, datetime.now(UTC))
    assert not claim.late and {s.step.value for s in claim.steps if s.done_on} >= {"payment_received", "statement_sent"}
    async with db.sessions() as session:
        review = await committee_review(session, sem, Period.containing(MONDAY.date()))
    assert review.files_in_progress == 0 and review.refunds_in_progress_cents == 0


async def test_a_line_device_is_marked_stolen_from_the_file_on_either_side(db) -> None:
    """« Marquer volé »: from SEM's replacement ticket, the named tablet becomes stolen with the declaration's
    reference as the reason and a line in the file's timeline; the line says so; a line without a tag, a
    second time, and another organisation's agent are refused or 404."""
    from desk.errors import RecordNotFound
    from desk.models import AssetEvent

    declaration, replacement, agents = await _theft(
        db, "on nous a volé deux tablettes, dont la SEM-777001", acquired=date(2025, 9, 1), value_cents=29_000)
    sem, commune = await _actor(db, agents["sem"]), await _actor(db, agents["commune"])
    actions = AgentActions(db.sessions)
    first, second = (line.id for line in (await _file(db, declaration, MONDAY)).lines)
    with pytest.raises(ActionRefused, match="Indiquez d'abord l'étiquette"):
        await actions.claim_mark_stolen(commune, declaration, second)
    result = await actions.claim_mark_stolen(sem, replacement, first)
    assert result.message == f"Matériel SEM-777001 déclaré volé : son carnet de bord renvoie au dossier {declaration}."
    claim = await _file(db, declaration, MONDAY)
    assert [line.asset_status for line in claim.lines] == ["stolen", None]
    async with db.sessions() as session:
        event = await session.scalar(select(AssetEvent))
        ticket = await session.scalar(select(Ticket).where(Ticket.reference == declaration))
        bodies = (await session.scalars(select(TicketEvent.body).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "claim_line"))).all()
    assert (event.kind, event.body, event.data["ticket"]) == ("stolen", f"Dossier de sinistre {declaration}", declaration)
    assert "Matériel SEM-777001 déclaré volé dans l'inventaire" in bodies
    with pytest.raises(ActionRefused, match="déjà ce statut"):
        await actions.claim_mark_stolen(commune, declaration, first)
    with pytest.raises(RecordNotFound):
        await actions.claim_mark_stolen(sem, declaration, first)  # the declaration is the commune's ticket

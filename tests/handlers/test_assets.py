"""The inventory's use cases: who sees a device, and its logbook after a ticket, a move, a note and a retirement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from desk.errors import RecordNotFound
from desk.models import Agent, Asset, AssetEvent, Commune, Requester, School
from domain.vocabulary import AssetStatus, Channel, Equipment, Intent
from guichet.demo import load_demo
from handlers import assets
from handlers.agent_actions import AgentActions
from handlers.agent_scope import Actor, load_actor
from handlers.context import context_for
from handlers.report import ReportDraft, open_report

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass
class Fleet:
    admin: Actor
    sem: Actor
    firminy: Actor
    saint_etienne: Actor
    rectorat: Actor
    firminy_school: School
    other_firminy_school: School
    sem_tag: str
    commune_tag: str


async def _actor(session: Any, email: str) -> Actor:
    agent = await session.scalar(select(Agent).where(Agent.email == email))
    actor = await load_actor(session, agent.id)
    assert actor is not None
    return actor


async def _public_schools(session: Any, commune: str) -> list[School]:
    return list((await session.scalars(
        select(School).join(Commune, School.commune_id == Commune.id)
        .where(Commune.name == commune, School.status == "public").order_by(School.id))).all())


@pytest.fixture
async def fleet(db: Any) -> Fleet:
    async with db.sessions.begin() as session:
        await load_demo(session, "sem", assets=5)
        admin = await _actor(session, "admin@guichet.demo")
        firminy_schools = await _public_schools(session, "Firminy")
        school = firminy_schools[0]
        await assets.create_asset(session, admin, "SEM-900001", assets.AssetChanges(
            type="projector", owner="sem", model="Epson EB-W51", serial="X7Q-001", acquired_on="2024-03-15",
            value="520"), school_uai=school.uai, room="CM2", why="Installation du plan", now=NOW - timedelta(days=30))
        await assets.create_asset(session, admin, "COM-900002", assets.AssetChanges(
            type="copier", owner="commune", acquired_on="15/01/2026", value="3 200,00"),
            school_uai=school.uai, room="Bureau de la direction", why="", now=NOW - timedelta(days=30))
        return Fleet(admin=admin, sem=await _actor(session, "agent.sem@guichet.demo"),
                     firminy=await _actor(session, "agent.firminy@guichet.demo"),
                     saint_etienne=await _actor(session, "agent.saint-etienne@guichet.demo"),
                     rectorat=await _actor(session, "agent.rectorat@guichet.demo"),
                     firminy_school=school, other_firminy_school=firminy_schools[1],
                     sem_tag="SEM-900001", commune_tag="COM-900002")


async def test_the_owner_and_the_schools_commune_see_a_device_another_commune_does_not(db: Any, fleet: Fleet) -> None:
    """Scoping matrix: SEM sees its devices, Firminy every device of its schools, Saint-Étienne and the rectorat none."""
    expected = {
        "admin": {fleet.sem_tag: True, fleet.commune_tag: True},
        "sem": {fleet.sem_tag: True, fleet.commune_tag: False},
        "firminy": {fleet.sem_tag: True, fleet.commune_tag: True},
        "saint_etienne": {fleet.sem_tag: False, fleet.commune_tag: False},
        "rectorat": {fleet.sem_tag: False, fleet.commune_tag: False},
    }
    seen: dict[str, dict[str, bool]] = {}
    async with db.sessions() as session:
        for who in expected:
            actor = getattr(fleet, who)
            seen[who] = {}
            for tag in (fleet.sem_tag, fleet.commune_tag):
                try:
                    await assets.asset_file(session, actor, tag, NOW)
                    seen[who][tag] = True
                except RecordNotFound:
                    seen[who][tag] = False
            listed = {row.tag for row in (await assets.search_assets(
                session, actor, assets.AssetQuery(q="900"), limit=10)).rows}
            assert listed == {tag for tag, ok in expected[who].items() if ok}, who
    assert seen == expected


async def test_only_the_owner_or_an_admin_changes_a_device(db: Any, fleet: Fleet) -> None:
    """Firminy sees SEM's projector but may not move it; it retires its own copier."""
    async with db.sessions.begin() as session:
        with pytest.raises(assets.AssetRefused):
            await assets.move_asset(session, fleet.firminy, fleet.sem_tag, school_uai=fleet.firminy_school.uai,
                                    room="CP", why="Essai", now=NOW)
        retired = await assets.retire_asset(session, fleet.firminy, fleet.commune_tag, why="Panne définitive", now=NOW)
        assert retired.status == AssetStatus.RETIRED
        with pytest.raises(RecordNotFound):
            await assets.add_note(session, fleet.saint_etienne, fleet.sem_tag, "Vu", now=NOW)


async def test_identity_age_and_refund_rate_today(db: Any, fleet: Fleet) -> None:
    """Acquired in March 2024, read in November 2026: two civil years, 60 % (convention art. 6)."""
    async with db.sessions() as session:
        file = await assets.asset_file(session, fleet.sem, fleet.sem_tag, NOW)
    assert (file.row.type, file.row.model, file.row.serial, file.row.room) == ("projector", "Epson EB-W51", "X7Q-001", "CM2")
    assert file.row.acquired_on == date(2024, 3, 15) and file.row.value_cents == 52000
    assert file.age_years == 2 and file.refund_rate == 60 and file.row.status == "in_service"
    assert file.owner_name and "Métropole" in file.owner_name and file.can_manage


async def test_the_logbook_tells_a_ticket_a_move_a_note_and_a_retirement_in_order(db: Any, fleet: Fleet) -> None:
    """Every change is a dated line with who and why; the ticket is read from the tickets, not copied."""
    start = datetime.now(UTC)  # the agent's resolution is stamped by the real clock
    ctx = context_for("sem", now=lambda: start)
    async with db.sessions.begin() as session:
        requester = Requester(territory_id=fleet.admin.territory_id, name="Claire Martin",
                              school_id=fleet.firminy_school.id)
        session.add(requester)
        await session.flush()
        outcome = await open_report(session, ctx, ReportDraft(
            text="le vidéoprojecteur ne s'allume plus", intent=Intent.HARDWARE_FAILURE, channel=Channel.WEBCHAT,
            requester_id=requester.id, school_id=fleet.firminy_school.id, equipment=Equipment.PROJECTOR,
            asset_tag=fleet.sem_tag))
        reference = outcome.tickets[0].reference
    async with db.sessions() as session:
        assert (await assets.asset_file(session, fleet.sem, fleet.sem_tag, start)).row.status == "in_repair"
        repairing = await assets.search_assets(session, fleet.sem, assets.AssetQuery(status="in_repair"))
        assert [row.tag for row in repairing.rows] == [fleet.sem_tag]
    await AgentActions(db.sessions).resolve(fleet.sem, reference, "Lampe remplacée.")
    async with db.sessions.begin() as session:
        await assets.move_asset(session, fleet.sem, fleet.sem_tag, school_uai=fleet.other_firminy_school.uai,
                                room="CE1", why="Fermeture de la classe de CM2", now=start + timedelta(hours=1))
        await session.commit()
    async with db.sessions.begin() as session:
        requester = await session.scalar(select(Requester).where(Requester.name == "Claire Martin"))
        requester.school_id = fleet.other_firminy_school.id
        note = assets.parse_device_note("note sem-900001 : câble HDMI rebranché, ça remarche")
        assert note == assets.TeacherNote("SEM-900001", "câble HDMI rebranché, ça remarche")
        result = await assets.teacher_note(session, territory_id=fleet.admin.territory_id, requester=requester,
                                           note=note, channel="webchat", now=start + timedelta(hours=2))
        assert result.outcome is assets.NoteOutcome.ADDED and "carnet de bord" in result.message
        await assets.retire_asset(session, fleet.sem, fleet.sem_tag, why="Lampe hors d'usage",
                                  now=start + timedelta(hours=3))
    async with db.sessions() as session:
        file = await assets.asset_file(session, fleet.sem, fleet.sem_tag, start + timedelta(hours=4))
        events = (await session.scalars(select(AssetEvent).order_by(AssetEvent.id))).all()
    lines = [(e.kind, e.actor, e.body, e.ticket_reference, e.ticket_status) for e in file.logbook]
    assert lines[0] == ("created", "Administratrice du guichet", "Installation du plan", None, None)
    assert lines[1][0] == "ticket" and lines[1][3] == reference and lines[1][1] == "Claire Martin"
    assert lines[2] == ("ticket_status", "Karim Benali (SEM)", "Lampe remplacée.", reference, "resolved")
    assert lines[3] == ("moved", "Karim Benali (SEM)", "Fermeture de la classe de CM2", None, None)
    assert file.logbook[3].data == {
        "before": {"school": fleet.firminy_school.uai, "school_name": fleet.firminy_school.name, "room": "CM2"},
        "after": {"school": fleet.other_firminy_school.uai, "school_name": fleet.other_firminy_school.name,
                  "room": "CE1"}}
    assert lines[4] == ("note", "Claire Martin", "câble HDMI rebranché, ça remarche", None, None)
    assert lines[5] == ("retired", "Karim Benali (SEM)", "Lampe hors d'usage", None, None)
    assert file.logbook[5].data == {"before": {"status": "in_service"}, "after": {"status": "retired"}}
    assert len(lines) == 6 and file.row.status == "retired" and file.row.room == "CE1"
    assert not any(e.kind in ("ticket", "ticket_status") for e in events)  # tickets are not copied


async def test_a_teachers_note_on_a_device_of_another_school_is_refused(db: Any, fleet: Fleet) -> None:
    """The tag must be a device of her school; nothing is written otherwise."""
    async with db.sessions.begin() as session:
        requester = Requester(territory_id=fleet.admin.territory_id, name="Paul",
                              school_id=fleet.other_firminy_school.id)
        session.add(requester)
        await session.flush()
        result = await assets.teacher_note(session, territory_id=fleet.admin.territory_id, requester=requester,
                                           note=assets.TeacherNote(fleet.sem_tag, "écran rayé"), channel="email",
                                           now=NOW)
        assert result.outcome is assets.NoteOutcome.UNKNOWN
        assert await session.scalar(select(AssetEvent.id).where(AssetEvent.kind == "note")) is None
    assert assets.parse_device_note("le vidéoprojecteur SEM-900001 ne s'allume plus") is None
    assert assets.parse_device_note("Note pour SEM-000123 - rallonge changée").tag == "SEM-000123"


async def test_edit_keeps_only_what_changed_and_bad_values_are_refused(db: Any, fleet: Fleet) -> None:
    """An edit's event holds the changed fields before and after; a bad date gets a French reason."""
    async with db.sessions.begin() as session:
        await assets.edit_asset(session, fleet.sem, fleet.sem_tag, assets.AssetChanges(
            type="projector", owner="sem", model="Epson EB-W52", serial="X7Q-001", acquired_on="2024-03-15",
            value="520"), why="Modèle corrigé", now=NOW)
        event = await session.scalar(select(AssetEvent).where(AssetEvent.kind == "edited"))
        assert event.data == {"before": {"model": "Epson EB-W51"}, "after": {"model": "Epson EB-W52"}}
        with pytest.raises(assets.AssetRefused, match="JJ/MM/AAAA"):
            await assets.edit_asset(session, fleet.sem, fleet.sem_tag, assets.AssetChanges(
                type="projector", owner="sem", acquired_on="32/13/2024"), why="", now=NOW)
        with pytest.raises(assets.AssetRefused, match="déjà"):
            await assets.create_asset(session, fleet.admin, fleet.sem_tag, assets.AssetChanges(
                type="projector", owner="sem"), school_uai=fleet.firminy_school.uai, room="", why="", now=NOW)


async def test_migration_0009_goes_down_and_up(db: Any) -> None:
    """The logbook's table and the status column come and go with the revision."""
    from sqlalchemy import inspect as sa_inspect

    from desk.migrate import downgrade, upgrade

    def columns(conn: Any) -> tuple[set[str], set[str]]:
        inspector = sa_inspect(conn)
        return set(inspector.get_table_names()), {c["name"] for c in inspector.get_columns("assets")}

    await downgrade(db.engine, "0011")
    async with db.engine.connect() as conn:
        tables, cols = await conn.run_sync(columns)
    assert "asset_events" not in tables and "status" not in cols
    await upgrade(db.engine)
    async with db.engine.connect() as conn:
        tables, cols = await conn.run_sync(columns)
    assert "asset_events" in tables and "status" in cols
    async with db.sessions() as session:
        assert await session.scalar(select(Asset.id).limit(1)) is None

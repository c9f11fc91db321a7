"""Class closures and openings (convention 2023-2027 art. 1): who may record them, the ticket they open
(routed and clocked by the territory's rules), the logbook events on every device concerned."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from desk.errors import RecordNotFound
from desk.models import Asset, AssetEvent, Organisation, Room, School, SlaClock, Ticket, TicketEvent
from handlers import assets, class_changes as cc

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def _closing_room(db, uai: str) -> None:
    """CM2 of school `uai`: two SEM devices, one of the commune's; a SEM device in CE1; a retired one in CM2."""
    async with db.sessions.begin() as s:
        school = await s.scalar(select(School).where(School.uai == uai))
        cm2, ce1 = Room(school_id=school.id, name="CM2"), Room(school_id=school.id, name="CE1")
        s.add_all([cm2, ce1])
        await s.flush()
        t = school.territory_id
        s.add_all([
            Asset(territory_id=t, tag="SEM-000101", type="interactive_display", model="Speechi 75", school_id=school.id,
                  room_id=cm2.id, owner="sem"),
            Asset(territory_id=t, tag="SEM-000102", type="laptop", school_id=school.id, room_id=cm2.id, owner="sem"),
            Asset(territory_id=t, tag="FIR-000103", type="printer", school_id=school.id, room_id=cm2.id, owner="commune"),
            Asset(territory_id=t, tag="SEM-000104", type="tablet", school_id=school.id, room_id=ce1.id, owner="sem"),
            Asset(territory_id=t, tag="SEM-000105", type="tablet", school_id=school.id, room_id=cm2.id, owner="sem",
                  status="retired"),
        ])


@pytest.mark.parametrize(("key", "sees"), [("a", True), ("sem", True), ("admin", True), ("b", False)])
async def test_who_sees_a_school_classes(db, world, actor, key: str, sees: bool) -> None:
    """The school's commune, the operator and the administrator; another commune gets RecordNotFound."""
    await _closing_room(db, world.schools["a"])
    who = await actor(key)
    async with db.sessions() as s:
        if not sees:
            with pytest.raises(RecordNotFound):
                await cc.closure_plan(s, who, world.schools["a"], "CM2")
            with pytest.raises(RecordNotFound):
                await cc.opening_plan(s, who, world.schools["a"])
            return
        plan = await cc.closure_plan(s, who, world.schools["a"], " cm2 ")
        classes = await cc.school_classes(s, who, world.schools["a"])
    assert plan.room == "CM2" and plan.operator_name == "Saint-Étienne Métropole"
    assert [d.tag for d in plan.devices] == ["SEM-000101", "SEM-000102"]  # not the retired one
    assert [d.tag for d in plan.others] == ["FIR-000103"]
    assert classes.rooms == (("CE1", 1), ("CM2", 2))


async def test_a_commune_records_a_closure_for_sem_to_collect_and_reallocate(db, world, actor) -> None:
    """Firminy closes CM2: one ticket for SEM (class-change rule, art. 1-2, first-response clocks) lists each
    device's fate; each SEM device's logbook has the closure with who, why and the ticket; the commune's
    printer is not touched; the devices stay in the room until SEM acts."""
    await _closing_room(db, world.schools["a"])
    firminy = await actor("a")
    async with db.sessions.begin() as s:
        done = await cc.record_closure(s, firminy, world.schools["a"], "CM2", [
            cc.DeviceChoice("SEM-000101", cc.COLLECT),
            cc.DeviceChoice("sem-000102", cc.REALLOCATE, world.schools["b"], "CE2"),
        ], why="Fermeture décidée par la DSDEN pour la rentrée 2027", now=NOW)
    assert done.organisation_name == "Saint-Étienne Métropole" and not done.in_scope
    assert done.tags == ("SEM-000101", "SEM-000102")
    assert done.message == f"Fermeture de la classe CM2 enregistrée : demande {done.reference} transmise à " \
                           "Saint-Étienne Métropole."
    async with db.sessions() as s:
        ticket = await s.scalar(select(Ticket).where(Ticket.reference == done.reference))
        sem = await s.scalar(select(Organisation).where(Organisation.slug == "sem"))
        clocks = (await s.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id))).all()
        events = (await s.scalars(select(AssetEvent).order_by(AssetEvent.id))).all()
        tags = dict((await s.execute(select(Asset.id, Asset.tag))).all())
        kinds = [e.kind for e in (await s.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id))).all()]
        laptop = await s.scalar(select(Asset).where(Asset.tag == "SEM-000102"))
        assert laptop.room_id is not None and (await s.get(Room, laptop.room_id)).name == "CM2"
    assert ticket.organisation_id == sem.id and ticket.intent == "class_change" and ticket.rule_id == "class-change"
    assert ticket.sla_policy == "first_response" and {c.threshold for c in clocks} >= {"breach"}
    assert ticket.room == "CM2" and ticket.channel == "web" and ticket.requester_id is None
    assert "art. 1" in ticket.reason
    assert "- SEM-000101 — Écran numérique interactif (TNI/TBI) Speechi 75 : à récupérer" in ticket.description
    assert f"- SEM-000102 — Ordinateur portable : à réaffecter à École Victor Hugo ({world.schools['b']}), " \
           "salle CE2" in ticket.description
    assert "FIR-000103 (Imprimante)" in ticket.description and "Raison : Fermeture décidée par la DSDEN" in ticket.description
    assert "class_change" in kinds
    assert [(tags[e.asset_id], e.kind) for e in events] == [("SEM-000101", "class_closure"),
                                                            ("SEM-000102", "class_closure")]
    collect, move = events
    assert collect.actor_name == "Agent A" and collect.data["ticket"] == done.reference
    assert collect.body == ("Fermeture de la classe CM2 : à récupérer par Saint-Étienne Métropole. "
                            "Fermeture décidée par la DSDEN pour la rentrée 2027")
    assert move.data["action"] == "reallocate" and move.data["destination"]["school"] == world.schools["b"]
    async with db.sessions() as s:
        logbook = await assets.logbook(s, laptop)
    assert logbook[-1].kind == "class_closure" and logbook[-1].ticket_reference == done.reference
    async with db.sessions() as s:  # a second closure of the same room while the first is open
        with pytest.raises(cc.ClassChangeRefused) as refused:
            await cc.record_closure(s, firminy, world.schools["a"], "CM2", [
                cc.DeviceChoice("SEM-000101", cc.COLLECT), cc.DeviceChoice("SEM-000102", cc.COLLECT)],
                why="Doublon", now=NOW)
    assert f"déjà enregistrée (demande {done.reference}, en cours)" in refused.value.errors["devices"]


async def test_a_closure_refuses_in_french_what_it_cannot_do(db, world, actor) -> None:
    await _closing_room(db, world.schools["a"])
    firminy = await actor("a")
    async with db.sessions() as s:
        with pytest.raises(cc.ClassChangeRefused) as refused:
            await cc.record_closure(s, firminy, world.schools["a"], "CM2", [
                cc.DeviceChoice("SEM-000102", cc.REALLOCATE, world.schools["a"], "cm2"),
            ], why="", now=NOW)
    errors = refused.value.errors
    assert errors["why"].startswith("Indiquez la raison de la fermeture")
    assert errors["action-SEM-000101"] == "Choisissez « à récupérer » ou « à réaffecter » pour SEM-000101."
    assert errors["room-SEM-000102"] == "SEM-000102 : indiquez la salle qui le reçoit, autre que la classe fermée."
    async with db.sessions() as s:
        with pytest.raises(cc.ClassChangeRefused) as refused:
            await cc.record_closure(s, firminy, world.schools["a"], "CM2", [
                cc.DeviceChoice("SEM-000101", cc.COLLECT),
                cc.DeviceChoice("SEM-000102", cc.REALLOCATE, "0429999X", "CE2")], why="Fermeture", now=NOW)
        assert "aucune école du territoire" in refused.value.errors["school-SEM-000102"]
        with pytest.raises(RecordNotFound):
            await cc.closure_plan(s, firminy, world.schools["a"], "Salle inconnue")
        assert await s.scalar(select(Ticket).where(Ticket.intent == "class_change")) is None


async def test_an_opening_moves_the_devices_it_receives_and_opens_the_ticket(db, world, actor) -> None:
    """SEM opens « CP 2 »: the tablet of CE1 is moved into it with a move event naming the ticket, and the
    needs go to the ticket; Firminy can record needs but not move SEM's devices."""
    await _closing_room(db, world.schools["a"])
    sem, firminy = await actor("sem"), await actor("a")
    async with db.sessions() as s:
        plan = await cc.opening_plan(s, sem, world.schools["a"])
        assert plan.can_move and "SEM-000104" in [d.tag for d in plan.candidates]
        assert "FIR-000103" not in [d.tag for d in plan.candidates]
        assert not (await cc.opening_plan(s, firminy, world.schools["a"])).can_move
    async with db.sessions.begin() as s:
        done = await cc.record_opening(s, sem, world.schools["a"], "CP 2", "Deux tablettes et un VPI",
                                       cc.parse_tags("sem-000104, SEM-000104"), why="Ouverture à la rentrée 2027",
                                       now=NOW)
    assert done.in_scope and done.tags == ("SEM-000104",)
    async with db.sessions() as s:
        tablet = await s.scalar(select(Asset).where(Asset.tag == "SEM-000104"))
        event = await s.scalar(select(AssetEvent).where(AssetEvent.asset_id == tablet.id))
        ticket = await s.scalar(select(Ticket).where(Ticket.reference == done.reference))
        assert (await s.get(Room, tablet.room_id)).name == "CP 2"
    assert event.kind == "moved" and event.data["ticket"] == done.reference
    assert event.data["before"]["room"] == "CE1" and event.data["after"]["room"] == "CP 2"
    assert event.body == f"Ouverture de la classe CP 2 (demande {done.reference}). Ouverture à la rentrée 2027"
    assert ticket.subject == "Ouverture de la classe CP 2 (École Jules Ferry)" and ticket.room == "CP 2"
    assert "Besoins de la nouvelle classe" in ticket.description and "Deux tablettes et un VPI" in ticket.description
    assert "- SEM-000104 — Tablette, depuis CE1" in ticket.description
    async with db.sessions() as s:
        with pytest.raises(cc.ClassChangeRefused) as refused:
            await cc.record_opening(s, firminy, world.schools["a"], "CP 3", "", ["SEM-000101"], why="Ouverture",
                                    now=NOW)
        assert "déplacé par ses agents" in refused.value.errors["tags"]
        with pytest.raises(cc.ClassChangeRefused) as refused:
            await cc.record_opening(s, sem, world.schools["a"], "CP 2", "", ["SEM-000104", "SEM-999999"], why="x",
                                    now=NOW)
        assert "SEM-999999" in refused.value.errors["tags"]
    async with db.sessions.begin() as s:
        needs_only = await cc.record_opening(s, firminy, world.schools["a"], "CP 3", "Un vidéoprojecteur", [],
                                             why="Ouverture à la rentrée", now=NOW)
    assert not needs_only.in_scope and needs_only.organisation_name == "Saint-Étienne Métropole"

"""The system of record on SQLite and PostgreSQL: references, tickets, history, dedupe."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from desk import repositories as repo
from desk.lifecycle import change_status
from desk.models import Commune, InboundMessage, OutboxMessage, School, Ticket, TicketEvent
from desk.references import next_reference
from domain.uai import make_uai
from domain.vocabulary import TicketStatus


async def _setup(session):
    territory = await repo.ensure_territory(session, "sem", "Saint-Étienne Métropole")
    sem = await repo.ensure_organisation(session, territory.id, kind="sem", slug="sem", name="SEM")
    org = await repo.ensure_organisation(
        session, territory.id, kind="commune", slug="commune-firminy", name="Commune de Firminy"
    )
    commune = Commune(territory_id=territory.id, insee_code="42095", name="Firminy",
                      organisation_id=org.id)
    session.add(commune)
    await session.flush()
    school = School(territory_id=territory.id, uai=make_uai("0421001"), name="École Jules Ferry",
                    status="public", commune_id=commune.id)
    session.add(school)
    await session.flush()
    return territory, sem, school


async def test_references_are_sequential_per_territory_and_year(db) -> None:
    """References read YYYY-NNNNN and count up per territory and per year."""
    async with db.sessions.begin() as session:
        territory, _, _ = await _setup(session)
        other = await repo.ensure_territory(session, "saint-denis", "Saint-Denis")
        refs = [await next_reference(session, territory.id, 2026) for _ in range(3)]
        assert refs == ["2026-00001", "2026-00002", "2026-00003"]
        assert await next_reference(session, territory.id, 2027) == "2027-00001"
        assert await next_reference(session, other.id, 2026) == "2026-00001"


async def test_concurrent_references_never_collide(db) -> None:
    """Twenty transactions opening tickets at once get twenty distinct references."""
    async with db.sessions.begin() as session:
        territory, _, _ = await _setup(session)
        tid = territory.id

    async def one() -> str:
        for attempt in range(20):
            try:
                async with db.sessions.begin() as session:
                    return await next_reference(session, tid, 2026)
            except Exception:  # SQLite: database is locked under contention; retry
                if db.dialect != "sqlite":
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))
        raise AssertionError("could not allocate")

    refs = await asyncio.gather(*(one() for _ in range(20)))
    assert len(set(refs)) == 20
    assert sorted(refs)[-1] == "2026-00020"


async def test_ticket_with_history_round_trips(db) -> None:
    """A ticket keeps its organisation, school, events and aware timestamps."""
    opened = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    async with db.sessions.begin() as session:
        territory, sem, school = await _setup(session)
        requester = await repo.ensure_requester(session, territory.id, "telegram", "12345",
                                                school_id=school.id)
        ticket = await repo.create_ticket(
            session, territory=territory, organisation=sem, intent="hardware_failure",
            role="operator", subject="Vidéoprojecteur en panne", description="Le VP ne s'allume plus",
            equipment="projector", school=school, channel="telegram", requester=requester,
            sla_policy="replacement", opened_at=opened,
        )
        ref = ticket.reference
        change_status(ticket, TicketStatus.ASSIGNED, actor_kind="agent", actor_id=1)
    async with db.sessions() as session:
        loaded = await repo.ticket_by_reference(session, territory.id, ref)
        assert loaded.opened_at == opened and loaded.opened_at.tzinfo is not None
        assert loaded.organisation.slug == "sem" and loaded.school.name == "École Jules Ferry"
        assert [e.kind for e in loaded.events] == ["created", "message", "status"]
        assert loaded.events[-1].to_status == "assigned"
        open_ = await repo.open_tickets_of_requester(session, requester.id)
        assert [t.reference for t in open_] == [ref]


async def test_inbound_duplicates_are_recognised(db) -> None:
    """The same (channel, external id) is stored once; the second call says duplicate."""
    async with db.sessions.begin() as session:
        first = await repo.insert_inbound(
            session, channel="telegram", external_id="update-1", payload={"text": "bonjour"}
        )
        again = await repo.insert_inbound(
            session, channel="telegram", external_id="update-1", payload={"text": "salut"}
        )
        other = await repo.insert_inbound(
            session, channel="webchat", external_id="update-1", payload={"text": "bonjour"}
        )
        assert first is not None and again is None and other not in (None, first)
        stored = await session.get(InboundMessage, first)
        assert stored is not None and stored.payload == {"text": "bonjour"} and stored.status == "received"


async def test_inbound_batches_skip_known_and_repeated_ids(db) -> None:
    """One multi-row INSERT: new rows get ids, rows already stored or repeated do not."""
    from desk.clock import utcnow

    def row(key: str) -> dict:
        return {"channel": "telegram", "external_id": key, "payload": {"k": key}, "sender": "1",
                "received_at": utcnow()}

    async with db.sessions.begin() as session:
        first = await repo.insert_inbound_many(session, [row("update:1"), row("update:2")])
        assert sorted(first) == ["update:1", "update:2"]
        again = await repo.insert_inbound_many(session, [row("update:2"), row("update:3"), row("update:3")])
        assert list(again) == ["update:3"] and again["update:3"] not in first.values()
        count = await session.scalar(select(func.count()).select_from(InboundMessage))
        assert count == 3


async def test_outbox_dedupe_key_queues_once(db) -> None:
    """A repeated dedupe key queues nothing, and the database enforces it too."""
    async with db.sessions.begin() as session:
        assert await repo.enqueue(session, channel="email", recipient="a@b.fr", body="x",
                                  dedupe_key="k1") is not None
        assert await repo.enqueue(session, channel="email", recipient="a@b.fr", body="x",
                                  dedupe_key="k1") is None
        count = await session.scalar(select(func.count()).select_from(OutboxMessage))
        assert count == 1
    with pytest.raises(IntegrityError):
        async with db.sessions.begin() as session:
            session.add(OutboxMessage(channel="email", recipient="a@b.fr", body="y", dedupe_key="k1"))


async def test_foreign_keys_are_enforced(db) -> None:
    """An event for a ticket that does not exist is refused on both databases."""
    with pytest.raises(IntegrityError):
        async with db.sessions.begin() as session:
            session.add(TicketEvent(ticket_id=999_999, kind="note", body="orphan"))


async def test_deleting_a_ticket_deletes_its_history(db) -> None:
    """Events cascade with their ticket."""
    async with db.sessions.begin() as session:
        territory, sem, _ = await _setup(session)
        ticket = await repo.create_ticket(session, territory=territory, organisation=sem,
                                          intent="network_outage", role="operator", subject="x",
                                          description="plus d'internet")
        await session.delete(ticket)
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(TicketEvent)) == 0
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 0

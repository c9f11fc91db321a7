"""Retention, access and erasure of the teachers' personal data (RGPD art. 5.1.e, 15, 17)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from desk import repositories as repo
from desk.models import (
    Agent,
    Attachment,
    ClaimStepRecord,
    Conversation,
    InboundMessage,
    Organisation,
    OutboxMessage,
    Requester,
    RequesterIdentity,
    School,
    SlaClock,
    Territory,
    Ticket,
    TicketEvent,
)
from desk.security import hash_password
from guichet.demo import load_demo
from handlers.agent_reports import build_report
from handlers.agent_scope import load_actor
from handlers.committee import Period, committee_review, review_csv
from handlers.privacy import (
    ANONYMISED,
    PrivacyPurger,
    erase_requester,
    export_requester,
    find_requester,
    purge,
    retention_for,
)
from handlers.sla_report import compliance, compliance_csv

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
OLD = datetime(2024, 9, 9, 9, tzinfo=UTC)  # ended more than 24 months before NOW
RECENT = datetime(2026, 10, 5, 9, tzinfo=UTC)  # ended a month before NOW
RULES = retention_for("sem")


async def _world(s) -> dict[str, int]:
    """Two teachers: Alice, whose tickets ended two years ago, and Bob, who wrote last month."""
    await load_demo(s, "sem", assets=0)
    territory = await s.scalar(select(Territory))
    sem = await s.scalar(select(Organisation).where(Organisation.slug == "sem"))
    school = await s.scalar(select(School).order_by(School.id).limit(1))
    admin = Agent(organisation_id=sem.id, email="admin@guichet.test", name="Admin",
                  password_hash=hash_password("x"), role="admin")
    alice = Requester(territory_id=territory.id, name="Alice Martin", school_id=school.id, created_at=OLD)
    alice.identities = [RequesterIdentity(channel="email", external_id="alice.martin@ac-lyon.fr"),
                        RequesterIdentity(channel="telegram", external_id="777001")]
    bob = Requester(territory_id=territory.id, name="Bob Durand", school_id=school.id, created_at=RECENT)
    bob.identities = [RequesterIdentity(channel="email", external_id="bob.durand@ac-lyon.fr")]
    s.add_all([admin, alice, bob])
    await s.flush()

    async def ticket(requester, opened, *, intent="hardware_failure", policy="replacement", closed=True,
                     breached=False, rating=None, attachment=False, note=None):
        t = await repo.create_ticket(s, territory=territory, organisation=sem, intent=intent, role="operator",
                                     subject=f"Le vidéoprojecteur de {requester.name} est en panne",
                                     description=f"Bonjour, c'est {requester.name}, le vidéoprojecteur ne s'allume plus",
                                     school=school, requester=requester, sla_policy=policy, opened_at=opened,
                                     channel="email")
        message = await repo.add_event(s, t, "message", body=f"Signé {requester.name}", actor_kind="requester",
                                       actor_id=requester.id, channel="email", at=opened,
                                       data={"from": requester.identities[0].external_id, "message_id": "<m1@x>"})
        await repo.add_event(s, t, "reply", body=f"Bonjour {requester.name}, un technicien passe demain.",
                             actor_kind="agent", actor_id=admin.id, at=opened + timedelta(hours=3),
                             data={"delivered": True})
        if breached:
            s.add(SlaClock(ticket_id=t.id, policy=policy, threshold="breach", fired=True,
                           deadline=opened + timedelta(hours=72)))
        t.resolved_at = opened + timedelta(hours=30)
        if closed:
            t.status, t.closed_at = "closed", opened + timedelta(days=3)
        if rating is not None:
            await repo.add_event(s, t, "satisfaction", body=f"Satisfaction : {rating}/5", actor_kind="requester",
                                 actor_id=requester.id, data={"score": rating}, at=opened + timedelta(days=3))
        if attachment:
            s.add(Attachment(ticket_id=t.id, event_id=message.id, filename=f"photo-{requester.name}.jpg",
                             content_type="image/jpeg", size=4, content=b"\xff\xd8\xff\xe0"))
        if note:
            s.add(ClaimStepRecord(ticket_id=t.id, step="insurer_declared", done_on=opened.date(),
                                  agent_id=admin.id, note=note))
        s.add(InboundMessage(channel="email", external_id=f"<in-{t.id}@x>", ticket_id=t.id, status="processed",
                             sender=requester.identities[0].external_id, received_at=opened,
                             payload={"raw": f"From: {requester.name}"}))
        s.add(OutboxMessage(channel="email", recipient=requester.identities[0].external_id, ticket_id=t.id,
                            body=f"Bonjour {requester.name}", status="sent", created_at=opened))
        await s.flush()
        return t

    old = await ticket(alice, OLD, breached=True, rating=4, attachment=True)
    theft = await ticket(alice, OLD + timedelta(days=1), intent="theft", policy="declaration",
                         note="Plainte déposée par Mme Martin")
    recent = await ticket(bob, RECENT, rating=5, attachment=True)
    still_open = await ticket(bob, RECENT + timedelta(days=2), closed=False)
    s.add(Conversation(channel="telegram", external_id="777001", requester_id=alice.id, state="idle",
                       data={"draft": "Alice écrit"}, updated_at=OLD))
    s.add(InboundMessage(channel="webchat", external_id="w-1", status="processed", sender="session-abc",
                         received_at=OLD, payload={"text": "bonjour"}))
    return {"admin": admin.id, "alice": alice.id, "bob": bob.id, "old": old.id, "theft": theft.id,
            "recent": recent.id, "open": still_open.id}


async def _figures(s, admin_id: int) -> tuple:
    actor = await load_actor(s, admin_id)
    review = await committee_review(s, actor, Period.containing(OLD.date()), now=NOW)
    return (
        await build_report(s, actor, days=1000, now=NOW),
        compliance_csv(await compliance(s, actor, months=36, now=NOW)),
        review_csv(review), review.refunds_in_progress_cents, review.files_in_progress, review.unusual_schools,
        await s.scalar(select(func.count(Ticket.id))), await s.scalar(select(func.count(TicketEvent.id))),
        await s.scalar(select(func.sum(Attachment.size))),
    )


async def test_purge_keeps_every_figure_and_removes_the_words(db) -> None:
    """After a purge, the three reports give the same figures; the expired names, texts and files are gone."""
    async with db.sessions.begin() as s:
        ids = await _world(s)
    async with db.sessions() as s:
        before = await _figures(s, ids["admin"])
    async with db.sessions.begin() as s:
        report = await purge(s, RULES, now=NOW)
    assert (report.tickets, report.requesters) == (2, 1)
    assert report.attachments == 1 and report.conversations == 1
    async with db.sessions() as s:
        after = await _figures(s, ids["admin"])
        assert after == before
        assert before[0].resolution.count == 4 and before[6] == 4  # the fixture is what the reports count

        alice = await s.get(Requester, ids["alice"])
        assert alice.name is None and alice.anonymised_at is not None
        assert await s.scalar(select(func.count()).select_from(RequesterIdentity).where(
            RequesterIdentity.requester_id == ids["alice"])) == 0
        old = await s.get(Ticket, ids["old"])
        assert "Alice" not in old.subject + old.description and old.anonymised_at is not None
        texts = (await s.scalars(select(TicketEvent.body).where(
            TicketEvent.ticket_id.in_([ids["old"], ids["theft"]])))).all()
        assert not any("Alice" in (body or "") or "Martin" in (body or "") for body in texts)
        assert ANONYMISED in texts and "Satisfaction : 4/5" in texts
        datas = (await s.scalars(select(TicketEvent.data).where(TicketEvent.ticket_id == ids["old"],
                                                                TicketEvent.kind == "message"))).all()
        assert {"message_id": "<m1@x>"} in datas and not any("from" in (d or {}) for d in datas)
        files = {a.ticket_id: a for a in (await s.scalars(select(Attachment))).all()}
        assert files[ids["old"]].content == b"" and files[ids["old"]].size == 4
        assert "Alice" not in files[ids["old"]].filename
        assert (await s.scalar(select(ClaimStepRecord.note))) is None
        inbound = (await s.scalars(select(InboundMessage).where(InboundMessage.ticket_id == ids["old"]))).one()
        assert inbound.payload == {} and inbound.sender is None and inbound.external_id == f"<in-{ids['old']}@x>"
        assert await s.scalar(select(func.count()).select_from(InboundMessage).where(
            InboundMessage.ticket_id.is_(None))) == 0
        sent = (await s.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ids["old"]))).one()
        assert (sent.recipient, sent.body) == ("", "")
        assert await s.scalar(select(func.count()).select_from(Conversation)) == 0

        bob = await s.get(Requester, ids["bob"])  # within retention: untouched
        assert bob.name == "Bob Durand"
        recent = await s.get(Ticket, ids["recent"])
        assert "Bob" in recent.description and recent.anonymised_at is None
        assert files[ids["recent"]].content == b"\xff\xd8\xff\xe0"
    async with db.sessions.begin() as s:
        again = await purge(s, RULES, now=NOW)
    assert again.total == 0  # idempotent: nothing left to do


async def test_retention_runs_out_month_by_month(db) -> None:
    """Files go after 6 months, texts after 12, the person after 24, each counted from the end of the ticket."""
    async with db.sessions.begin() as s:
        ids = await _world(s)
    closed = RECENT + timedelta(days=3)
    async with db.sessions.begin() as s:
        assert (await purge(s, RULES, now=closed + timedelta(days=5 * 31))).requesters == 1  # Alice only
    async with db.sessions.begin() as s:
        seven = await purge(s, RULES, now=closed + timedelta(days=7 * 31))
    assert seven.attachments == 1 and seven.tickets == 0  # Bob's photo; his texts stay
    async with db.sessions.begin() as s:
        thirteen = await purge(s, RULES, now=closed + timedelta(days=13 * 31))
    assert thirteen.tickets == 1 and thirteen.requesters == 0  # Bob's closed ticket; he has an open one
    async with db.sessions() as s:
        assert (await s.get(Requester, ids["bob"])).name == "Bob Durand"


async def test_access_then_erasure(db) -> None:
    """A teacher's export holds her tickets, messages and identities; erasure anonymises them at once."""
    async with db.sessions.begin() as s:
        ids = await _world(s)
    async with db.sessions() as s:
        before = await _figures(s, ids["admin"])
        bob = await find_requester(s, "BOB.durand@ac-lyon.fr")
        assert bob is not None and bob.id == ids["bob"]
        assert (await find_requester(s, "telegram:777001")).id == ids["alice"]
        assert await find_requester(s, "personne@nulle.part") is None
        exported = await export_requester(s, bob)
    text = json.dumps(exported, ensure_ascii=False)
    assert exported["requester"]["name"] == "Bob Durand" and len(exported["tickets"]) == 2
    assert "bob.durand@ac-lyon.fr" in text and "le vidéoprojecteur ne s'allume plus" in text
    assert exported["attachments"][0]["filename"] == "photo-Bob Durand.jpg"
    assert exported["sent_messages"] and exported["inbound_messages"]
    async with db.sessions.begin() as s:
        report = await erase_requester(s, await s.get(Requester, ids["bob"]), now=NOW)
    assert (report.tickets, report.requesters, report.attachments) == (2, 1, 1)
    async with db.sessions() as s:
        assert await _figures(s, ids["admin"]) == before
        again = json.dumps(await export_requester(s, await s.get(Requester, ids["bob"])), ensure_ascii=False)
        assert "Bob" not in again and "bob.durand" not in again
        assert await find_requester(s, "bob.durand@ac-lyon.fr") is None
        assert (await s.get(Ticket, ids["open"])).status == "new"  # kept, counted


async def test_background_purger_takes_the_lock(db) -> None:
    """The loop's pass purges once; a second process finding the lock held does nothing."""
    async with db.sessions.begin() as s:
        await _world(s)
    first = PrivacyPurger(db.sessions, RULES, now=lambda: NOW, owner="one")
    report = await first.run_once()
    assert report is not None and report.tickets == 2
    from desk import locks

    async with db.sessions.begin() as s:
        assert await locks.acquire(s, "privacy-purge", "other", timedelta(minutes=5), now=NOW)
    assert await PrivacyPurger(db.sessions, RULES, now=lambda: NOW, owner="two").run_once() is None


async def test_cli_purge_dry_run_export_and_erase(db) -> None:
    """`guichet privacy purge --dry-run` counts and changes nothing; export prints JSON; erase anonymises."""
    from guichet.privacy_cli import run

    async with db.sessions.begin() as s:
        ids = await _world(s)
    out = io.StringIO()
    assert await run(db.sessions, "sem", "purge", dry_run=True, stdout=out) == 0
    assert out.getvalue().startswith("Simulation (rien n'est modifié) : ")
    async with db.sessions() as s:
        assert (await s.get(Requester, ids["alice"])).name == "Alice Martin"
    out = io.StringIO()
    assert await run(db.sessions, "sem", "export", requester_key=str(ids["alice"]), stdout=out) == 0
    assert json.loads(out.getvalue())["requester"]["name"] == "Alice Martin"
    out = io.StringIO()
    assert await run(db.sessions, "sem", "erase", requester_key="alice.martin@ac-lyon.fr", stdout=out) == 0
    assert "anonymisé" in out.getvalue()
    async with db.sessions() as s:
        assert (await s.get(Requester, ids["alice"])).name is None
    assert await run(db.sessions, "sem", "erase", requester_key="inconnu@x.fr", stdout=io.StringIO()) == 1


async def test_a_bare_address_finds_the_teacher_of_another_territory(db, capsys) -> None:
    """With several territories, a teacher of a non-default one is stored as `slug/address`:
    the bare address finds her; when it names one teacher per territory, the CLI asks for the number."""
    from guichet.privacy_cli import run

    async with db.sessions.begin() as s:
        ids = await _world(s)
        other = await repo.ensure_territory(s, "saint-denis", "Saint-Denis")
        claire = Requester(territory_id=other.id, name="Claire Payet")
        claire.identities = [RequesterIdentity(channel="email", external_id="saint-denis/claire.payet@ac-reunion.fr"),
                             RequesterIdentity(channel="telegram", external_id="saint-denis/777001")]
        s.add(claire)
        await s.flush()
        ids["claire"] = claire.id
    async with db.sessions() as s:
        assert (await find_requester(s, "Claire.Payet@ac-reunion.fr")).id == ids["claire"]
        assert (await find_requester(s, "saint-denis/claire.payet@ac-reunion.fr")).id == ids["claire"]
        assert (await find_requester(s, "telegram:saint-denis/777001")).id == ids["claire"]
        assert await find_requester(s, "telegram:777001") is None  # Alice here, Claire there
        assert await find_requester(s, "%@ac-reunion.fr") is None
    assert await run(db.sessions, "sem", "export", requester_key="telegram:777001", stdout=io.StringIO()) == 1
    err = capsys.readouterr().err
    assert f"n° {ids['alice']}" in err and f"n° {ids['claire']}" in err and "Donnez le numéro" in err
    out = io.StringIO()
    assert await run(db.sessions, "sem", "export", requester_key="claire.payet@ac-reunion.fr", stdout=out) == 0
    assert json.loads(out.getvalue())["requester"]["name"] == "Claire Payet"

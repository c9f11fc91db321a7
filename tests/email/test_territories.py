"""Two territories behind one SMTP intake: the recipient address picks the territory.

The same teacher writes the same mail to SEM's desk address and to Saint-Denis's: two tickets,
each in its territory with its routing; two requesters (one per territory); each answer leaves
from the address it was sent to.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import AsyncIterator

import aiosmtplib
import pytest
from aiohttp import web
from sqlalchemy import select

from desk.models import Commune, InboundMessage, Organisation, Requester, RequesterIdentity, School, Territory, Ticket
from domain.uai import make_uai
from guichet.bootstrap import ensure_territory_from_preset
from guichet.settings import load_settings
from guichet.wiring import build_app
from tests.email.conftest import _NLU, OURS, TEACHER, free_port, make_mail
from web.keys import dispatcher_key

SD_ADDRESS = "guichet@saint-denis.test"


@pytest.fixture
async def served(desk, sink) -> AsyncIterator[tuple[web.Application, int]]:
    async with desk.db.sessions.begin() as s:
        territory = await ensure_territory_from_preset(s, "saint-denis")
        ville = await s.scalar(select(Organisation).where(Organisation.territory_id == territory.id,
                                                          Organisation.slug == "commune-saint-denis"))
        commune = Commune(territory_id=territory.id, insee_code="97411", name="Saint-Denis", organisation_id=ville.id)
        s.add(commune)
        await s.flush()
        s.add(School(territory_id=territory.id, uai=make_uai("9740001"), name="École Lislet Geoffroy",
                     commune_id=commune.id))
    port = free_port()
    settings = load_settings(
        database_url=desk.db.url, territories="sem,saint-denis", mail_from=OURS,
        mail_addresses=f"saint-denis:{SD_ADDRESS}", smtp_intake_port=port, http_host="127.0.0.1",
        smtp_url=f"smtp://127.0.0.1:{sink.port}", background=False)
    app = build_app(settings, desk.db.engine, desk.db.sessions, nlu=_NLU)
    runner = web.AppRunner(app)
    await runner.setup()
    yield app, port
    await runner.cleanup()


async def test_the_recipient_address_picks_the_territory(desk, served, sink) -> None:
    app, port = served
    for to, message_id in ((OURS, "<sem-1@ac-lyon.fr>"), (SD_ADDRESS, "<sd-1@ac-lyon.fr>")):
        errors, _answer = await aiosmtplib.send(
            make_mail(to=to, message_id=message_id), hostname="127.0.0.1", port=port,
            sender=TEACHER, recipients=[to])
        assert errors == {}
    async with desk.db.sessions() as s:
        rows = (await s.execute(
            select(Ticket.reference, Territory.slug, Organisation.slug, Requester.territory_id)
            .join(Territory, Ticket.territory_id == Territory.id)
            .join(Organisation, Ticket.organisation_id == Organisation.id)
            .join(Requester, Ticket.requester_id == Requester.id).order_by(Ticket.id))).all()
        identities = set((await s.scalars(select(RequesterIdentity.external_id).where(
            RequesterIdentity.channel == "email"))).all())
        sd_id = await s.scalar(select(Territory.id).where(Territory.slug == "saint-denis"))
    assert [(t, org) for _, t, org, _ in rows] == [("sem", "sem"), ("saint-denis", "commune-saint-denis")]
    assert rows[1][3] == sd_id  # a requester of Saint-Denis, not SEM's teacher
    assert {TEACHER, f"saint-denis/{TEACHER}"} <= identities
    async with desk.db.sessions() as s:
        senders = (await s.scalars(select(InboundMessage.sender).order_by(InboundMessage.id))).all()
    assert list(senders) == [TEACHER, f"saint-denis/{TEACHER}"]  # a right of access stays in its territory
    report = await app[dispatcher_key].run_once()
    assert report.sent == report.claimed == 2
    sent = {}
    for envelope in sink.received:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert message["To"] == TEACHER and envelope.rcpt_tos == [TEACHER]
        sent[message["From"]] = message.get_content()
    assert set(sent) == {OURS, SD_ADDRESS}
    assert rows[0][0] in sent[OURS] and rows[1][0] in sent[SD_ADDRESS]
    assert "Ville de Saint-Denis" in sent[SD_ADDRESS]

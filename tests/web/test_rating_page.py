"""The e-mailed rating link (`/avis/<token>`): a GET records nothing (mail scanners follow
links), the teacher's click records one rating for her ticket, a low one tells the supervisors."""

from __future__ import annotations

from html import unescape

from sqlalchemy import select

from desk.clock import utcnow
from desk.models import OutboxMessage, Ticket, TicketEvent
from domain.vocabulary import TicketStatus
from handlers.satisfaction import rating_link
from tests.typo import plain
from tests.web.world import make_settings
from web.app import init_app
from web.kb import setup_kb
from web.rating import setup_rating


async def _closed_ticket_link(db, reference: str, status: str = TicketStatus.CLOSED) -> tuple[str, int]:
    async with db.sessions.begin() as s:
        ticket = await s.scalar(select(Ticket).where(Ticket.reference == reference))
        ticket.status, ticket.closed_at = status, utcnow()
        link = await rating_link(s, ticket.id, "http://guichet.test")
        assert link == f"http://guichet.test/avis/{ticket.rating_token}"
        assert await rating_link(s, ticket.id, "http://guichet.test/") == link  # one token per ticket
        return link.removeprefix("http://guichet.test"), ticket.id


async def _ratings(db, ticket_id: int) -> list[int]:
    async with db.sessions() as s:
        events = (await s.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "satisfaction"))).all()
        return [e.data["score"] for e in events]


async def test_a_scanners_get_records_nothing_and_the_click_records_once(db, world, aiohttp_client) -> None:
    path, ticket_id = await _closed_ticket_link(db, world.refs["a"])
    client = await aiohttp_client(init_app(make_settings(), db.engine, db.sessions, extensions=[setup_kb, setup_rating]))
    for _ in range(3):  # a link scanner, a preview, the teacher's own opening
        page = await client.get(path)
        html = plain(await page.text())
        assert page.status == 200 and "Votre avis sur la demande" in html and "Vidéoprojecteur en panne" in html
        assert "Êtes-vous satisfait·e de son traitement ? (de 1 à 5)" in html and 'value="5"' in html
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert await _ratings(db, ticket_id) == []

    thanks = plain(await (await client.post(path, data={"note": "2", "commentaire": "Trop long à revenir."})).text())
    assert "Merci pour votre avis !" in thanks and 'name="note"' not in thanks
    assert await _ratings(db, ticket_id) == [2]
    again = plain(await (await client.post(path, data={"note": "5"})).text())
    assert "Vous avez déjà donné votre avis sur cette demande : merci !" in again
    assert "Vous avez déjà donné votre avis" in plain(await (await client.get(path)).text())
    assert await _ratings(db, ticket_id) == [2]

    async with db.sessions() as s:
        mails = (await s.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id))).all()
        comment = await s.scalar(select(TicketEvent.body).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "satisfaction"))
    low = [m for m in mails if (m.payload or {}).get("notice") == "low_rating"]
    assert [m.recipient for m in low] == ["chef.a@guichet.test"]  # the supervisor of the commune, once
    assert "Mme Martin a donné la note de 2/5" in low[0].body and "« Trop long à revenir. »" in low[0].body
    assert low[0].subject.endswith("note de satisfaction 2/5")
    assert comment == "Satisfaction : 2/5\nTrop long à revenir."


async def test_bad_links_and_bad_scores_get_a_french_answer(db, world, aiohttp_client) -> None:
    path, ticket_id = await _closed_ticket_link(db, world.refs["b"])
    open_path, open_id = await _closed_ticket_link(db, world.refs["a2"], status=TicketStatus.IN_PROGRESS)
    client = await aiohttp_client(init_app(make_settings(), db.engine, db.sessions, extensions=[setup_kb, setup_rating]))
    assert (await client.get("/avis/%00")).status == 400  # the app's rule for a NUL in a path
    for token in ("inconnu", "x" * 200, "é", "a.b"):
        response = await client.get(f"/avis/{token}")
        assert response.status == 404 and "Ce lien d'avis n'est pas (ou plus) valable." in unescape(plain(await response.text()))
    refused = await client.post(path, data={"note": "9"})
    assert refused.status == 400 and "Choisissez une note de 1 à 5." in plain(await refused.text())
    assert (await client.post(path, data={})).status == 400
    waiting = plain(await (await client.get(open_path)).text())
    assert "Cette demande n'est pas encore traitée" in unescape(waiting) and 'name="note"' not in waiting
    assert "pas encore traitée" in plain(await (await client.post(open_path, data={"note": "4"})).text())
    high = plain(await (await client.post(path, data={"note": "5"})).text())
    assert "Merci pour votre avis !" in high
    assert await _ratings(db, ticket_id) == [5] and await _ratings(db, open_id) == []
    async with db.sessions() as s:  # a good rating tells nobody
        assert not (await s.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id))).all()

"""Tutorials in the agents' application: deflection report, « Joindre un tutoriel » on replies."""

from __future__ import annotations

from tests.typo import plain

import json
import re
from datetime import timedelta
from html.parser import HTMLParser

from sqlalchemy import select

from bot.notifications import render as render_notice
from handlers.notices import ticket_status
from desk.clock import utcnow
from desk.kb_store import record_deflection, record_feedback
from desk.models import OutboxMessage, Ticket, TicketEvent
from desk.outbox import Outgoing
from kb import KnowledgeBase
from tests.web.test_scoping import _token

PROJECTOR = "projector-wont-turn-on"
PROJECTOR_TITLE = "Le vidéoprojecteur ne s'allume pas"
PROJECTOR_URL = f"http://guichet.test/kb/{PROJECTOR}"
TUTORIAL_LINE = f"Tutoriel : {PROJECTOR_TITLE} — {PROJECTOR_URL}"
HOSTILE_SLUG = "<b>retiré</b>"


class _Tables(HTMLParser):
    """Every table of a page as rows of cell texts, plus the links met in each cell."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.links: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "a" and self._cell is not None:
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(re.sub(r"[ \t\n]+", " ", "".join(self._cell)).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _tutorial_section(html: str) -> tuple[str, _Tables]:
    html = plain(html)
    section = html.split('id="tutorials-title"', 1)[1].split("</section>", 1)[0]
    parser = _Tables()
    parser.feed(section)
    return section, parser


async def _seed_deflections(db) -> None:
    now = utcnow()
    async with db.sessions.begin() as s:
        for outcome in ("solved", "solved", "solved", "not_solved"):
            await record_deflection(s, PROJECTOR, outcome, "telegram", at=now - timedelta(days=2))
        await record_deflection(s, "internet-down", "not_solved", "webchat", at=now - timedelta(days=5))
        await record_deflection(s, HOSTILE_SLUG, "solved", "webchat", at=now - timedelta(days=1))
        await record_deflection(s, "internet-down", "solved", "webchat", at=now - timedelta(days=40))
        for helpful in (True, True, False):
            await record_feedback(s, PROJECTOR, helpful, "web", at=now - timedelta(days=3))
        await record_feedback(s, "printer-paper-jam", False, "web", at=now - timedelta(days=3))


async def test_supervisor_sees_tutorial_deflection_and_votes(signed_in, db, world) -> None:
    """The report shows offers, outcomes, the deflection rate and votes per article for the period."""
    await _seed_deflections(db)
    supervisor = await signed_in("chef.a@guichet.test")
    html = plain(await (await supervisor.get("/agents/reports?jours=30")).text())
    assert "Tutoriels et auto-dépannage" in html
    section, tables = _tutorial_section(html)
    assert "<strong>6</strong> tutoriels proposés" in section
    assert "<strong>4</strong> « Ça a marché »" in section
    assert "<strong>2</strong> « Toujours en panne »" in section
    assert "<strong>67 %</strong> de demandes évitées" in section
    rows = tables.tables[0][1:]
    assert rows[0] == [PROJECTOR_TITLE, "4", "3", "1", "75 %", "2", "1"]
    by_title = {row[0]: row[1:] for row in rows}
    assert by_title["Plus d'internet à l'école"] == ["1", "0", "1", "0 %", "0", "0"]
    assert by_title["Bourrage papier dans l'imprimante"] == ["0", "0", "0", "—", "0", "1"]
    assert by_title[f"{HOSTILE_SLUG} (article retiré)"] == ["1", "1", "0", "100 %", "0", "0"]
    assert f"/kb/{PROJECTOR}" in tables.links and "/kb/internet-down" in tables.links
    assert "<b>retiré</b>" not in section and "&lt;b&gt;retiré&lt;/b&gt;" in section
    year = plain(await (await supervisor.get("/agents/reports?jours=365")).text())
    assert "<strong>7</strong> tutoriels proposés" in _tutorial_section(year)[0]


async def test_tutorial_report_is_the_same_for_every_supervisor_and_hidden_from_agents(signed_in, db, world) -> None:
    """Deflections are territory-wide: the admin sees the same figures; a plain agent still gets 404."""
    await _seed_deflections(db)
    admin = await signed_in("admin@guichet.test")
    section, _ = _tutorial_section(await (await admin.get("/agents/reports?jours=30")).text())
    assert "<strong>6</strong> tutoriels proposés" in section
    agent = await signed_in("agent.a@guichet.test")
    assert (await agent.get("/agents/reports")).status == 404
    assert (await agent.get("/agents/reports?jours=30")).status == 404


async def test_ticket_page_suggests_tutorials_first(signed_in, world) -> None:
    """One list of the articles, the ticket's best matches first then the rest by title, named once as suggestions."""
    client = await signed_in("agent.a@guichet.test")
    html = plain(await (await client.get(f"/agents/tickets/{world.refs['a']}")).text())
    titles = re.findall(r'<option value="([^"]*)"></option>', html.split('<datalist id="tutorial-list">', 1)[1]
                        .split("</datalist>", 1)[0])
    assert titles[0] == PROJECTOR_TITLE.replace("'", "&#39;")
    assert len(titles) == len(set(titles)) == len(KnowledgeBase.from_directory().articles)
    others = titles[3:]
    assert others == sorted(others, key=str.casefold) and len(others) > 20
    suggestions = html.split('id="tutorial-suggestions">', 1)[1].split("</p>", 1)[0]
    assert suggestions.count("<a href=") == 3 and f'<a href="/kb/{PROJECTOR}">' in suggestions


async def test_ticket_page_renders_the_article_list_once(signed_in, world) -> None:
    """Reply, question and resolution each have a labelled field, all pointing at the page's one list."""
    client = await signed_in("agent.a@guichet.test")
    html = plain(await (await client.get(f"/agents/tickets/{world.refs['a']}")).text())
    assert html.count("<datalist") == 1 and html.count("<option value=\"Le vidéoprojecteur ne s&#39;allume pas\"") == 1
    assert html.count('name="article"') == 3 and '<select id="reply-article"' not in html
    for action, prefix in (("reply", "reply"), ("ask", "ask"), ("resolve", "resolve")):
        form = html.split(f'action="/agents/tickets/{world.refs["a"]}/{action}"', 1)[1].split("</form>", 1)[0]
        assert f'<label for="{prefix}-article">Joindre un tutoriel</label>' in form
        assert (f'<input id="{prefix}-article" name="article" list="tutorial-list" autocomplete="off" '
                f'aria-describedby="{prefix}-article-hint tutorial-suggestions">') in form


async def test_reply_names_the_tutorial_by_its_title(signed_in, db, world) -> None:
    """The page's field submits the article's title; the reply carries that article's link."""
    client = await signed_in("agent.a@guichet.test")
    ref = world.refs["a"]
    page = await client.post(f"/agents/tickets/{ref}/reply",
                             {"body": "Essayez ceci :", "article": f"  {PROJECTOR_TITLE.upper()} "})
    assert "Message envoyé au demandeur." in await page.text()
    async with db.sessions() as s:
        out = await s.scalar(select(OutboxMessage))
    assert out.payload["links"] == [{"label": PROJECTOR_TITLE, "url": PROJECTOR_URL}]


async def test_tried_tutorials_show_their_titles_in_the_timeline(signed_in, db, world) -> None:
    """A « kb » event, even an old one written with slugs, reads in French with the articles' titles."""
    async with db.sessions.begin() as s:
        ticket = await s.scalar(select(Ticket).where(Ticket.reference == world.refs["a"]))
        s.add(TicketEvent(ticket_id=ticket.id, kind="kb", actor_kind="system", at=utcnow(),
                          body=f"Tutoriel(s) essayé(s) sans succès : {PROJECTOR}, ancien-article",
                          data={"articles": [PROJECTOR, "ancien-article"]}))
    client = await signed_in("agent.a@guichet.test")
    html = plain(await (await client.get(f"/agents/tickets/{world.refs['a']}")).text())
    timeline = html.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    event = timeline.split('class="event event-kb">', 1)[1].split("</li>", 1)[0]
    assert "<strong>Tutoriels essayés par le demandeur</strong>" in event and "Kb" not in event
    assert ("Tutoriel(s) essayé(s) sans succès : Le vidéoprojecteur ne s&#39;allume pas, "
            "ancien-article (article retiré)") in event
    assert PROJECTOR not in event


async def test_reply_with_a_tutorial_links_it_for_the_teacher(signed_in, db, world) -> None:
    """A chat reply carries the tutorial as a link, not as a raw URL in its text; the event names it."""
    client = await signed_in("agent.a@guichet.test")
    ref = world.refs["a"]
    page = await client.post(f"/agents/tickets/{ref}/reply", {"body": "Essayez ceci :", "article": PROJECTOR})
    assert "Message envoyé au demandeur." in await page.text()
    async with db.sessions() as s:
        out = await s.scalar(select(OutboxMessage))
        ticket = await s.scalar(select(Ticket).where(Ticket.reference == ref))
        event = await s.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                         TicketEvent.kind == "reply"))
    assert out.body.startswith("Essayez ceci :") and PROJECTOR_URL not in out.body
    assert out.payload["links"] == [{"label": PROJECTOR_TITLE, "url": PROJECTOR_URL}]
    assert event.data == {"delivered": True, "article": PROJECTOR}
    assert event.body.endswith(TUTORIAL_LINE)


async def test_reply_by_email_ends_with_the_tutorial_line(signed_in, db, world) -> None:
    """E-mail cannot show a link button: the tutorial's title and address end the message."""
    client = await signed_in("agent.b@guichet.test")
    await client.post(f"/agents/tickets/{world.refs['b']}/reply", {"body": "Essayez ceci :", "article": PROJECTOR})
    async with db.sessions() as s:
        out = await s.scalar(select(OutboxMessage))
    assert out.channel == "email" and out.body.endswith(TUTORIAL_LINE)


async def test_ask_with_a_tutorial_keeps_the_answer_button_in_chats(signed_in, db, world) -> None:
    """A chat notice shows the tutorial link under the « Répondre » button the waiting ticket needs."""
    client = await signed_in("agent.a@guichet.test")
    await client.post(f"/agents/tickets/{world.refs['a']}/ask", {"body": "Quel modèle ?", "article": PROJECTOR})
    async with db.sessions() as s:
        row = await s.scalar(select(OutboxMessage))
    notice = render_notice(Outgoing(row.id, "webchat", row.recipient, row.subject, row.body,
                                    row.payload, row.ticket_id, 1), await ticket_status(db.sessions, row.ticket_id))
    assert [b.label for b in notice.buttons] == ["Répondre"]
    assert [(link.label, link.url) for link in notice.links] == [(PROJECTOR_TITLE, PROJECTOR_URL)]


async def test_reply_without_or_with_an_unknown_tutorial(signed_in, db, world) -> None:
    """No tutorial leaves the message as it was; an unknown slug is refused in French, nothing sent."""
    client = await signed_in("agent.a@guichet.test")
    ref = world.refs["a"]
    page = await client.post(f"/agents/tickets/{ref}/reply", {"body": "Bonjour", "article": "nexiste-pas"})
    assert "Ce tutoriel n&#39;existe pas" in await page.text()
    async with db.sessions() as s:
        assert (await s.scalars(select(OutboxMessage))).all() == []
    await client.post(f"/agents/tickets/{ref}/reply", {"body": "Bonjour", "article": ""})
    async with db.sessions() as s:
        out = await s.scalar(select(OutboxMessage))
    assert "Tutoriel" not in out.body and "links" not in out.payload


async def test_api_reply_with_a_tutorial(aiohttp_client, app, db, world) -> None:
    """The API's reply takes an `article` slug (documented); an unknown one answers 422 in French."""
    client = await aiohttp_client(app)
    headers = {"Authorization": f"Bearer {await _token(db, world.agents['a'])}"}
    url = f"/api/v1/tickets/{world.refs['a']}/actions/reply"
    bad = await client.post(url, json={"body": "Voici", "article": "nexiste-pas"}, headers=headers)
    assert bad.status == 422
    assert (await bad.json())["error"]["message"].startswith("Ce tutoriel n'existe pas")
    ok = await client.post(url, json={"body": "Voici", "article": PROJECTOR}, headers=headers)
    assert ok.status == 200
    async with db.sessions() as s:
        out = await s.get(OutboxMessage, (await ok.json())["outbox_id"])
    assert PROJECTOR_URL not in out.body
    assert out.payload["links"] == [{"label": PROJECTOR_TITLE, "url": PROJECTOR_URL}]
    detail = await (await client.get(f"/api/v1/tickets/{world.refs['a']}", headers=headers)).json()
    assert [e["data"] for e in detail["events"] if e["kind"] == "reply"] == [{"delivered": True, "article": PROJECTOR}]
    document = json.loads(await (await client.get("/api/openapi.json")).text())
    reply = document["paths"]["/api/v1/tickets/{reference}/actions/reply"]["post"]
    schema = reply["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert "article" in document["components"]["schemas"][schema]["properties"]

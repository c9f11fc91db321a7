"""The public knowledge-base pages on the real application: index, search, article, feedback."""

from __future__ import annotations

from tests.typo import plain

import re
import time

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from desk.models import ArticleFeedback
from guichet.settings import load_settings
from guichet.wiring import build_app
from web.app import init_app
from web.kb import kb_key, setup_kb
from web.kb.markdown import render
from web.kb.views import feedback_secret_key
from web.kb.tokens import MAX_AGE_SECONDS, check_token, make_token

TOKEN = re.compile(r'name="token" value="([^"]+)"')


SECRET = Fernet.generate_key().decode()


def settings(db):
    return load_settings(database_url=db.url, session_secret=SECRET, public_url="https://guichet.example")


@pytest.fixture
async def client(db, aiohttp_client):
    return await aiohttp_client(init_app(settings(db), db.engine, db.sessions, extensions=[setup_kb]))


async def test_index_groups_articles_by_equipment_in_french(client) -> None:
    """/kb is French, lists every article under French equipment labels, with a search box."""
    response = await client.get("/kb")
    html = plain(await response.text())
    assert response.status == 200
    assert '<html lang="fr">' in html
    assert "<h2 id=\"groupe-1\">Vidéoprojecteur</h2>" in html
    assert "Démarches et conseils" in html
    assert 'role="search"' in html and '<label for="q">' in html
    for article in client.app[kb_key].articles:
        assert f'href="/kb/{article.slug}"' in html
    assert "Content-Security-Policy" in response.headers


async def test_search_page_lists_results(client) -> None:
    """/kb/search?q= shows the best article first; a query without match says so in French."""
    html = plain(await (await client.get("/kb/search", params={"q": "le projo affiche pas de signal"})).text())
    assert html.index("/kb/projector-no-signal") < html.index("/kb/connect-laptop-to-projector")
    assert "Résultats pour « le projo affiche pas de signal »" in html
    html = plain(await (await client.get("/kb/search", params={"q": "pizzeria"})).text())
    assert "Aucun tutoriel ne correspond" in html
    response = await client.get("/kb/search", params={"q": "  "}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/kb"


async def test_search_query_is_escaped(client) -> None:
    """The query echoed back cannot inject markup."""
    html = plain(await (await client.get("/kb/search", params={"q": "<script>alert(1)</script>"})).text())
    assert "<script>" not in html and "&lt;script&gt;" in html


async def test_article_page_renders_markdown(client) -> None:
    """An article shows its title, numbered steps, bold, table, the form and the printable URL."""
    response = await client.get("/kb/theft-or-damage-first-48-hours")
    html = plain(await response.text())
    assert response.status == 200
    assert html.count("<h1>") == 1 and "<h2>À vérifier d&#x27;abord</h2>" in html
    assert "<ol>" in html and "<strong>48 heures</strong>" in html and "<table>" in html
    assert "Cet article vous a-t-il aidé ?" in html and 'method="post"' in html
    assert "Version en ligne : https://guichet.example/kb/theft-or-damage-first-48-hours" in html


async def test_unknown_article_is_a_french_404(client) -> None:
    """A wrong slug answers 404 with a French page, not a traceback."""
    response = await client.get("/kb/nexiste-pas")
    assert response.status == 404
    assert "Article introuvable" in await response.text()


async def test_css_is_served_with_print_rules(client) -> None:
    """The stylesheet has a print layout: no navigation, black on white, URLs shown."""
    response = await client.get("/kb/kb.css")
    css = await response.text()
    assert response.status == 200 and "@media print" in css
    assert 'content: " (" attr(href) ")"' in css


async def feedback_count(db) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count(ArticleFeedback.id)))


async def test_feedback_vote_is_recorded_and_thanked(client, db) -> None:
    """A vote posted with the page's token is stored, then the page thanks the teacher."""
    html = plain(await (await client.get("/kb/printer-paper-jam")).text())
    token = TOKEN.search(html).group(1)
    response = await client.post(
        "/kb/printer-paper-jam/feedback", data={"token": token, "helpful": "non"}, allow_redirects=False
    )
    assert response.status == 303
    assert response.headers["Location"] == "/kb/printer-paper-jam?merci=1#avis"
    async with db.sessions() as session:
        row = await session.scalar(select(ArticleFeedback))
    assert (row.slug, row.helpful, row.channel) == ("printer-paper-jam", False, "web")
    html = plain(await (await client.get(response.headers["Location"])).text())
    assert "Merci pour votre retour !" in html and 'method="post"' not in html


@pytest.mark.parametrize(
    "data",
    [
        {"helpful": "oui"},
        {"helpful": "oui", "token": "123.abc"},
        {"helpful": "peut-être", "token": "VALID"},
        {"helpful": "oui", "token": "OTHER-SLUG"},
    ],
)
async def test_forged_feedback_is_refused(client, db, data) -> None:
    """Missing, forged or other-article tokens and unknown answers are refused with a 400."""
    secret = client.app[feedback_secret_key]
    tokens = {"VALID": make_token(secret, "no-sound", time.time()),
              "OTHER-SLUG": make_token(secret, "internet-down", time.time())}
    data = {k: tokens.get(v, v) for k, v in data.items()}
    response = await client.post("/kb/no-sound/feedback", data=data)
    assert response.status == 400
    assert "Avis non enregistré" in await response.text()
    assert await feedback_count(db) == 0


async def test_feedback_is_post_only(client, db) -> None:
    """A GET on the feedback address (a link scanner) votes nothing."""
    response = await client.get("/kb/no-sound/feedback")
    assert response.status in (404, 405)
    assert await feedback_count(db) == 0


def test_tokens_expire_and_are_bound_to_the_article() -> None:
    """A token is valid for one article, for a day, and not from the future."""
    now = 1_800_000_000.0
    token = make_token(b"k", "a", now)
    assert check_token(b"k", "a", token, now + 10)
    assert not check_token(b"k", "b", token, now)
    assert not check_token(b"other", "a", token, now)
    assert not check_token(b"k", "a", token, now + MAX_AGE_SECONDS + 1)
    assert not check_token(b"k", "a", make_token(b"k", "a", now + 3600), now)
    assert not check_token(b"k", "a", "garbage", now)


def test_markdown_renderer_escapes_raw_html() -> None:
    """Raw HTML, scripts and links in an article come out as text, never as markup."""
    html = render(
        '## Titre <img src=x onerror="alert(1)">\n\n1. **gras** <script>x</script>\n\n'
        "[lien](javascript:alert(1))"
    )
    assert "<script>" not in html and "<img" not in html and "<a " not in html
    assert "<h2>Titre &lt;img" in html and "<li><strong>gras</strong> &lt;script&gt;" in html


def test_markdown_renderer_lists_and_headings() -> None:
    """Numbered lists keep their start, bullets become <ul>, # never outranks the page <h1>."""
    html = render("# A\n\nTexte\nsur deux lignes.\n\n3. trois\n   suite\n4. quatre\n\n- x\n- y")
    assert html.startswith("<h2>A</h2>")
    assert "<p>Texte sur deux lignes.</p>" in html
    assert '<ol start="3"><li>trois suite</li><li>quatre</li></ol>' in html
    assert "<ul><li>x</li><li>y</li></ul>" in html


async def test_whole_application_serves_the_kb(db, aiohttp_client) -> None:
    """With every extension wired, /kb answers and the agents' pages still do."""
    client = await aiohttp_client(build_app(settings(db), db.engine, db.sessions))
    assert (await client.get("/kb")).status == 200
    assert (await client.get("/kb/no-sound")).status == 200
    assert (await client.get("/agents/login")).status == 200


async def test_pages_are_typeset(client) -> None:
    """French typography on the knowledge base's pages: template text and article text alike."""
    import re

    from domain.french import NNBSP

    html = await (await client.get("/kb/printer-paper-jam")).text()
    assert f"Cet article vous a-t-il aidé{NNBSP}?" in html
    assert " ?" not in re.sub(r"<[^>]*>", "", html)

"""Public, read-only knowledge-base pages and the article feedback form."""

from __future__ import annotations

import time
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from domain.vocabulary import Channel, Equipment
from kb import Article, KnowledgeBase
from handlers.tutorials import rate_article
from web import labels
from web.app import sessions_key, settings_key
from web.kb.markdown import render
from web.kb.tokens import check_token, make_token
from web.keys import kb_key
from web.inputs import read_form

feedback_secret_key = web.AppKey("kb_feedback_secret", bytes)

GENERAL = "Démarches et conseils"
SEARCH_LIMIT = 10
MAX_QUERY = 200


def _page(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template(f"kb/{template}", request, context, status=status)


def _groups(kb: KnowledgeBase) -> list[tuple[str, list[Article]]]:
    """Articles under each piece of equipment they cover (vocabulary order), then the others."""
    groups: list[tuple[str, list[Article]]] = []
    for value in Equipment:
        articles = [a for a in kb.articles if value in a.equipment]
        if articles:
            groups.append((labels.EQUIPMENT.get(value, value), sorted(articles, key=lambda a: a.title)))
    general = [a for a in kb.articles if not a.equipment]
    if general:
        groups.append((GENERAL, sorted(general, key=lambda a: a.title)))
    return groups


async def index(request: web.Request) -> web.Response:
    """All tutorials grouped by equipment, with the search box."""
    return _page(request, "index.html", {"groups": _groups(request.app[kb_key]), "query": ""})


async def search(request: web.Request) -> web.Response:
    """Results for ?q=, best first; an empty query goes back to the index."""
    query = request.query.get("q", "").strip()[:MAX_QUERY]
    if not query:
        raise web.HTTPSeeOther("/kb")
    hits = request.app[kb_key].search(query, limit=SEARCH_LIMIT)
    return _page(request, "search.html", {"query": query, "hits": hits})


def _article(request: web.Request) -> Article:
    article = request.app[kb_key].get(request.match_info["slug"])
    if article is None:
        raise web.HTTPNotFound(
            text=aiohttp_jinja2.render_string(
                "kb/message.html", request,
                {"title": "Article introuvable", "query": "",
                 "message": "Cet article n'existe pas ou a été renommé. "
                            "Retrouvez tous les tutoriels depuis l'accueil de l'aide."},
            ),
            content_type="text/html",
        )
    return article


async def article_page(request: web.Request) -> web.Response:
    """One tutorial rendered from its Markdown, with the « did it help? » form."""
    article = _article(request)
    settings = request.app[settings_key]
    return _page(request, "article.html", {
        "article": article,
        "body": render(article.body),
        "equipment": [labels.EQUIPMENT.get(e, e) for e in article.equipment],
        "token": make_token(request.app[feedback_secret_key], article.slug, time.time()),
        "thanked": request.query.get("merci") == "1",
        "public_url": f"{settings.public_url.rstrip('/')}/kb/{article.slug}",
        "query": "",
    })


async def feedback(request: web.Request) -> web.StreamResponse:
    """Record one vote posted by the article's form, then redirect to the thanks message."""
    article = _article(request)
    form = await read_form(request)
    answer, token = form.get("helpful"), form.get("token")
    if answer not in ("oui", "non") or not isinstance(token, str) or not check_token(
        request.app[feedback_secret_key], article.slug, token, time.time()
    ):
        return _page(request, "message.html", {
            "title": "Avis non enregistré", "query": "",
            "message": "Le formulaire a expiré ou n'a pas été envoyé depuis cette page. "
                       "Rechargez l'article puis donnez votre avis à nouveau.",
            "back": f"/kb/{article.slug}",
        }, status=400)
    async with request.app[sessions_key].begin() as session:
        await rate_article(session, article.slug, answer == "oui", Channel.WEB)
    raise web.HTTPSeeOther(f"/kb/{article.slug}?merci=1#avis")

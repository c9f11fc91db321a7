"""Knowledge-base articles an agent can join to a message: the choices and the chosen one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiohttp import web

from desk.models import Ticket
from handlers.agent_actions import ActionRefused, Tutorial
from kb import Article, KnowledgeBase
from web.app import settings_key
from web.kb import kb_key

#: How many articles the ticket's own words put at the top of the list.
SUGGESTIONS = 3
#: Enough of a long description to find the topic, without analysing pages of logs.
MAX_QUERY = 2_000

#: slug or title (or nothing) -> the tutorial to join to a message; refuses an unknown one.
FindTutorial = Callable[[object], Tutorial | None]

UNKNOWN_ARTICLE = "Ce tutoriel n'existe pas : choisissez un article de l'aide en ligne (/kb)."


@dataclass(frozen=True, slots=True)
class TutorialChoices:
    """The « Joindre un tutoriel » list: the best matches for the ticket, then the rest by title."""

    suggested: tuple[Article, ...]
    others: tuple[Article, ...]

    def titles_of(self, slugs: Iterable[object]) -> list[str]:
        """The titles of these articles, for events that name them by slug (« kb »)."""
        titles = {article.slug: article.title for article in (*self.suggested, *self.others)}
        return [titles.get(str(slug)) or f"{slug} (article retiré)" for slug in slugs]


def tutorial_choices(kb: KnowledgeBase, ticket: Ticket) -> TutorialChoices:
    """Rank the articles for this ticket (subject, description, intent, equipment)."""
    query = f"{ticket.subject or ''}\n{ticket.description or ''}"[:MAX_QUERY]
    hits = kb.search(query, intent=ticket.intent, equipment=ticket.equipment, limit=SUGGESTIONS)
    suggested = tuple(hit.article for hit in hits)
    taken = {article.slug for article in suggested}
    others = sorted((a for a in kb.articles if a.slug not in taken), key=lambda a: (a.title.casefold(), a.slug))
    return TutorialChoices(suggested, tuple(others))


def _titled(kb: KnowledgeBase, title: str) -> Article | None:
    """The article with this title, whatever its case and spacing (the pages' field gives titles)."""
    wanted = " ".join(title.split()).casefold()
    return next((a for a in kb.articles if " ".join(a.title.split()).casefold() == wanted), None)


def find_tutorial(app: web.Application, chosen: object) -> Tutorial | None:
    """The article with this slug (API) or title (pages' field), with its public link; None when none was chosen.

    An unknown one is refused (ActionRefused), so the form and the API answer in French.
    """
    chosen = str(chosen or "").strip()
    if not chosen:
        return None
    kb = app[kb_key]
    article = kb.get(chosen) or _titled(kb, chosen)
    if article is None:
        raise ActionRefused(UNKNOWN_ARTICLE)
    base = app[settings_key].public_url.rstrip("/")
    return Tutorial(article.slug, article.title, f"{base}/kb/{article.slug}")

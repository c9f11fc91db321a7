"""`/avis/<token>`: the rating page an e-mail's link opens (`handlers.satisfaction`).

GET shows the ticket and the five scores and records nothing (mail scanners open links);
the teacher's click POSTs the score, recorded once for the ticket's requester.
"""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from desk.clock import utcnow
from domain.vocabulary import Channel, TicketStatus
from handlers import teacher_tickets as tickets
from handlers.satisfaction import RATING_PATH, ticket_for_rating
from web.app import sessions_key
from web.inputs import read_form
from web.kb import SECURITY_HEADERS

__all__ = ["setup_rating"]

SCORES = ((1, "1 – Pas satisfait"), (2, "2"), (3, "3"), (4, "4"), (5, "5 – Très satisfait"))
_RATED = "Vous avez déjà donné votre avis sur cette demande : merci !"


def _page(request: web.Request, context: dict[str, object], status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template("rating/page.html", request,
                                          {"query": "", "scores": SCORES, "message": "", "ask": False, **context},
                                          status=status)


def _unknown(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template("kb/message.html", request, {
        "title": "Lien introuvable", "query": "",
        "message": "Ce lien d'avis n'est pas (ou plus) valable. Vous pouvez toujours répondre au courriel "
                   "du guichet par une note de 1 à 5."}, status=404)


async def _state(session, ticket) -> tuple[str, bool]:
    """What the page says before the form, and whether it offers the form."""
    if await tickets.has_satisfaction(session, ticket.id):
        return _RATED, False
    if ticket.status not in (TicketStatus.CLOSED, TicketStatus.RESOLVED):
        return ("Cette demande n'est pas encore traitée : vous pourrez donner votre avis quand elle "
                "sera résolue."), False
    return "", True


async def show(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    async with request.app[sessions_key]() as session:
        ticket = await ticket_for_rating(session, token)
        if ticket is None:
            return _unknown(request)
        message, ask = await _state(session, ticket)
        return _page(request, {"ticket": ticket, "token": token, "message": message, "ask": ask})


async def record(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    form = await read_form(request)
    raw, comment = form.get("note"), form.get("commentaire")
    async with request.app[sessions_key].begin() as session:
        ticket = await ticket_for_rating(session, token)
        if ticket is None:
            return _unknown(request)
        message, ask = await _state(session, ticket)
        if not ask:
            return _page(request, {"ticket": ticket, "token": token, "message": message})
        score = int(raw) if isinstance(raw, str) and raw in {"1", "2", "3", "4", "5"} else None
        if score is None:
            return _page(request, {"ticket": ticket, "token": token, "ask": True,
                                   "message": "Choisissez une note de 1 à 5."}, status=400)
        done = await tickets.rate(session, ticket, score=score, requester_id=ticket.requester_id,
                                  channel=Channel.WEB.value, now=utcnow(),
                                  comment=comment if isinstance(comment, str) else None)
        text = ("Merci pour votre avis ! Il aide les équipes à s'améliorer." if done is tickets.Done.DONE
                else _RATED)
        return _page(request, {"ticket": ticket, "token": token, "message": text})


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith(RATING_PATH):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)


def setup_rating(app: web.Application) -> None:
    """The rating page; after `setup_kb`, whose templates and stylesheet it shares."""
    app.on_response_prepare.append(_security_headers)
    app.router.add_get(RATING_PATH + "{token}", show, name="rating_page")
    app.router.add_post(RATING_PATH + "{token}", record, name="rating_record")

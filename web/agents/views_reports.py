"""The supervisor's reports page."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from desk.clock import utcnow
from domain.french import percent_fr
from handlers.agent_reports import build_report, build_tutorial_report
from handlers.committee import Period, committee_review, period_choices, review_csv
from desk.errors import RecordNotFound
from handlers.claim_statement import statement_csv, statement_for
from handlers.insurance import insurance_csv, insurance_list
from handlers.satisfaction import LOW_RATING
from handlers.sla_report import compliance, compliance_by_commune, compliance_csv, month_label
from handlers.agent_scope import territory_name
from web import labels
from web.agents.templating import duration, render
from web.agents.views_ticket import not_found
from web.app import sessions_key
from web.auth import actor_key
from web.charts import committee_chart, paired_bars
from web.documents import committee_pack, pdf_response, render_document
from web.inputs import bounded_int
from web.kb import kb_key

PERIODS = (7, 30, 60, 90, 365)


def _csv(text: str, filename: str) -> web.Response:
    """A table to download, named for the agent's disk."""
    return web.Response(body=text.encode("utf-8"), content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


async def reports(request: web.Request) -> web.Response:
    actor = request[actor_key]
    if not actor.can_see_reports:
        return await not_found(request, "Cette page est introuvable.")
    try:
        days = int(request.query.get("jours", "60"))
    except ValueError:
        days = 60
    days = days if days in PERIODS else 60
    async with request.app[sessions_key]() as db:
        report = await build_report(db, actor, days)
        titles = {article.slug: article.title for article in request.app[kb_key].articles}
        tutorials = await build_tutorial_report(db, report.since, titles)
    def hours(value: float | None) -> str:
        return duration(value)

    return await render("agents/reports.html", request, {
        "r": report, "periods": PERIODS, "tutorials": tutorials, "percent": percent_fr,
        "known_articles": titles.keys(),
        "status_rows": [(labels.label(labels.STATUS, s), n) for s, n in report.by_status],
        "equipment_rows": [(labels.label(labels.EQUIPMENT, e) if e else "Non précisé", n) for e, n in report.by_equipment],
        "channel_rows": [(labels.label(labels.CHANNEL, c), n) for c, n in report.by_channel],
        "score_rows": [(f"{score}/5", count) for score, count in zip(range(1, 6), report.satisfaction.by_score)],
        "low_rating": LOW_RATING,
        "intent_rows": [(labels.label(labels.INTENT, i), n) for i, n in report.by_intent],
        "resolution_rows": [("Toutes catégories", report.resolution.count,
                             hours(report.resolution.mean_hours), hours(report.resolution.median_hours))]
        + [(labels.label(labels.INTENT, i), res.count, hours(res.mean_hours), hours(res.median_hours))
           for i, res in report.resolution_by_intent],
    })


async def committee(request: web.Request) -> web.Response:
    """The technical committee's bimonthly review: HTML, or the communes' table as CSV (?format=csv)."""
    actor = request[actor_key]
    if not actor.can_see_reports:
        return await not_found(request, "Cette page est introuvable.")
    today = utcnow().astimezone(ZoneInfo(actor.timezone)).date()
    error = None
    try:
        period = Period.parse(request.query["periode"]) if request.query.get("periode") else Period.last_complete(today)
    except ValueError as exc:
        error, period = str(exc), Period.last_complete(today)
    wanted = request.query.get("format") if error is None else None
    async with request.app[sessions_key]() as db:
        review = await committee_review(db, actor, period)
        rows = await compliance(db, actor, between=(period.start, period.end)) if wanted == "pdf" else []
        territory = await territory_name(db, actor) if wanted == "pdf" else ""
    name = f"comite-{period.key.replace('/', '_')}"
    if wanted == "csv":
        return _csv(review_csv(review), f"{name}.csv")
    if wanted == "pdf":
        return pdf_response(committee_pack(review, rows, territory), f"{name}.pdf")
    return await render("agents/committee.html", request, {
        "c": review, "chart": committee_chart(review), "choices": period_choices(today), "error": error,
        "csv_query": f"periode={period.key}&format=csv", "pdf_query": f"periode={period.key}&format=pdf",
    }, status=400 if error else 200)


async def sla_compliance(request: web.Request) -> web.Response:
    """Commitments kept per month, commitment and organisation, with a chart; CSV with ?format=csv."""
    actor = request[actor_key]
    if not actor.can_see_reports:
        return await not_found(request, "Cette page est introuvable.")
    months = bounded_int(request.query.get("mois", "6"), minimum=1, maximum=36) or 6
    async with request.app[sessions_key]() as db:
        rows = await compliance(db, actor, months)
        communes = await compliance_by_commune(db, actor, months)
    if request.query.get("format") == "csv":
        return _csv(compliance_csv(rows), "engagements.csv")
    totals: dict[str, list[int]] = {}
    for row in rows:
        met_breached = totals.setdefault(row.month, [0, 0])
        met_breached[0] += row.met
        met_breached[1] += row.breached
    chart = paired_bars("Engagements tenus et dépassés par mois",
                        [(month_label(m), met, breached) for m, (met, breached) in sorted(totals.items())],
                        "tenus", "dépassés")
    return await render("agents/sla_report.html", request, {
        "rows": rows, "communes": communes, "months": months, "chart": chart, "month_label": month_label, "percent": percent_fr,
        "hours": duration})


async def insurance(request: web.Request) -> web.Response:
    """The yearly list of new equipment for the insurers (art. 6), as a page or CSV (?format=csv)."""
    actor = request[actor_key]
    if not actor.can_see_reports:
        return await not_found(request, "Cette page est introuvable.")
    this_year = utcnow().astimezone(ZoneInfo(actor.timezone)).year
    year = bounded_int(request.query.get("annee", str(this_year)), minimum=2000, maximum=this_year) or this_year
    async with request.app[sessions_key]() as db:
        lines = await insurance_list(db, actor, year)
        territory = await territory_name(db, actor)
    if request.query.get("format") == "csv":
        return _csv(insurance_csv(lines), f"nouveaux-equipements-{year}.csv")
    total = sum(line.value_cents or 0 for line in lines)
    if request.query.get("format") == "pdf":
        return pdf_response(render_document("insurance", lines=lines, year=year, total=total, territory=territory,
                                    scope=actor.organisation_name),
                    f"nouveaux-equipements-{year}.pdf")
    return await render("agents/insurance.html", request, {
        "lines": lines, "year": year, "years": list(range(this_year, this_year - 7, -1)), "total": total})


async def claim_statement(request: web.Request) -> web.Response:
    """The statement of installed equipment and new values of a claim file (art. 6), to print
    (HTML), as a PDF (?format=pdf) or as CSV (?format=csv); any agent who sees the ticket."""
    actor = request[actor_key]
    reference = request.match_info["reference"]
    try:
        async with request.app[sessions_key]() as db:
            statement = await statement_for(db, actor, reference)
    except RecordNotFound:
        return await not_found(request, "Cette demande n'a pas de dossier de sinistre, ou elle est introuvable.")
    name = f"etat-equipements-{statement.reference}"
    wanted = request.query.get("format")
    if wanted == "csv":
        return _csv(statement_csv(statement), f"{name}.csv")
    html = render_document("statement", s=statement, territory=statement.territory)
    if wanted == "pdf":
        return pdf_response(html, f"{name}.pdf")
    return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-store"})

"""`GET /metrics` in Prometheus's text format.

Events counted in this process (triage latency and confidence) live in prometheus-client's
default registry; the desk's state (messages in, tickets opened and resolved, SLA breaches,
outbox backlog and dead letters, intake quarantine) is read from the database at scrape time,
so every process of a fleet tells the same totals for the shared database.
"""

from __future__ import annotations

import time

from aiohttp import web
from prometheus_client import REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from handlers.observability import DeskFigures, desk_figures
from nlu import NluBackend
from nlu.result import ParseResult
from web.keys import sessions_key

__all__ = ["MeasuredNlu", "TRIAGE_CONFIDENCE", "TRIAGE_SECONDS", "metrics"]

TRIAGE_SECONDS = Histogram(
    "guichet_triage_seconds", "Time to understand one message (NLU parse)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5))
TRIAGE_CONFIDENCE = Histogram(
    "guichet_triage_confidence", "Confidence of the intent found for a message",
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0))


class MeasuredNlu:
    """An NLU backend whose every parse is timed and whose confidence is recorded."""

    def __init__(self, backend: NluBackend) -> None:
        self.backend = backend

    async def aparse(self, text: str) -> ParseResult:
        start = time.perf_counter()
        result = await self.backend.aparse(text)
        TRIAGE_SECONDS.observe(time.perf_counter() - start)
        TRIAGE_CONFIDENCE.observe(result.confidence)
        return result

    def __getattr__(self, name: str):
        """What else the wrapped backend offers (its name, its state), unchanged."""
        if name == "backend":  # not set yet (copy, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.backend, name)


class _Figures:
    """A collector over one reading of the database."""

    def __init__(self, figures: DeskFigures) -> None:
        self.figures = figures

    def collect(self):
        f = self.figures
        by_channel = [
            (CounterMetricFamily, "guichet_messages_in", "Inbound messages stored, by channel", f.messages_in),
            (CounterMetricFamily, "guichet_tickets_opened", "Tickets opened, by channel", f.tickets_opened),
            (CounterMetricFamily, "guichet_tickets_resolved", "Tickets resolved, by channel", f.tickets_resolved),
            (GaugeMetricFamily, "guichet_outbox_backlog", "Notifications waiting to be sent, by channel",
             f.outbox_backlog),
            (GaugeMetricFamily, "guichet_outbox_dead", "Notifications given up on (dead letters), by channel",
             f.outbox_dead),
            (GaugeMetricFamily, "guichet_intake_quarantine", "Inbound messages quarantined, by channel",
             f.quarantine),
        ]
        for family, name, doc, values in by_channel:
            metric = family(name, doc, labels=["channel"])
            for channel, value in sorted(values.items()):
                metric.add_metric([channel], value)
            yield metric
        status = GaugeMetricFamily("guichet_tickets", "Tickets by status", labels=["status"])
        for name, value in sorted(f.tickets_by_status.items()):
            status.add_metric([name], value)
        yield status
        yield CounterMetricFamily("guichet_sla_breaches", "Commitments breached (SLA watcher)",
                                  value=f.sla_breaches)


async def metrics(request: web.Request) -> web.Response:
    """This process's counters and the desk's figures, in Prometheus's text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Figures(await desk_figures(request.app[sessions_key])))
    body = generate_latest(REGISTRY) + generate_latest(registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

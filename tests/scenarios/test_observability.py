"""What operators see of a report: log lines with ids and no personal data, and `/metrics` figures."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from guichet.logs import log_handler
from tests.scenarios.conftest import TEACHER_MAIL, World

PROJECT = ("guichet", "web", "bot", "handlers", "desk", "routing", "nlu", "kb")
REPORT = "le vidéoprojecteur de la classe de CM2 ne s'allume plus, le voyant reste éteint"


@pytest.fixture
def captured_log():
    """Every log record of the process as JSON lines: the libraries' at INFO, the project's at DEBUG."""
    stream = io.StringIO()
    handler = log_handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    ours = [logging.getLogger(name) for name in PROJECT]
    for logger in ours:
        logger.setLevel(logging.DEBUG)
    yield stream
    for logger in ours:
        logger.setLevel(logging.NOTSET)
    root.removeHandler(handler)
    root.setLevel(level)


async def test_logs_hold_no_personal_data(world: World, captured_log: io.StringIO) -> None:
    """A report through any door leaves no teacher's name, e-mail address or message text in the log."""
    await world.door.report(REPORT)
    await world.only_ticket()
    text = captured_log.getvalue()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all("event" in line and "level" in line for line in lines)
    for personal in ("Claire", "Martin", TEACHER_MAIL, "claire.martin", "vidéoprojecteur", "CM2",
                     "voyant reste", REPORT[:30]):
        assert personal.lower() not in text.lower(), f"{world.door.name}: {personal!r} in the log:\n{text}"


@pytest.mark.parametrize("world", ["webchat"], indirect=True)
async def test_metrics_count_the_report(world: World) -> None:
    """`/metrics` counts the messages in, the ticket opened and the triage, in Prometheus's format."""
    await world.door.report(REPORT)
    await world.only_ticket()
    response = await world.door.client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    body = await response.text()

    def value(pattern: str) -> float:
        match = re.search(rf"^{pattern} (\S+)$", body, re.M)
        assert match, f"{pattern} missing from:\n{body}"
        return float(match.group(1))

    assert value(r'guichet_messages_in_total\{channel="webchat"\}') >= 3  # the onboarding, then the report
    assert value(r'guichet_tickets_opened_total\{channel="webchat"\}') == 1
    assert value(r"guichet_sla_breaches_total") == 0
    assert value(r"guichet_triage_seconds_count") >= 1
    assert value(r"guichet_triage_confidence_count") >= 1
    for family in ("guichet_outbox_backlog", "guichet_outbox_dead", "guichet_intake_quarantine",
                   "guichet_tickets", "guichet_tickets_resolved_total"):
        assert f"# TYPE {family} " in body, family

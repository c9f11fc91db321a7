"""The log format setting: JSON lines with the bound ids in production, readable text in development."""

from __future__ import annotations

import io
import json
import logging

import structlog

from guichet.logs import log_handler
from guichet.settings import load_settings


def _emit(fmt: str) -> str:
    stream = io.StringIO()
    logger = logging.getLogger("guichet.test_logs")
    handler = log_handler(fmt, stream)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        with structlog.contextvars.bound_contextvars(request_id="req-12345678", ticket_id=42):
            logger.info("reply to %s dropped", "claire.martin@ac-lyon.fr")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return stream.getvalue()


def test_json_lines_carry_the_bound_ids_and_mask_addresses() -> None:
    """One JSON object a line, with the request and ticket ids; an e-mail address is masked."""
    line = json.loads(_emit("json"))
    assert line["event"] == "reply to <e-mail> dropped"
    assert (line["request_id"], line["ticket_id"], line["level"]) == ("req-12345678", 42, "info")
    assert line["logger"] == "guichet.test_logs" and line["timestamp"].endswith("Z")


def test_console_is_readable_text() -> None:
    """The development format is one plain line, not JSON, with the same ids."""
    text = _emit("console")
    assert "reply to <e-mail> dropped" in text and "request_id=req-12345678" in text
    assert not text.lstrip().startswith("{")


def test_the_format_is_a_setting() -> None:
    """GUICHET_LOG_FORMAT takes json, console or auto (console on a terminal, JSON otherwise)."""
    assert load_settings().log_format == "auto"
    assert load_settings(log_format="json").log_format == "json"

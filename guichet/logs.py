"""The process's logs through structlog: JSON lines in production, a readable console in development.

Every record — ours through `logging.getLogger(__name__)`, aiohttp's, the libraries' — goes
through the same processors: the ids bound for the work in hand (`request_id`, `update_id`,
`ticket_id`, bound with `structlog.contextvars`) are added, and e-mail addresses are masked, a
safety net under the rule that logs carry ids, never names, addresses or message text.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, TextIO

import structlog

__all__ = ["configure_logging", "log_handler", "mask_personal_data"]

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def mask_personal_data(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Replace any e-mail address left in the event or its values by « <e-mail> »."""
    for key, value in event.items():
        if isinstance(value, str) and "@" in value:
            event[key] = _EMAIL.sub("<e-mail>", value)
    return event


def _resolved(fmt: str, stream: TextIO) -> str:
    if fmt == "auto":
        return "console" if stream.isatty() else "json"
    return fmt


def _exception_step(fmt: str, stream: TextIO) -> list[Any]:
    """JSON carries the traceback as a string field; the console renders it itself."""
    return [structlog.processors.format_exc_info] if _resolved(fmt, stream) == "json" else []


def _renderer(fmt: str, stream: TextIO) -> Any:
    if _resolved(fmt, stream) == "json":
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=stream.isatty())


_SHARED: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(allow=["request_id", "update_id", "inbound_id", "ticket_id"]),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def log_handler(fmt: str = "auto", stream: TextIO | None = None) -> logging.Handler:
    """A handler writing to `stream` (stderr) through structlog's processors."""
    stream = stream or sys.stderr
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *_exception_step(fmt, stream),
            mask_personal_data,
            _renderer(fmt, stream),
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    return handler


def configure_logging(level: str = "INFO", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Route every logger of the process to `stream` (stderr) through structlog's processors."""
    handler = log_handler(fmt, stream)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )

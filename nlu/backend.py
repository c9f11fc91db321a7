"""The async interface every NLU backend offers, and a primary-with-fallback combinator."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from .result import ParseResult

log = logging.getLogger(__name__)


class NluUnavailable(RuntimeError):
    """The NLU backend cannot answer (server down, timing out or answering errors)."""


@runtime_checkable
class NluBackend(Protocol):
    """What the dialogue and the handlers need from an NLU."""

    async def aparse(self, text: str) -> ParseResult:
        """Intent and entities of one message."""
        ...


class FallbackNlu:
    """Ask `primary`; when it is unavailable, answer with `fallback` and leave it alone a while.

    After a failure the primary is skipped for `cooldown` seconds so that every message
    does not wait for a timeout while the server is down.
    """

    def __init__(
        self,
        primary: NluBackend,
        fallback: NluBackend,
        *,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.cooldown = cooldown
        self._clock = clock
        self._skip_until = float("-inf")
        self.last_error: NluUnavailable | None = None

    @property
    def primary_suspended(self) -> bool:
        return self._clock() < self._skip_until

    async def aparse(self, text: str) -> ParseResult:
        """The primary's answer, or the fallback's when the primary is unavailable."""
        if not self.primary_suspended:
            try:
                result = await self.primary.aparse(text)
            except NluUnavailable as exc:
                self.last_error = exc
                self._skip_until = self._clock() + self.cooldown
                log.warning("primary NLU unavailable, using the fallback for %.0f s: %s", self.cooldown, exc)
            else:
                self.last_error = None
                return result
        return await self.fallback.aparse(text)

"""Per-sender flood control: a sliding window, told once per window."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `messages` per `per_seconds` per sender."""

    messages: int = 20
    per_seconds: float = 60.0


class Verdict(StrEnum):
    ALLOW = "allow"
    WARN = "warn"  # over the limit: tell the sender once
    SILENT = "silent"  # still over the limit: already told


class SlidingWindow:
    """In-memory, per process: a flood is a burst, not something to remember across restarts."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self.limit = limit
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._warned: dict[str, float] = {}
        self._max_keys = max_keys

    def check(self, key: str) -> Verdict:
        now = self._clock()
        start = now - self.limit.per_seconds
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self._max_keys:
                self._forget(start)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= start:
            hits.popleft()
        hits.append(now)
        if len(hits) <= self.limit.messages:
            self._warned.pop(key, None)
            return Verdict.ALLOW
        if self._warned.get(key, float("-inf")) > start:
            return Verdict.SILENT
        self._warned[key] = now
        return Verdict.WARN

    def _forget(self, start: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= start]:
            del self._hits[key]
            self._warned.pop(key, None)

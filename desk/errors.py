"""Domain errors of the system of record; the web edge turns them into HTTP answers."""

from __future__ import annotations


class DeskError(Exception):
    """Base class of the desk's domain errors."""


class RecordNotFound(DeskError):
    """The record does not exist, or is outside the caller's scope."""


class IllegalTransition(DeskError):
    """A status change that the lifecycle of DOMAIN.md §8 does not allow."""

    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"illegal status change {current} -> {target}")
        self.current = current
        self.target = target

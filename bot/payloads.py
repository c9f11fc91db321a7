"""Button payloads: `verb:arg[:arg]`, ASCII, at most 64 bytes (Telegram's callback_data).

A payload that does not parse, or whose verb is unknown, is answered « Ce bouton n'est plus
valable » by the engine: buttons of an older version, or forged ones, never crash it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.messages import MAX_PAYLOAD_BYTES, Button

#: verb -> allowed argument counts.
VERBS: dict[str, frozenset[int]] = {
    "school": frozenset({1}),  # <school id> | none
    "role": frozenset({1}),  # teacher | director
    "here": frozenset({1}),  # yes | no: the school of the label's device is hers
    "kb": frozenset({1}),  # ok | ko
    "eq": frozenset({1}),  # <equipment> | other
    "skip": frozenset({1}),  # room | details
    "report": frozenset({1}),  # send | edit | cancel | open | new
    "edit": frozenset({1}),  # text | eq | room
    "dup": frozenset({1, 2}),  # new | same:<ticket id>
    "asset": frozenset({1}),  # other | mine (a tag of another school's device)
    "intent": frozenset({1}),  # <intent> | other
    "cancel": frozenset({2}),  # ask|yes|no : <ticket id>
    "add": frozenset({1}),  # <ticket id>
    "attach": frozenset({1}),  # <ticket id> | new
    "resolved": frozenset({2}),  # yes|no : <ticket id>
    "rate": frozenset({2}),  # 1..5 : <ticket id>
    "status": frozenset({1}),  # <ticket id> | all
    "menu": frozenset({1}),  # report | status | help
    "more": frozenset({1}),  # yes | no: a ticket for the other problem her message reported
}

_PART = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


@dataclass(frozen=True, slots=True)
class Payload:
    verb: str
    args: tuple[str, ...]

    def arg(self, index: int) -> str:
        return self.args[index]

    def int_arg(self, index: int) -> int | None:
        """The argument as a positive int, or None when it is not one."""
        value = self.args[index] if index < len(self.args) else ""
        return int(value) if value.isdigit() and len(value) < 12 else None


def encode(verb: str, *args: object) -> str:
    """The payload string; raises ValueError when it would not fit Telegram's limits."""
    raw = ":".join([verb, *(str(a) for a in args)])
    if verb not in VERBS or len(args) not in VERBS[verb]:
        raise ValueError(f"unknown payload shape: {raw!r}")
    if not raw.isascii() or len(raw.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload does not fit: {raw!r}")
    return raw


def button(label: str, verb: str, *args: object) -> Button:
    return Button(label, encode(verb, *args))


def parse(raw: str | None) -> Payload | None:
    """The payload, or None when it is malformed or unknown."""
    if not raw or not isinstance(raw, str) or not raw.isascii() or len(raw) > MAX_PAYLOAD_BYTES:
        return None
    verb, *args = raw.split(":")
    if verb not in VERBS or len(args) not in VERBS[verb]:
        return None
    if not all(_PART.match(a) for a in args):
        return None
    return Payload(verb, tuple(args))

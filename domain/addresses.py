"""A teacher's address on a channel, qualified by the territory whose door they used.

One deployment serves several territories through the same channels: a Telegram chat id is
the same person for every bot, a web-chat token is chosen by the page. The default territory
(the first served) keeps the bare address, exactly as a single-territory deployment stores it;
every other territory's addresses are `slug/address`, so conversations, inbound keys, identities
and the outbox never collide across territories.
"""

from __future__ import annotations

__all__ = ["qualify", "split"]

SEPARATOR = "/"


def qualify(namespace: str, address: str) -> str:
    """`address` as stored for the territory `namespace` ("" for the default territory)."""
    return f"{namespace}{SEPARATOR}{address}" if namespace else address


def split(stored: str) -> tuple[str, str]:
    """(namespace, bare address) of a stored address; the namespace is "" for the default territory."""
    namespace, sep, address = stored.partition(SEPARATOR)
    return (namespace, address) if sep else ("", stored)

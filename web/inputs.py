"""Reading what a client sent: numbers of the query and the path, form bodies.

A request that cannot be read is the client's mistake: `InvalidInput` carries the French answer,
and the application's error middlewares turn it into a 400 logged in one warning line. Anything
else a view raises is a bug and stays a 500, logged with its traceback.
"""

from __future__ import annotations

import re

from aiohttp import web
from multidict import MultiDictProxy

__all__ = ["MAX_ID", "InvalidInput", "bounded_int", "read_form"]

#: Row ids are 32-bit integers on PostgreSQL; SQLite refuses anything beyond 64 bits.
MAX_ID = 2**31 - 1

_DECIMAL = re.compile(r"-?[0-9]{1,19}")


class InvalidInput(ValueError):
    """A request whose query, path or body cannot be read; `message` is what the client is told."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


def bounded_int(raw: object, *, minimum: int = -MAX_ID, maximum: int = MAX_ID) -> int | None:
    """A plain decimal integer within bounds, or None (« 1e5 », « ² », « 10**30 », absent)."""
    if not isinstance(raw, str) or not _DECIMAL.fullmatch(raw.strip()):
        return None
    value = int(raw)
    return value if minimum <= value <= maximum else None


async def read_form(request: web.Request) -> MultiDictProxy[str | bytes | web.FileField]:
    """The posted form; InvalidInput for a body that does not decode (bytes that are not in its
    charset, an unknown charset, a multipart body without its boundary)."""
    try:
        form = await request.post()
    except (ValueError, LookupError) as exc:  # UnicodeDecodeError is a ValueError
        raise InvalidInput("Le formulaire envoyé est illisible. Rechargez la page puis recommencez.",
                           f"{type(exc).__name__}: {exc}") from None
    if any(isinstance(value, str) and "\x00" in value for value in form.values()):
        # PostgreSQL stores no NUL character: a form holding one cannot be a person's typing.
        raise InvalidInput("Le formulaire envoyé contient un caractère invalide.", "NUL in a form field")
    return form

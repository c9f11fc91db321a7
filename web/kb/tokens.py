"""Feedback form tokens: an HMAC of the article and the time the form was served.

A vote is accepted only with a token this server signed for that article less than a day
ago, so a forged POST from elsewhere (or a link scanner replaying nothing) cannot vote.
"""

from __future__ import annotations

import hashlib
import hmac

MAX_AGE_SECONDS = 24 * 3600
#: Clock skew tolerated between several `serve` processes sharing the secret.
FUTURE_SKEW_SECONDS = 60


def _mac(secret: bytes, slug: str, issued: int) -> str:
    return hmac.new(secret, f"kb-feedback:{slug}:{issued}".encode(), hashlib.sha256).hexdigest()


def make_token(secret: bytes, slug: str, now: float) -> str:
    """`<issued>.<hmac>` for the feedback form of `slug`."""
    issued = int(now)
    return f"{issued}.{_mac(secret, slug, issued)}"


def check_token(secret: bytes, slug: str, token: str, now: float) -> bool:
    """True when the token was signed by us for this slug and is neither stale nor from the future."""
    issued_text, _, mac = token.partition(".")
    if not issued_text.isdigit() or not mac:
        return False
    issued = int(issued_text)
    if not (now - MAX_AGE_SECONDS <= issued <= now + FUTURE_SKEW_SECONDS):
        return False
    return hmac.compare_digest(mac, _mac(secret, slug, issued))

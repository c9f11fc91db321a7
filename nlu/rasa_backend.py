"""A Rasa 3.6 NLU server as backend: `POST {base_url}/model/parse`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from domain.vocabulary import Intent

from .backend import NluUnavailable
from .result import ParseResult

log = logging.getLogger(__name__)


class RasaNlu:
    """Client of a Rasa server's HTTP API; pass a shared `session` or let it own one."""

    def __init__(
        self,
        base_url: str,
        session: aiohttp.ClientSession | None = None,
        *,
        timeout: float = 2.0,
        retries: int = 2,
        backoff: float = 0.2,
        token: str | None = None,
        fallback_intent: Intent = Intent.OUT_OF_SCOPE,
    ) -> None:
        """`timeout` is per attempt; `retries` more attempts follow a failure, `backoff`·2ⁿ s apart."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.token = token
        self.fallback_intent = fallback_intent
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> RasaNlu:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session this client created (never one passed in)."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    async def parse(self, text: str) -> ParseResult:
        """Rasa's reading of `text`; raises NluUnavailable once every attempt has failed."""
        data = await self._post("/model/parse", {"text": text})
        return ParseResult.from_rasa_json(data, fallback_intent=self.fallback_intent)

    async def aparse(self, text: str) -> ParseResult:
        """The NluBackend method (same as `parse`)."""
        return await self.parse(text)

    async def status(self) -> dict[str, Any]:
        """`GET /status`: the loaded model, or NluUnavailable."""
        return await self._request("GET", "/status", None)

    async def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        return await self._request("POST", path, payload)

    async def _request(self, method: str, path: str, payload: dict[str, Any] | None) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        params = {"token": self.token} if self.token else None
        last: str = ""
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                async with self._client().request(
                    method,
                    url,
                    json=payload,
                    params=params,
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                ) as resp:
                    if resp.status >= 500 or resp.status == 409:  # 409: no model loaded yet
                        last = f"HTTP {resp.status}"
                        continue
                    if resp.status >= 400:
                        body = (await resp.text())[:200]
                        raise NluUnavailable(f"Rasa NLU at {self.base_url} refused {path}: HTTP {resp.status} {body}")
                    data = await resp.json(content_type=None)
                    if not isinstance(data, dict):
                        raise NluUnavailable(f"Rasa NLU at {self.base_url} answered {path} with non-object JSON")
                    return data
            except TimeoutError:
                last = f"no answer within {self.timeout:g} s"
            except aiohttp.ClientConnectionError as exc:
                last = f"connection failed ({exc.__class__.__name__}: {exc})"
            except (aiohttp.ContentTypeError, ValueError) as exc:
                last = f"invalid JSON ({exc})"
            log.debug("Rasa attempt %d/%d failed: %s", attempt + 1, self.retries + 1, last)
        raise NluUnavailable(
            f"Rasa NLU server at {self.base_url} is unavailable after {self.retries + 1} attempt(s): {last}. "
            "Start it with `scripts/rasa.sh serve` or set GUICHET_NLU=local."
        )

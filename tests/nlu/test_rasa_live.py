"""Opt-in: a real Rasa 3.6 server at $GUICHET_TEST_RASA_URL (scripts/rasa.sh train && serve)."""

from __future__ import annotations

import os

import pytest

from domain.vocabulary import Intent
from nlu import RasaNlu

pytestmark = pytest.mark.rasa

URL = os.environ.get("GUICHET_TEST_RASA_URL")


@pytest.mark.skipif(not URL, reason="GUICHET_TEST_RASA_URL is not set")
async def test_real_rasa_parses() -> None:
    """The trained server answers /model/parse in the shape ParseResult reads."""
    async with RasaNlu(URL or "", timeout=10) as rasa:
        status = await rasa.status()
        result = await rasa.parse("le vidéoprojecteur de la salle 3 ne s'allume plus")
    assert status.get("model_file")
    assert result.intent in set(Intent)
    assert 0.0 <= result.confidence <= 1.0
    assert result.intent_ranking
    assert result.to_rasa_json()["intent"]["name"] == result.intent.value

"""Settings: defaults that follow one another."""

from __future__ import annotations

import pytest

from guichet.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch) -> None:
    for name in ("GUICHET_PUBLIC_URL", "GUICHET_HTTP_HOST", "GUICHET_HTTP_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir("/")  # no .env from the working tree


def test_public_url_follows_the_listening_port(monkeypatch) -> None:
    """With only GUICHET_HTTP_PORT set, links point at that port, not 8080."""
    monkeypatch.setenv("GUICHET_HTTP_PORT", "18431")
    assert load_settings().public_url == "http://127.0.0.1:18431"


@pytest.mark.parametrize(("host", "expected"), [
    ("0.0.0.0", "http://127.0.0.1:8080"),
    ("guichet.local", "http://guichet.local:8080"),
    ("::1", "http://[::1]:8080"),
])
def test_public_url_follows_the_listening_host(monkeypatch, host: str, expected: str) -> None:
    """Every interface is reached through the loopback; a named host or an IPv6 address is kept."""
    monkeypatch.setenv("GUICHET_HTTP_HOST", host)
    assert load_settings().public_url == expected


def test_an_explicit_public_url_wins(monkeypatch) -> None:
    """GUICHET_PUBLIC_URL (behind a proxy) is kept whatever the port."""
    monkeypatch.setenv("GUICHET_HTTP_PORT", "18431")
    monkeypatch.setenv("GUICHET_PUBLIC_URL", "https://guichet.example.fr")
    assert load_settings().public_url == "https://guichet.example.fr"


def test_the_bot_username_loses_its_at_sign_and_must_be_one(monkeypatch) -> None:
    """GUICHET_TELEGRAM_BOT_USERNAME: « @GuichetBot » is read as GuichetBot, blank as none, a URL is refused."""
    from guichet.settings import SettingsError

    monkeypatch.setenv("GUICHET_TELEGRAM_BOT_USERNAME", "@GuichetEcolesBot")
    assert load_settings().telegram_bot_username == "GuichetEcolesBot"
    monkeypatch.setenv("GUICHET_TELEGRAM_BOT_USERNAME", " ")
    assert load_settings().telegram_bot_username is None
    monkeypatch.setenv("GUICHET_TELEGRAM_BOT_USERNAME", "https://t.me/x")
    with pytest.raises(SettingsError, match="GUICHET_TELEGRAM_BOT_USERNAME"):
        load_settings()

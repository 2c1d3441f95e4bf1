"""The auth and limits settings: their environment names, the tokens file, and one-line
errors that never show a token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pubsubgo.config import ConfigError, Settings, load_settings
from pubsubgo.core.access import Action, token_digest

SECRET = "a-secret-token-of-some-length"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PUBSUB_ variable of the developer's shell, and no ./config.yaml, leaks in."""
    for name in list(os.environ):
        if name.startswith("PUBSUB_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def tokens_file(tmp_path: Path, text: str, name: str = "tokens.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


class TestEnvironment:
    def test_the_limit_and_timeout_variables_set_their_settings(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for name, value in {
            "PUBSUB_LIMITS_RATE_PER_SECOND": "50",
            "PUBSUB_LIMITS_RATE_BURST": "100",
            "PUBSUB_LIMITS_MAX_WEBSOCKETS": "2000",
            "PUBSUB_LIMITS_MAX_SUBSCRIPTIONS_PER_SOCKET": "5",
            "PUBSUB_SERVER_REQUEST_TIMEOUT_SECONDS": "12.5",
        }.items():
            monkeypatch.setenv(name, value)
        settings = load_settings()
        assert (settings.limits.rate_per_second, settings.limits.rate_burst) == (50, 100)
        assert settings.limits.max_websockets == 2000
        assert settings.limits.max_subscriptions_per_socket == 5
        assert settings.server.request_timeout_seconds == 12.5

    def test_auth_is_off_by_default_and_then_no_tokens_file_is_read(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("PUBSUB_AUTH_TOKENS_FILE", str(tmp_path / "not-mounted.yaml"))
        settings = load_settings()
        assert settings.auth.enabled is False
        assert settings.auth.every_token == []

    def test_tokens_come_from_a_mounted_yaml_file(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        path = tokens_file(
            tmp_path,
            f"tokens:\n  - name: billing\n    token: {SECRET}\n"
            "    permissions:\n      - {action: subscribe, pattern: billing-*}\n",
        )
        monkeypatch.setenv("PUBSUB_AUTH_ENABLED", "true")
        monkeypatch.setenv("PUBSUB_AUTH_TOKENS_FILE", str(path))
        [token] = load_settings().auth.every_token
        assert (token.name, token.token) == ("billing", token_digest(SECRET))
        assert token.principal().may(Action.SUBSCRIBE, "billing-eu")

    def test_tokens_come_from_a_json_file_or_a_json_variable(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        entry = {"name": "ci", "token": token_digest(SECRET), "permissions": []}
        path = tokens_file(tmp_path, json.dumps([entry]), "tokens.json")
        monkeypatch.setenv("PUBSUB_AUTH_ENABLED", "true")
        monkeypatch.setenv("PUBSUB_AUTH_TOKENS_FILE", str(path))
        monkeypatch.setenv("PUBSUB_AUTH_TOKENS", json.dumps([entry | {"name": "env"}]))
        with pytest.raises(ConfigError, match="same token"):
            load_settings()
        monkeypatch.setenv("PUBSUB_AUTH_TOKENS", json.dumps([]))
        assert [t.name for t in load_settings().auth.every_token] == ["ci"]


class TestErrors:
    def test_auth_enabled_without_a_token_is_one_line_naming_the_key(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PUBSUB_AUTH_ENABLED", "true")
        with pytest.raises(ConfigError) as raised:
            load_settings()
        assert str(raised.value).startswith("config error: auth.tokens: auth is enabled but")

    def test_a_missing_tokens_file_is_one_line_naming_its_variable(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("PUBSUB_AUTH_ENABLED", "true")
        monkeypatch.setenv("PUBSUB_AUTH_TOKENS_FILE", str(tmp_path / "gone.yaml"))
        with pytest.raises(ConfigError) as raised:
            load_settings()
        message = str(raised.value)
        assert message.startswith("config error: auth.tokens_file: ")
        assert message.endswith("(from PUBSUB_AUTH_TOKENS_FILE)")
        assert "\n" not in message

    def test_a_bad_token_in_the_file_is_named_without_showing_it(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        path = tokens_file(tmp_path, "- {name: short, token: tiny-secret}\n")
        monkeypatch.setenv("PUBSUB_AUTH_ENABLED", "true")
        monkeypatch.setenv("PUBSUB_AUTH_TOKENS_FILE", str(path))
        with pytest.raises(ConfigError) as raised:
            load_settings()
        assert "at least 16 characters" in str(raised.value)
        assert "tiny-secret" not in str(raised.value)

    def test_the_server_refuses_to_start_with_auth_on_and_no_tokens(self, tmp_path: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUBSUB_")}
        result = subprocess.run(
            [sys.executable, "-m", "pubsubgo"],
            env=env | {"PUBSUB_AUTH_ENABLED": "true"},
            capture_output=True,
            text=True,
            timeout=30,
            cwd=tmp_path,
        )
        assert result.returncode == 2
        assert result.stderr.strip().startswith("config error: auth.tokens:")


def test_the_settings_never_hold_a_plaintext_token() -> None:
    settings = Settings.model_validate(
        {"auth": {"enabled": True, "tokens": [{"name": "ci", "token": SECRET}]}}
    )
    assert SECRET not in settings.model_dump_json()
    assert SECRET not in repr(settings)

"""Configuration: DESIGN §6 environment names, YAML, precedence, and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pubsubgo.cli.server import command_line_overrides
from pubsubgo.config import ConfigError, Settings, load_settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PUBSUB_ variable of the developer's shell, and no ./config.yaml, leaks in."""
    for name in list(os.environ):
        if name.startswith("PUBSUB_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


class TestEnvironment:
    def test_the_design_variable_names_set_their_settings(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Given every variable DESIGN §6 names
        for name, value in {
            "PUBSUB_SERVER_PORT": "9000",
            "PUBSUB_STORAGE_BACKEND": "redis",
            "PUBSUB_REDIS_URL": "redis://cache:6379/2",
            "PUBSUB_METRICS_ENABLED": "false",
            "PUBSUB_METRICS_PORT": "9100",
            "PUBSUB_TRACING_ENABLED": "true",
            "PUBSUB_TRACING_OTLP_ENDPOINT": "http://otel:4318/v1/traces",
            "PUBSUB_LOG_LEVEL": "debug",
        }.items():
            monkeypatch.setenv(name, value)
        # When
        settings = load_settings()
        # Then
        assert settings.server.port == 9000
        assert settings.storage.backend == "redis"
        assert settings.redis.url == "redis://cache:6379/2"
        assert settings.metrics.enabled is False
        assert settings.metrics.port == 9100
        assert settings.tracing.enabled is True
        assert settings.tracing.otlp_endpoint == "http://otel:4318/v1/traces"
        assert settings.log.level == "DEBUG"

    def test_the_clis_own_variables_do_not_stop_the_server(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Given a shell that exported pubsub-cli's variables (DESIGN §9)
        monkeypatch.setenv("PUBSUB_SERVER", "http://localhost:8081")
        monkeypatch.setenv("PUBSUB_TOKEN", "a-token")
        # Then the server's settings load, untouched by them
        assert load_settings().server.port == 8081
        assert Settings().server.port == 8081

    def test_nested_names_reach_fields_with_underscores(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PUBSUB_GROUPS_SESSION_TIMEOUT_SECONDS", "30")
        monkeypatch.setenv("PUBSUB_LIMITS_MAX_BODY_BYTES", "1024")
        monkeypatch.setenv("PUBSUB_BROKER_DUTY_INTERVAL_SECONDS", "0.5")
        settings = load_settings()
        assert settings.groups.session_timeout_seconds == 30
        assert settings.limits.max_body_bytes == 1024
        assert settings.broker.duty_interval_seconds == 0.5

    def test_allowed_origins_take_a_comma_separated_list_or_json(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PUBSUB_SERVER_ALLOWED_ORIGINS", "http://a.example, http://b.example")
        assert load_settings().server.allowed_origins == ["http://a.example", "http://b.example"]
        monkeypatch.setenv("PUBSUB_SERVER_ALLOWED_ORIGINS", '["*"]')
        assert load_settings().server.allowed_origins == ["*"]


class TestFiles:
    def test_the_environment_overrides_the_file_and_the_command_line_both(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        # Given a file, an environment variable and a command-line option
        config = tmp_path / "broker.yaml"
        config.write_text("server:\n  port: 7000\n  host: 127.0.0.1\nlog:\n  level: WARNING\n")
        monkeypatch.setenv("PUBSUB_LOG_LEVEL", "ERROR")
        # When
        settings = load_settings(config, {"server": {"port": 7001}})
        # Then
        assert (settings.server.host, settings.server.port) == ("127.0.0.1", 7001)
        assert settings.log.level == "ERROR"

    def test_the_repository_config_file_is_valid_and_holds_the_defaults(self) -> None:
        assert load_settings(REPO / "config.yaml") == Settings()

    def test_an_unknown_key_in_the_file_is_named(self, tmp_path: Path) -> None:
        config = tmp_path / "typo.yaml"
        config.write_text("server:\n  prot: 1\n")
        with pytest.raises(ConfigError) as raised:
            load_settings(config)
        assert str(raised.value) == (
            f"config error: server.prot: Extra inputs are not permitted (from {config})"
        )

    def test_a_missing_file_is_one_line(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="not found"):
            load_settings(tmp_path / "absent.yaml")


def run_server(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m pubsubgo`` in ``tmp_path`` with only ``env`` as PUBSUB_ variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PUBSUB_")}
    return subprocess.run(
        [sys.executable, "-m", "pubsubgo", *args],
        cwd=tmp_path,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


class TestBadValuesStopTheServer:
    def test_a_bad_environment_value_exits_2_with_one_line_naming_the_variable(
        self, tmp_path: Path
    ) -> None:
        done = run_server(tmp_path, PUBSUB_SERVER_PORT="eighty")
        assert done.returncode == 2
        assert done.stderr.splitlines() == [
            "config error: server.port: Input should be a valid integer, unable to parse"
            " string as an integer (from PUBSUB_SERVER_PORT)"
        ]

    def test_a_group_variable_that_is_not_json_exits_2_in_one_line(self, tmp_path: Path) -> None:
        done = run_server(tmp_path, PUBSUB_LIMITS="{not json")
        assert done.returncode == 2
        assert len(done.stderr.splitlines()) == 1
        assert "PUBSUB_LIMITS must be a JSON object" in done.stderr

    def test_a_bad_file_value_exits_2_naming_the_file(self, tmp_path: Path) -> None:
        (tmp_path / "config.yaml").write_text("storage:\n  backend: cassandra\n")
        done = run_server(tmp_path)
        assert done.returncode == 2
        [line] = done.stderr.splitlines()
        assert line.startswith("config error: storage.backend: Input should be 'memory',")
        assert line.endswith("(from config.yaml)")

    def test_a_bad_command_line_value_is_blamed_on_the_command_line(self, tmp_path: Path) -> None:
        done = run_server(tmp_path, "--port", "70000")
        assert done.returncode == 2
        [line] = done.stderr.splitlines()
        assert line.startswith("config error: server.port: Input should be less than")
        assert line.endswith("(from the command line)")

    def test_a_config_file_named_by_pubsub_config_must_exist(self, tmp_path: Path) -> None:
        done = run_server(tmp_path, PUBSUB_CONFIG=str(tmp_path / "nope.yaml"))
        assert done.returncode == 2
        assert done.stderr.splitlines() == [
            f"config error: config file {str(tmp_path / 'nope.yaml')!r} not found"
        ]


class TestSqliteSettings:
    def test_the_variables_set_the_backend_its_file_and_its_mode(
        self,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("PUBSUB_STORAGE_BACKEND", "sqlite")
        monkeypatch.setenv("PUBSUB_SQLITE_PATH", "/var/lib/pubsubgo/broker.db")
        monkeypatch.setenv("PUBSUB_SQLITE_SYNCHRONOUS", "FULL")

        settings = load_settings()

        assert settings.storage.backend == "sqlite"
        assert settings.sqlite.path == Path("/var/lib/pubsubgo/broker.db")
        assert settings.sqlite.synchronous == "full"

    def test_the_defaults_are_a_file_in_the_working_directory_synced_normally(self) -> None:
        settings = load_settings()

        assert settings.sqlite.path == Path("pubsubgo.db")
        assert settings.sqlite.synchronous == "normal"
        assert settings.storage.backend == "memory"

    def test_data_dir_selects_sqlite_with_its_file_in_that_directory(
        self,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # Given a backend and a path set in the environment
        monkeypatch.setenv("PUBSUB_STORAGE_BACKEND", "memory")
        monkeypatch.setenv("PUBSUB_SQLITE_PATH", "elsewhere.db")

        # When --data-dir is given, it wins (the command line is the last word)
        settings = load_settings(
            overrides=command_line_overrides(None, None, None, Path("/srv/data"))
        )

        assert settings.storage.backend == "sqlite"
        assert settings.sqlite.path == Path("/srv/data/pubsubgo.db")

    def test_an_unknown_mode_is_refused_in_one_line_naming_the_variable(
        self,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("PUBSUB_SQLITE_SYNCHRONOUS", "off")

        with pytest.raises(ConfigError) as refused:
            load_settings()

        assert str(refused.value).startswith("config error: sqlite.synchronous: Input should be")
        assert "'normal'" in str(refused.value)
        assert str(refused.value).endswith("(from PUBSUB_SQLITE_SYNCHRONOUS)")

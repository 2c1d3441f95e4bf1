"""SQLite settings: the environment names, ``--data-dir``, and a bad mode refused in one line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pubsubgo.cli.server import command_line_overrides
from pubsubgo.config import ConfigError, load_settings

pytestmark = pytest.mark.sqlite


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PUBSUB_ variable of the developer's shell, and no ./config.yaml, leaks in."""
    for name in list(os.environ):
        if name.startswith("PUBSUB_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_the_variables_set_the_backend_its_file_and_its_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PUBSUB_STORAGE_BACKEND", "sqlite")
    monkeypatch.setenv("PUBSUB_SQLITE_PATH", "/var/lib/pubsubgo/broker.db")
    monkeypatch.setenv("PUBSUB_SQLITE_SYNCHRONOUS", "FULL")

    settings = load_settings()

    assert settings.storage.backend == "sqlite"
    assert settings.sqlite.path == Path("/var/lib/pubsubgo/broker.db")
    assert settings.sqlite.synchronous == "full"


def test_the_defaults_are_a_file_in_the_working_directory_synced_normally() -> None:
    settings = load_settings()

    assert settings.sqlite.path == Path("pubsubgo.db")
    assert settings.sqlite.synchronous == "normal"
    assert settings.storage.backend == "memory"


def test_data_dir_selects_sqlite_with_its_file_in_that_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a backend and a path set in the environment
    monkeypatch.setenv("PUBSUB_STORAGE_BACKEND", "memory")
    monkeypatch.setenv("PUBSUB_SQLITE_PATH", "elsewhere.db")

    # When --data-dir is given, it wins (the command line is the last word)
    settings = load_settings(overrides=command_line_overrides(None, None, None, Path("/srv/data")))

    assert settings.storage.backend == "sqlite"
    assert settings.sqlite.path == Path("/srv/data/pubsubgo.db")


def test_an_unknown_mode_is_refused_in_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PUBSUB_SQLITE_SYNCHRONOUS", "off")

    with pytest.raises(ConfigError) as refused:
        load_settings()

    assert str(refused.value).startswith("config error: sqlite.synchronous: Input should be")
    assert "'normal'" in str(refused.value)
    assert str(refused.value).endswith("(from PUBSUB_SQLITE_SYNCHRONOUS)")

"""What a newcomer types wrong: a bad ``--server``, and what ``--help`` shows for flags."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Cli, assert_one_line_error, clean_env, run_cli

pytestmark = pytest.mark.e2e


def assert_usage_error(args: list[str], *fragments: str, env: dict[str, str] | None = None) -> None:
    """``pubsub-cli ARGS`` exits 2 naming the option, with no traceback."""
    result = run_cli(*args, env=env)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert "unexpected" not in result.stderr
    assert "'--server'" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("server", "said"),
    [
        ("htp://localhost:8081", "'htp://localhost:8081' is not an http:// or https:// URL"),
        ("ws://localhost:8081", "is not an http:// or https:// URL"),
        ("http://", "names no host"),
    ],
)
def test_a_server_url_that_is_not_http_is_a_usage_error(server: str, said: str) -> None:
    assert_usage_error(["--server", server, "topics", "list"], said)


def test_a_server_url_from_the_environment_is_checked_too() -> None:
    env = clean_env(PUBSUB_SERVER="htp://x")
    assert_usage_error(["topics", "list"], "PUBSUB_SERVER", "not an http", env=env)


def test_a_server_url_ending_in_v1_names_the_base_url_to_use(cli: Cli) -> None:
    assert_usage_error(
        ["--server", f"{cli.url}/v1", "topics", "list"],
        f"give the broker's base URL without /v1: {cli.url}",
    )


def test_a_server_url_with_another_wrong_path_says_the_url_is_wrong(cli: Cli) -> None:
    result = run_cli("--server", f"{cli.url}/api", "topics", "list")
    # Then the broker's unknown-route 404 comes with what to check
    assert_one_line_error(result, 4, "HTTP 404", "is --server the broker's base URL")


@pytest.mark.parametrize(
    "command", [["--help"], ["subscriptions", "create", "--help"], ["consume", "--help"]]
)
def test_help_shows_flags_without_a_value_type(command: list[str]) -> None:
    result = run_cli(*command)
    assert result.returncode == 0, result.stderr
    assert "<bool>" not in result.stdout
    assert "--help" in result.stdout


def test_help_shows_the_type_of_options_that_take_a_value() -> None:
    result = run_cli("consume", "--help")
    options = {
        name.rstrip(","): line.split()
        for line in result.stdout.splitlines()
        for name in line.split()[:2]
        if name.startswith("--")
    }
    # Then --max shows the number it takes, --follow nothing after its names
    assert options["--max"][1].startswith("<int")
    assert options["--follow"][:3] == ["-F,", "--follow", "Keep"]

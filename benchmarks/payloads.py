"""Message payloads: fixed printable bytes, and timestamped ones for latency workloads.

Payloads are printable ASCII so that every system carries them unchanged, and the broker's
JSON holds them as plain strings (no escaping, no base64). A latency payload starts with
the publisher's wall clock in nanoseconds, so that a consumer in another process computes
the end-to-end latency from its own clock (one machine: one clock).
"""

from __future__ import annotations

import functools
import time

#: Printable, incompressible enough, with no character JSON would escape.
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#: Width of the timestamp at the start of a latency payload.
STAMP_DIGITS = 20


@functools.lru_cache(maxsize=16)
def payload(size: int) -> bytes:
    """``size`` printable bytes (the same ones for the same size)."""
    return bytes(_ALPHABET[(i * 7 + i // 64) % len(_ALPHABET)] for i in range(size))


def stamped(size: int) -> bytes:
    """A payload of ``size`` bytes (at least the stamp) starting with the time now."""
    stamp = b"%020d" % time.time_ns()
    return stamp + payload(max(0, size - STAMP_DIGITS))


def latency_ms(data: bytes | str) -> float:
    """Milliseconds since the stamp at the start of ``data`` was taken."""
    return (time.time_ns() - int(data[:STAMP_DIGITS])) / 1e6

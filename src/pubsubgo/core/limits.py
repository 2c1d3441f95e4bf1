"""Size limits on what clients may send, with the defaults of DESIGN §7."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """What one message and one publish batch may hold."""

    max_message_bytes: int = MIB
    max_batch_messages: int = 1000
    max_batch_bytes: int = 10 * MIB
    max_attributes: int = 64
    max_attribute_key_bytes: int = 256
    max_attribute_value_bytes: int = 1024
    max_key_bytes: int = 1024
    max_dedup_id_bytes: int = 256
    #: A delay or TTL longer than this is almost certainly a unit mistake.
    max_delay_seconds: float = 7 * 24 * 3600.0

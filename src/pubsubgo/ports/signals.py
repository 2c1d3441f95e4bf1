"""The MessageSignal port: waking long polls when a topic has something new."""

from __future__ import annotations

from typing import Protocol


class MessageSignal(Protocol):
    """Wakes waiters of a topic; a missed wake-up costs latency, never messages."""

    def notify(self, topic: str) -> None:
        """Wake everyone waiting on ``topic``."""
        ...

    async def wait(self, topic: str, within: float) -> bool:
        """Wait until ``topic`` is notified or ``within`` seconds pass; True if notified."""
        ...

"""InMemorySignal: wakes long polls in this process when a topic gets messages."""

from __future__ import annotations

import asyncio


class InMemorySignal:
    """MessageSignal with one asyncio.Event per topic, replaced after each wake-up."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def notify(self, topic: str) -> None:
        event = self._events.pop(topic, None)
        if event is not None:
            event.set()

    async def wait(self, topic: str, within: float) -> bool:
        event = self._events.setdefault(topic, asyncio.Event())
        try:
            async with asyncio.timeout(within):
                await event.wait()
        except TimeoutError:
            return False
        return True

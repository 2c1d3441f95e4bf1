"""InMemorySignal: tells this process's listeners when a topic gets messages."""

from __future__ import annotations

from pubsubgo.ports.signals import Listener


class InMemorySignal:
    """MessageSignal within one process: ``notify`` calls every listener at once."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def notify(self, topic: str, subscription: str | None = None) -> None:
        for listener in self._listeners:
            listener(topic, subscription)

    def listen(self, listener: Listener) -> None:
        if listener not in self._listeners:
            self._listeners.append(listener)

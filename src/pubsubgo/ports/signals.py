"""The MessageSignal port: telling waiting consumers that a topic has something new."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

#: Called with the topic that has news, or with None when notifications may have been
#: missed (a lost connection, a listener that just started): then any topic may have news.
Listener = Callable[[str | None], None]


class MessageSignal(Protocol):
    """Carries "this topic has news" between the broker processes sharing a storage.

    A missed notification costs latency, never messages: waiters look again on their own
    now and then.
    """

    def notify(self, topic: str) -> None:
        """Tell every listener, in this process at once and in the others as soon as they
        hear, that ``topic`` has news."""
        ...

    def listen(self, listener: Listener) -> None:
        """Call ``listener`` for every notification from now on (adding the same listener
        twice has no effect)."""
        ...

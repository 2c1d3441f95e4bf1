"""The MessageSignal port: telling waiting consumers that a topic has something new."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

#: Called with the topic that has news and, when the news concerns one subscription of it
#: only, that subscription (else None); with (None, None) when notifications may have been
#: missed (a lost connection, a listener that just started): then anything may have news.
Listener = Callable[[str | None, str | None], None]


class MessageSignal(Protocol):
    """Carries "this topic has news" between the broker processes sharing a storage.

    A missed notification costs latency, never messages: waiters look again on their own
    now and then.
    """

    def notify(self, topic: str, subscription: str | None = None) -> None:
        """Tell every listener, in this process at once and in the others as soon as they
        hear, that ``topic`` has news (for ``subscription`` only, when given)."""
        ...

    def listen(self, listener: Listener) -> None:
        """Call ``listener`` for every notification from now on (adding the same listener
        twice has no effect)."""
        ...

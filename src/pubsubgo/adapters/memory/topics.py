"""InMemoryTopicRegistry: topic definitions in a dict."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

from pubsubgo.adapters.memory.state import MemoryState, TopicState
from pubsubgo.core.errors import TopicAlreadyExists, TopicNotFound
from pubsubgo.core.names import EVERY_NAME, NamePage
from pubsubgo.core.topics import Topic


class InMemoryTopicRegistry:
    """TopicRegistry over the shared in-memory state."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def create(self, topic: Topic) -> None:
        if topic.name in self._state.topics:
            raise TopicAlreadyExists(topic.name)
        self._state.topics[topic.name] = TopicState.new(topic)

    async def get(self, name: str) -> Topic:
        return topic_state(self._state, name).topic

    async def list(self, page: NamePage = EVERY_NAME) -> list[Topic]:
        topics = self._state.topics
        return [topics[name].topic for name in page_of_names(topics, page)]

    async def update(self, topic: Topic) -> None:
        topic_state(self._state, topic.name).topic = topic

    async def delete(self, name: str) -> None:
        topic_state(self._state, name)
        del self._state.topics[name]


def page_of_names(
    names: Iterable[str], page: NamePage, keep: Callable[[str], bool] = bool
) -> list[str]:
    """The names of ``page`` that ``keep`` takes, in order."""
    kept = (n for n in sorted(filter(page.takes, names)) if keep(n))
    return list(kept if page.limit is None else itertools.islice(kept, page.limit))


def topic_state(state: MemoryState, name: str) -> TopicState:
    """The state of topic ``name``, or TopicNotFound."""
    try:
        return state.topics[name]
    except KeyError:
        raise TopicNotFound(name) from None

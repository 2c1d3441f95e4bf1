"""InMemoryTopicRegistry: topic definitions in a dict."""

from __future__ import annotations

from pubsubgo.adapters.memory.state import MemoryState, TopicState
from pubsubgo.core.errors import TopicAlreadyExists, TopicNotFound
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

    async def list(self) -> list[Topic]:
        return [self._state.topics[name].topic for name in sorted(self._state.topics)]

    async def delete(self, name: str) -> None:
        topic_state(self._state, name)
        del self._state.topics[name]


def topic_state(state: MemoryState, name: str) -> TopicState:
    """The state of topic ``name``, or TopicNotFound."""
    try:
        return state.topics[name]
    except KeyError:
        raise TopicNotFound(name) from None

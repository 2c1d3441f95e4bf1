"""TopicCreator: topics created by their first publish, when the broker is set to
(``topics.auto_create``)."""

from __future__ import annotations

from pubsubgo.core.access import Action, Principal
from pubsubgo.core.errors import PermissionDenied, TopicAlreadyExists, TopicNotFound
from pubsubgo.core.topics import AutoCreate, Topic
from pubsubgo.ports.clock import Clock
from pubsubgo.ports.topics import TopicRegistry


class TopicCreator:
    """Creates the missing topic of a publish when ``auto_create`` is set and the publisher
    may: creating a topic is an admin's act, so it takes ``admin`` on the name."""

    def __init__(self, topics: TopicRegistry, clock: Clock, auto_create: AutoCreate | None) -> None:
        self._topics = topics
        self._clock = clock
        self._auto_create = auto_create

    async def create(self, name: str, creator: Principal) -> Topic:
        """The topic ``name``, which a publish just found missing, created for ``creator``
        (or as another publish created it meanwhile).

        Raises:
            TopicNotFound: auto-create is off.
            PermissionDenied: ``creator`` may not create it.
        """
        if self._auto_create is None:
            raise TopicNotFound(name)
        if not creator.may(Action.ADMIN, name):
            raise PermissionDenied(Action.ADMIN.value, name)
        topic = self._auto_create.topic(name, self._clock.now())
        try:
            await self._topics.create(topic)
        except TopicAlreadyExists:
            return await self._topics.get(name)  # another publish created it first
        return topic

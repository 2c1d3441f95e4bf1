"""Fixtures shared by every test: clocks, storage backends and a wired broker."""

from __future__ import annotations

import itertools

import pytest

from pubsubgo.adapters.clock import ManualClock
from pubsubgo.adapters.memory import memory_storage
from pubsubgo.core.groups import GroupSettings
from pubsubgo.ports.storage import Storage
from pubsubgo.services.broker import Broker

#: Every backend the contract suite runs against. A backend that needs a server is added with
#: its marker, e.g. ``pytest.param("redis", marks=pytest.mark.redis)``, and a fixture named
#: ``<backend>_storage``.
BACKENDS = ["memory"]

_names = itertools.count()


def unique(prefix: str) -> str:
    """A name no other test uses, so tests never see each other's topics."""
    return f"{prefix}-{next(_names)}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def memory_storage_backend() -> Storage:
    return memory_storage()


@pytest.fixture(params=BACKENDS)
def storage(request: pytest.FixtureRequest) -> Storage:
    backend: Storage = request.getfixturevalue(f"{request.param}_storage_backend")
    return backend


@pytest.fixture
def broker(storage: Storage, clock: ManualClock) -> Broker:
    return Broker.build(storage, clock, group_settings=GroupSettings(3.0, 15.0))

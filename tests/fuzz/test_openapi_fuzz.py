"""Schemathesis against the broker's OpenAPI document, every call sent to the real app on a
real port, on the memory backend and on Redis.

Every operation (but the WebSocket upgrade and the event stream, which are no
request-response exchanges: their bad input is covered by ``test_bad_input.py`` and
``test_events.py``) is its own test, called with generated valid and invalid requests,
with and without the token, under every default check of schemathesis: no 5xx, every
status, header and body as the document declares, invalid requests refused and valid ones
accepted. Then the document's links (create a topic, publish to it, fetch what was
published, subscribe, pull, ack what was pulled, join the group, heartbeat...) drive
sequences of calls through the same checks, so that operations are reached with names and
ids that exist. Examples are few per operation, sequences few and short, and the runs
derandomized, so the whole is bounded (a minute or two on two cores) and the same on every
CI run; set ``PUBSUB_FUZZ_EXAMPLES=300 PUBSUB_FUZZ_SEQUENCES=200 PUBSUB_FUZZ_RANDOM=1`` to
explore further.

The schema is loaded when the module is collected, from the document the app serves at
``/v1/openapi.json`` (the app is built, not started), rather than through
``schemathesis.pytest.from_fixture``: that loader renames pytest's items through a private
attribute pytest 9.2 removed, whereas a schema known at collection is parametrized by
pytest's public API, one item per operation.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from pubsubgo.adapters.wire.keys import OPENAPI
from pubsubgo.containers import api_app, build_container
from tests.fuzz.conftest import TOKEN, ThreadedServer, fuzz_settings
from tests.fuzz.strategies import FORMATS, bounded_in_time, within_cross_field_rules

Case = schemathesis.Case[Any]

#: Generated requests per operation and phase.
MAX_EXAMPLES = int(os.environ.get("PUBSUB_FUZZ_EXAMPLES", "25"))
#: Call sequences the stateful run tries, and the most calls in one.
MAX_SEQUENCES = int(os.environ.get("PUBSUB_FUZZ_SEQUENCES", "40"))
MAX_STEPS = 10
#: Derandomized unless asked: a CI run is the same run every time.
DERANDOMIZE = not os.environ.get("PUBSUB_FUZZ_RANDOM")
#: The stateful run's bound in time, well above what it takes.
STATEFUL_TIMEOUT_SECONDS = 240

for _name, _strategy in FORMATS.items():
    schemathesis.openapi.format(_name, _strategy)


def _api_schema(backend: str) -> schemathesis.BaseSchema:
    """The document the app serves on ``backend``, with the token as its bearer scheme:
    schemathesis then also sends requests without it (and expects 401) and checks that no
    operation ignores it."""
    settings = fuzz_settings("redis://127.0.0.1:1" if backend == "redis" else None)
    document = api_app(build_container(settings))[OPENAPI]  # built, never started
    config = schemathesis.Config.from_dict(
        {
            "auth": {"openapi": {"bearer": {"bearer": TOKEN}}},
            # The PubSubGo batch stores its valid entries and answers 206 naming the others,
            # as its description says: a body with some bad entries is not refused whole.
            "operations": [
                {
                    "include-operation-id": "publish_batch",
                    "checks": {"negative_data_rejection": {"enabled": False}},
                }
            ],
        }
    )
    loaded = schemathesis.openapi.from_dict(document, config=config)

    @loaded.hook
    def map_case(context: schemathesis.HookContext, case: Case) -> Case:
        valid = case.meta is not None and case.meta.generation.mode.is_positive
        if valid and isinstance(case.body, dict):
            case.body = bounded_in_time(within_cross_field_rules(case.body, case.method))
        return case

    return loaded.exclude(path="/v1/ws").exclude(path="/v1/subscriptions/{sub}/events")


memory_schema = _api_schema("memory")
redis_schema = _api_schema("redis")
#: Each generated request is checked on its own.
STATELESS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=list(HealthCheck),
)


@memory_schema.parametrize()
@STATELESS
def test_every_operation_answers_as_the_document_says_on_memory(
    case: Case, memory_app: ThreadedServer
) -> None:
    case.call_and_validate(base_url=memory_app.url)


@redis_schema.parametrize()
@pytest.mark.redis
@STATELESS
def test_every_operation_answers_as_the_document_says_on_redis(
    case: Case, redis_app: ThreadedServer
) -> None:
    case.call_and_validate(base_url=redis_app.url)


@pytest.mark.timeout(STATEFUL_TIMEOUT_SECONDS)
@pytest.mark.parametrize(
    ("backend", "schema"),
    [("memory", memory_schema), pytest.param("redis", redis_schema, marks=pytest.mark.redis)],
)
def test_sequences_along_the_documents_links_answer_as_it_says(
    backend: str, schema: schemathesis.BaseSchema, request: pytest.FixtureRequest
) -> None:
    server: ThreadedServer = request.getfixturevalue(f"{backend}_app")

    class Sequences(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"base_url": server.url}

        def teardown(self) -> None:
            # Every sequence starts from the same state, so that the same calls get the
            # same answers when Hypothesis runs a sequence again.
            server.reset()
            super().teardown()

    Sequences.run(
        settings=settings(
            max_examples=MAX_SEQUENCES,
            stateful_step_count=MAX_STEPS,
            deadline=None,
            derandomize=DERANDOMIZE,
            suppress_health_check=list(HealthCheck),
        )
    )

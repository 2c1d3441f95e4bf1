"""Schemathesis against the broker's OpenAPI document, every call sent to the real app on a
real port.

Every operation (but the WebSocket upgrade, which is no request-response exchange: its
bad input is covered by ``test_bad_input.py``) is its own test, called with generated valid
and invalid requests, with and without the token, under every default check of
schemathesis: no 5xx, every status, header and body as the document declares, invalid
requests refused and valid ones accepted. Examples are few per operation and derandomized,
so the run is bounded (about half a minute on two cores) and the same on every CI run; set
``PUBSUB_FUZZ_EXAMPLES=300 PUBSUB_FUZZ_RANDOM=1`` to explore further.

The schema is loaded when the module is collected, from the document the app serves at
``/v1/openapi.json`` (the app is built, not started), rather than through
``schemathesis.pytest.from_fixture``: that loader renames pytest's items through a private
attribute pytest 9.2 removed, whereas a schema known at collection is parametrized by
pytest's public API, one item per operation.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from pubsubgo.adapters.wire.keys import OPENAPI
from pubsubgo.containers import api_app, build_container
from tests.fuzz.conftest import TOKEN, ThreadedServer, fuzz_settings
from tests.fuzz.strategies import FORMATS, within_cross_field_rules

Case = schemathesis.Case[Any]

#: Generated requests per operation and phase.
MAX_EXAMPLES = int(os.environ.get("PUBSUB_FUZZ_EXAMPLES", "25"))
#: Derandomized unless asked: a CI run is the same run every time.
DERANDOMIZE = not os.environ.get("PUBSUB_FUZZ_RANDOM")

for _name, _strategy in FORMATS.items():
    schemathesis.openapi.format(_name, _strategy)


def _api_schema() -> schemathesis.BaseSchema:
    """The served document, with the token as its bearer scheme: schemathesis then also
    sends requests without it (and expects 401) and checks that no operation ignores it."""
    document = api_app(build_container(fuzz_settings()))[OPENAPI]
    config = schemathesis.Config.from_dict({"auth": {"openapi": {"bearer": {"bearer": TOKEN}}}})
    loaded = schemathesis.openapi.from_dict(document, config=config)

    @loaded.hook
    def map_case(context: schemathesis.HookContext, case: Case) -> Case:
        valid = case.meta is not None and case.meta.generation.mode.is_positive
        if valid and isinstance(case.body, dict):
            case.body = within_cross_field_rules(case.body, case.method)
        return case

    return loaded.exclude(path="/v1/ws")


schema = _api_schema()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_the_document_says(
    case: Case, fuzzed_server: ThreadedServer
) -> None:
    case.call_and_validate(base_url=fuzzed_server.url)

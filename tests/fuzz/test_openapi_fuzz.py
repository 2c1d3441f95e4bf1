"""Schemathesis against /v1/openapi.json, served by the real app on a real port.

Every operation (but the WebSocket upgrade, which is no request-response exchange: its
bad input is covered by ``test_bad_input.py``) is called with generated valid and invalid
requests, with and without the token, under every default check of schemathesis: no 5xx,
every status, header and body as the document declares, invalid requests refused and
valid ones accepted. Examples are few per operation and derandomized, so the run is
bounded (about half a minute on two cores) and the same on every CI run; set
``PUBSUB_FUZZ_EXAMPLES=300 PUBSUB_FUZZ_RANDOM=1`` to explore further.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.fuzz.conftest import TOKEN, ThreadedServer
from tests.fuzz.strategies import FORMATS, within_cross_field_rules

Case = schemathesis.Case[Any]

#: One pytest test runs every operation as a subtest: more than the default 30 s may pass
#: on a loaded machine.
pytestmark = pytest.mark.timeout(300)

#: Generated requests per operation and phase.
MAX_EXAMPLES = int(os.environ.get("PUBSUB_FUZZ_EXAMPLES", "25"))
#: Derandomized unless asked: a CI run is the same run every time.
DERANDOMIZE = not os.environ.get("PUBSUB_FUZZ_RANDOM")

for _name, _strategy in FORMATS.items():
    schemathesis.openapi.format(_name, _strategy)


@pytest.fixture(scope="session")
def api_schema(fuzzed_server: ThreadedServer) -> schemathesis.BaseSchema:
    # The token as the document's bearer scheme, so that schemathesis also sends requests
    # without it (and expects 401) and checks that no operation ignores it.
    config = schemathesis.Config.from_dict({"auth": {"openapi": {"bearer": {"bearer": TOKEN}}}})
    schema = schemathesis.openapi.from_url(f"{fuzzed_server.url}/v1/openapi.json", config=config)

    @schema.hook
    def map_case(context: schemathesis.HookContext, case: Case) -> Case:
        valid = case.meta is not None and case.meta.generation.mode.is_positive
        if valid and isinstance(case.body, dict):
            case.body = within_cross_field_rules(case.body)
        return case

    return schema


schema = schemathesis.pytest.from_fixture("api_schema").exclude(path="/v1/ws")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_the_document_says(case: Case) -> None:
    case.call_and_validate()

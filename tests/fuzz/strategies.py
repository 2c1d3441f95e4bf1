"""What the fuzzer needs to know beyond the document: generators for the broker's own
formats, and the two rules relative to other fields or to the clock that JSON Schema
cannot state. None of this touches the checks: it only shapes the valid requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from pubsubgo.adapters.wire.schemas.requests import FILTER_FORMAT, RetryPolicyIn

#: Publishing refuses a ``deliver_at`` more than 7 days ahead; valid requests the fuzzer
#: sends use a time within this of now instead.
NEAR_FUTURE = timedelta(hours=1)
_DELIVER_AT_LIMIT = timedelta(days=6)
#: Topics the fuzzed server has from the start, for subscriptions' dead letters: the broker
#: refuses a dead-letter topic that does not exist (with a 400, not the 404 of a missing
#: topic, so the check of valid requests would flag it) or that is the topic itself.
DEAD_LETTER_TOPICS = ("dead-letters", "dead-letters-2")
#: The retry policy's defaults, which count when a body leaves one out.
DEFAULT_MINIMUM_BACKOFF = RetryPolicyIn().minimum_backoff_seconds
DEFAULT_MAXIMUM_BACKOFF = RetryPolicyIn().maximum_backoff_seconds

_KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True)
_VALUES = st.text(
    st.characters(exclude_characters='"\\', exclude_categories=["Cs"]), max_size=8
).map(lambda text: f'"{text}"')
_ATOMS = st.one_of(
    st.builds("attributes.{} = {}".format, _KEYS, _VALUES),
    st.builds("attributes.{} != {}".format, _KEYS, _VALUES),
    st.builds("attributes:{}".format, _KEYS),
    st.builds("hasPrefix(attributes.{}, {})".format, _KEYS, _VALUES),
    st.builds("key = {}".format, _VALUES),
    st.builds("key != {}".format, _VALUES),
    st.builds("hasPrefix(key, {})".format, _VALUES),
)


def _combined(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds("{} AND {}".format, inner, inner),
        st.builds("{} OR {}".format, inner, inner),
        inner.map("NOT {}".format),
        inner.map("({})".format),
    )


#: Subscription filters in the grammar of ``core/filters`` (empty matches everything).
FILTERS: st.SearchStrategy[str] = st.one_of(
    st.just(""), st.recursive(_ATOMS, _combined, max_leaves=4)
)
FORMATS = {FILTER_FORMAT: FILTERS}


#: The longest a generated pull waits for messages: the runs stay bounded in time.
MAX_PULL_WAIT_SECONDS = 0.2


def bounded_in_time(body: dict[str, Any]) -> dict[str, Any]:
    """A valid pull body that waits at most MAX_PULL_WAIT_SECONDS."""
    wait = body.get("wait_seconds")
    if isinstance(wait, int | float) and not isinstance(wait, bool):
        body["wait_seconds"] = min(wait, MAX_PULL_WAIT_SECONDS)
    return body


def within_cross_field_rules(body: dict[str, Any], method: str = "POST") -> dict[str, Any]:
    """A valid body changed to obey the rules JSON Schema cannot state: a retry policy's
    minimum backoff is at most its maximum, ``deliver_at`` is at most 7 days ahead, a
    dead-letter topic exists and differs from the subscription's topic, and a topic's
    update names no partition count (which must be the topic's own)."""
    if method == "PATCH":
        body.pop("partitions", None)
    if isinstance(body.get("dead_letter_topic"), str):
        taken = body.get("topic") == DEAD_LETTER_TOPICS[0]
        body["dead_letter_topic"] = DEAD_LETTER_TOPICS[1 if taken else 0]
    policy = body.get("retry_policy")
    if isinstance(policy, dict):
        low = policy.get("minimum_backoff_seconds", DEFAULT_MINIMUM_BACKOFF)
        high = policy.get("maximum_backoff_seconds", DEFAULT_MAXIMUM_BACKOFF)
        if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
            policy["minimum_backoff_seconds"] = high
    for message in body.get("messages", ()) if isinstance(body.get("messages"), list) else ():
        if isinstance(message, dict) and _too_far(message.get("deliver_at")):
            message["deliver_at"] = (datetime.now(UTC) + NEAR_FUTURE).isoformat()
    return body


def _too_far(value: object) -> bool:
    limit = datetime.now(UTC) + _DELIVER_AT_LIMIT
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value > limit.timestamp()
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.upper()) > limit
        except ValueError:
            return False
    return False

"""Tests for the subscription attribute filter language: parsing, evaluation, rendering."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pubsubgo.core.errors import InvalidArgument, InvalidFilter
from pubsubgo.core.filters import (
    MATCH_ALL,
    MAX_FILTER_LENGTH,
    MAX_NESTING,
    And,
    Equals,
    Expression,
    Filter,
    HasKey,
    HasPrefix,
    KeyEquals,
    KeyHasPrefix,
    KeyNotEquals,
    MatchAll,
    Not,
    NotEquals,
    Or,
    parse_filter,
)


def matches(text: str, attributes: Mapping[str, str]) -> bool:
    """Parse ``text`` and evaluate it on ``attributes``."""
    return parse_filter(text).matches(attributes)


def parse_error(text: str) -> InvalidFilter:
    """Return the InvalidFilter that parsing ``text`` raises."""
    with pytest.raises(InvalidFilter) as caught:
        parse_filter(text)
    return caught.value


class TestEquality:
    def test_equal_value_matches(self) -> None:
        assert matches('attributes.kind = "order"', {"kind": "order"})

    def test_different_value_does_not_match(self) -> None:
        assert not matches('attributes.kind = "order"', {"kind": "refund"})

    def test_absent_key_does_not_match(self) -> None:
        assert not matches('attributes.kind = "order"', {"other": "order"})

    def test_comparison_is_exact_not_a_prefix_or_case_insensitive(self) -> None:
        assert not matches('attributes.kind = "order"', {"kind": "orders"})
        assert not matches('attributes.kind = "order"', {"kind": "Order"})

    def test_empty_string_value_matches_an_empty_attribute(self) -> None:
        assert matches('attributes.kind = ""', {"kind": ""})
        assert not matches('attributes.kind = ""', {})


class TestInequality:
    def test_different_value_matches(self) -> None:
        assert matches('attributes.kind != "order"', {"kind": "refund"})

    def test_equal_value_does_not_match(self) -> None:
        assert not matches('attributes.kind != "order"', {"kind": "order"})

    def test_absent_key_matches_as_in_google_pubsub(self) -> None:
        assert matches('attributes.kind != "order"', {})


class TestHasPrefix:
    def test_value_starting_with_the_prefix_matches(self) -> None:
        assert matches('hasPrefix(attributes.region, "eu-")', {"region": "eu-west"})

    def test_value_not_starting_with_the_prefix_does_not_match(self) -> None:
        assert not matches('hasPrefix(attributes.region, "eu-")', {"region": "us-east"})

    def test_absent_key_does_not_match(self) -> None:
        assert not matches('hasPrefix(attributes.region, "eu-")', {"zone": "eu-west"})

    def test_empty_prefix_matches_any_present_value_but_not_an_absent_key(self) -> None:
        assert matches('hasPrefix(attributes.region, "")', {"region": ""})
        assert not matches('hasPrefix(attributes.region, "")', {})

    def test_whole_value_counts_as_its_own_prefix(self) -> None:
        assert matches('hasPrefix(attributes.region, "eu")', {"region": "eu"})


class TestKeyExists:
    def test_present_key_matches_whatever_its_value(self) -> None:
        assert matches("attributes:trace", {"trace": ""})
        assert matches("attributes:trace", {"trace": "abc"})

    def test_absent_key_does_not_match(self) -> None:
        assert not matches("attributes:trace", {"span": "abc"})


class TestRoutingKey:
    @pytest.mark.parametrize(
        ("text", "key", "expected"),
        [
            ('key = "eu"', "eu", True),
            ('key = "eu"', "eu-west", False),
            ('key = "eu"', None, False),
            ('key != "eu"', "us", True),
            ('key != "eu"', None, True),
            ('key != "eu"', "eu", False),
            ('hasPrefix(key, "eu-")', "eu-west", True),
            ('hasPrefix(key, "eu-")', "eu", False),
            ('hasPrefix(key, "")', None, False),
            ('hasPrefix(key, "eu-") AND attributes.tier = "gold"', "eu-1", True),
        ],
    )
    def test_key_tests_match_the_routing_key(
        self, text: str, key: str | None, expected: bool
    ) -> None:
        assert parse_filter(text).matches({"tier": "gold"}, key) is expected

    def test_an_attribute_named_key_is_not_the_routing_key(self) -> None:
        assert parse_filter('attributes.key = "eu"') == Equals("key", "eu")
        assert parse_filter('key = "eu"') == KeyEquals("eu")
        assert not parse_filter('key = "eu"').matches({"key": "eu"})

    @pytest.mark.parametrize(
        "text", ['key = "eu"', 'key != "eu"', 'hasPrefix(key, "eu-")', 'NOT key = "a b"']
    )
    def test_key_tests_render_back_to_their_text(self, text: str) -> None:
        assert str(parse_filter(text)) == text

    @pytest.mark.parametrize(
        ("text", "position"), [("key", 3), ("key = eu", 6), ("hasPrefix(key)", 13), ("key:a", 3)]
    )
    def test_a_malformed_key_test_is_refused_where_it_breaks(
        self, text: str, position: int
    ) -> None:
        assert parse_error(text).position == position

    def test_the_parsed_nodes_are_the_key_tests(self) -> None:
        parsed = parse_filter('key = "a" OR key != "b" OR hasPrefix(key, "c")')
        assert parsed == Or((KeyEquals("a"), KeyNotEquals("b"), KeyHasPrefix("c")))


class TestNegation:
    def test_not_inverts_its_operand(self) -> None:
        assert matches("NOT attributes:a", {})
        assert not matches("NOT attributes:a", {"a": "1"})

    def test_minus_is_a_synonym_for_not(self) -> None:
        assert parse_filter("-attributes:a") == parse_filter("NOT attributes:a")
        assert matches("- attributes:a", {})

    def test_double_negation_cancels_out(self) -> None:
        assert matches("NOT NOT attributes:a", {"a": "1"})
        assert matches("--attributes:a", {"a": "1"})
        assert not matches("NOT -attributes:a", {})

    def test_not_binds_tighter_than_and(self) -> None:
        # (NOT a) AND b, not NOT (a AND b).
        assert parse_filter("NOT attributes:a AND attributes:b") == And(
            (Not(HasKey("a")), HasKey("b"))
        )
        assert not matches("NOT attributes:a AND attributes:b", {})

    def test_not_applies_to_a_parenthesized_group(self) -> None:
        assert matches("NOT (attributes:a AND attributes:b)", {"a": "1"})
        assert not matches("NOT (attributes:a AND attributes:b)", {"a": "1", "b": "2"})


class TestAndOr:
    def test_and_needs_every_operand(self) -> None:
        text = "attributes:a AND attributes:b AND attributes:c"
        assert matches(text, {"a": "", "b": "", "c": ""})
        assert not matches(text, {"a": "", "c": ""})

    def test_or_needs_any_operand(self) -> None:
        text = "attributes:a OR attributes:b OR attributes:c"
        assert matches(text, {"b": ""})
        assert not matches(text, {"d": ""})

    def test_and_binds_tighter_than_or(self) -> None:
        # a OR (b AND c): true on a alone, which (a OR b) AND c would reject.
        text = "attributes:a OR attributes:b AND attributes:c"
        assert parse_filter(text) == Or((HasKey("a"), And((HasKey("b"), HasKey("c")))))
        assert matches(text, {"a": ""})
        assert not matches(text, {"b": ""})

    def test_and_binds_tighter_than_or_on_the_left_too(self) -> None:
        text = "attributes:a AND attributes:b OR attributes:c"
        assert parse_filter(text) == Or((And((HasKey("a"), HasKey("b"))), HasKey("c")))
        assert matches(text, {"c": ""})

    def test_chains_keep_their_operands_in_order(self) -> None:
        assert parse_filter("attributes:a OR attributes:b OR attributes:c") == Or(
            (HasKey("a"), HasKey("b"), HasKey("c"))
        )

    def test_parentheses_override_precedence(self) -> None:
        text = "(attributes:a OR attributes:b) AND attributes:c"
        assert parse_filter(text) == And((Or((HasKey("a"), HasKey("b"))), HasKey("c")))
        assert not matches(text, {"a": ""})
        assert matches(text, {"a": "", "c": ""})

    def test_redundant_parentheses_change_nothing(self) -> None:
        assert parse_filter("((attributes:a))") == HasKey("a")

    def test_keywords_are_case_sensitive(self) -> None:
        error = parse_error("attributes:a and attributes:b")
        assert error.position == 13


class TestKeysLiteralsAndWhitespace:
    def test_quoted_key_allows_any_characters(self) -> None:
        text = 'attributes."iana.org/lang tag" = "en"'
        assert parse_filter(text) == Equals("iana.org/lang tag", "en")
        assert matches(text, {"iana.org/lang tag": "en"})

    def test_quoted_key_works_in_every_form(self) -> None:
        assert matches('attributes:"a b"', {"a b": ""})
        assert matches('hasPrefix(attributes."a.b", "x")', {"a.b": "xy"})
        assert matches('attributes."a b" != "x"', {})

    def test_bare_keys_may_hold_digits_underscores_and_hyphens(self) -> None:
        assert parse_filter("attributes:_x-1_y") == HasKey("_x-1_y")

    def test_keywords_and_function_names_are_valid_bare_keys(self) -> None:
        text = 'attributes.AND = "1" AND attributes:attributes AND attributes:hasPrefix'
        assert parse_filter(text) == And(
            (Equals("AND", "1"), HasKey("attributes"), HasKey("hasPrefix"))
        )

    @pytest.mark.parametrize(
        ("literal", "value"),
        [
            (r'"say \"hi\""', 'say "hi"'),
            (r'"back\\slash"', "back\\slash"),
            (r'"two\nlines"', "two\nlines"),
            (r'"tab\there"', "tab\there"),
            ('"unicode é ✓"', "unicode é ✓"),
        ],
    )
    def test_string_escapes_are_resolved(self, literal: str, value: str) -> None:
        assert parse_filter(f"attributes.k = {literal}") == Equals("k", value)

    def test_whitespace_between_tokens_is_free(self) -> None:
        spaced = ' \n attributes . k\t=\r\n"v"  AND(  attributes : x )  '
        assert parse_filter(spaced) == parse_filter('attributes.k = "v" AND attributes:x')
        assert parse_filter('attributes.k="v"') == Equals("k", "v")


class TestEmptyFilter:
    @pytest.mark.parametrize("text", ["", " ", "\n\t  \r\n"])
    def test_empty_or_blank_text_is_match_all(self, text: str) -> None:
        assert parse_filter(text) is MATCH_ALL

    def test_match_all_matches_everything(self) -> None:
        assert MATCH_ALL.matches({})
        assert MATCH_ALL.matches({"a": "b"})

    def test_match_all_renders_as_empty_text(self) -> None:
        assert str(MATCH_ALL) == ""
        assert isinstance(MATCH_ALL, MatchAll)


class TestRendering:
    @pytest.mark.parametrize(
        ("text", "canonical"),
        [
            ('attributes.a="1"', 'attributes.a = "1"'),
            ('attributes.a!="1"', 'attributes.a != "1"'),
            ("attributes : a", "attributes:a"),
            ('hasPrefix( attributes.a ,"p" )', 'hasPrefix(attributes.a, "p")'),
            ("-attributes:a", "NOT attributes:a"),
            ("- - attributes:a", "NOT NOT attributes:a"),
            ("-(attributes:a OR attributes:b)", "NOT (attributes:a OR attributes:b)"),
            ("(attributes:a)AND(attributes:b)", "attributes:a AND attributes:b"),
            (
                "(attributes:a OR attributes:b)AND attributes:c",
                "(attributes:a OR attributes:b) AND attributes:c",
            ),
            (
                "attributes:a OR (attributes:b AND attributes:c)",
                "attributes:a OR attributes:b AND attributes:c",
            ),
            ('attributes."x y" = "q\\"\\\\\\n\\t"', 'attributes."x y" = "q\\"\\\\\\n\\t"'),
            ('attributes."plain" = "v"', 'attributes.plain = "v"'),
        ],
    )
    def test_str_renders_canonical_text(self, text: str, canonical: str) -> None:
        assert str(parse_filter(text)) == canonical

    def test_nested_same_operator_nodes_render_without_parentheses(self) -> None:
        nested = And((And((HasKey("a"), HasKey("b"))), HasKey("c")))
        assert str(nested) == "attributes:a AND attributes:b AND attributes:c"

    def test_and_inside_not_is_parenthesized(self) -> None:
        assert str(Not(And((HasKey("a"), HasKey("b"))))) == "NOT (attributes:a AND attributes:b)"

    def test_n_ary_nodes_need_two_operands(self) -> None:
        with pytest.raises(ValueError, match="at least two operands"):
            And((HasKey("a"),))
        with pytest.raises(ValueError, match="at least two operands"):
            Or(())


class TestErrors:
    @pytest.mark.parametrize(
        ("text", "position", "reason"),
        [
            ('attributes.a = "abc', 15, "unterminated string literal"),
            ('attributes.a = "abc\\', 15, "unterminated string literal"),
            ('attributes.a = "a\\qb"', 17, "unknown escape sequence"),
            ("attributes.a =", 14, "unexpected end of expression, expected a string literal"),
            ("attributes.a = AND attributes:b", 15, "expected a string literal"),
            ("attributes.a = 5", 15, "expected a string literal"),
            ("attributes.a = kind", 15, "expected a string literal"),
            ('attributes.a "x"', 13, "expected '=' or '!='"),
            ('attributes.a ! "x"', 13, "expected '=' or '!='"),
            ("attributes.a", 12, "unexpected end of expression, expected '=' or '!='"),
            ('attributes.a.b = "x"', 12, "expected '=' or '!='"),
            ('hasSuffix(attributes.a, "x")', 0, "unknown function hasSuffix"),
            ('attributes:a AND hasSuffix(attributes.a, "x")', 17, "unknown function hasSuffix"),
            ('hasPrefix(attributes:a, "x")', 20, "expected '.' after attributes"),
            ('hasPrefix(a, "x")', 10, "expected attributes.KEY"),
            ('hasPrefix(attributes.a "x")', 23, "expected ','"),
            ("hasPrefix(attributes.a, x)", 24, "expected a string literal"),
            ('hasPrefix(attributes.a, "x"', 27, "unexpected end of expression, expected ')'"),
            ("attributes:a attributes:b", 13, "expected AND, OR or the end of the expression"),
            ("attributes:a & attributes:b", 13, "expected AND, OR or the end of the expression"),
            ("(attributes:a", 0, "unbalanced parenthesis"),
            ("((attributes:a)", 0, "unbalanced parenthesis"),
            ("attributes:a)", 12, "unbalanced parenthesis"),
            ("(attributes:a))", 14, "unbalanced parenthesis"),
            ("(attributes:a attributes:b)", 14, "expected ')', AND or OR"),
            ("()", 1, "expected an attribute test"),
            ('attributes.1a = "x"', 11, "expected an attribute key"),
            ('attributes. = "x"', 12, "expected an attribute key"),
            ("attributes:", 11, "unexpected end of expression, expected an attribute key"),
            ('attributes = "x"', 11, "expected '.' or ':' after attributes"),
            ("kind", 0, "expected an attribute test"),
            ("OR attributes:a", 0, "expected an attribute test"),
            ("attributes:a AND", 16, "unexpected end of expression"),
            ("NOT", 3, "unexpected end of expression"),
            ("attributes:a AND  ", 18, "unexpected end of expression"),
        ],
    )
    def test_error_reports_position_and_reason(self, text: str, position: int, reason: str) -> None:
        error = parse_error(text)
        assert error.position == position
        assert reason in error.reason
        assert error.expression == text

    def test_earlier_syntax_error_wins_over_a_later_broken_literal(self) -> None:
        error = parse_error('attributes.a attributes.b = "unterminated')
        assert error.position == 13

    def test_invalid_filter_is_an_invalid_argument_with_the_position_in_details(self) -> None:
        error = parse_error("attributes:")
        assert isinstance(error, InvalidArgument)
        assert isinstance(error, ValueError)
        assert error.code == "invalid_filter"
        assert error.details() == {"field": "filter", "position": 11}
        assert "position 11" in error.message

    def test_text_of_exactly_the_maximum_length_is_accepted(self) -> None:
        prefix = 'attributes.a = "'
        text = prefix + "x" * (MAX_FILTER_LENGTH - len(prefix) - 1) + '"'
        assert len(text) == MAX_FILTER_LENGTH
        assert parse_filter(text) == Equals("a", "x" * (MAX_FILTER_LENGTH - len(prefix) - 1))

    def test_text_longer_than_the_maximum_is_rejected(self) -> None:
        error = parse_error(" " * (MAX_FILTER_LENGTH + 1))
        assert error.position == 4096
        assert error.reason == "filter longer than 4096 characters"

    def test_nesting_at_the_limit_is_accepted(self) -> None:
        parens = "(" * MAX_NESTING + "attributes:a" + ")" * MAX_NESTING
        assert parse_filter(parens) == HasKey("a")
        negations = "NOT " * MAX_NESTING + "attributes:a"
        assert parse_filter(negations).matches({"a": ""})

    @pytest.mark.parametrize(
        ("text", "position"),
        [
            ("(" * 65 + "attributes:a" + ")" * 65, 64),
            ("NOT " * 65 + "attributes:a", 256),
            ("-" * 65 + "attributes:a", 64),
            ("-(" * 33 + "attributes:a" + ")" * 33, 64),
        ],
    )
    def test_nesting_deeper_than_the_limit_is_rejected(self, text: str, position: int) -> None:
        error = parse_error(text)
        assert error.position == position
        assert error.reason == "nesting deeper than 64"

    def test_deepest_accepted_filter_needs_only_a_modest_stack(self) -> None:
        text = "attributes:a"
        for _ in range(MAX_NESTING):
            text = f"(attributes:b OR attributes:c AND {text})"
        previous = sys.getrecursionlimit()
        # Well under the default of 1000, so callers deep in a server stack keep headroom.
        sys.setrecursionlimit(len(inspect.stack(0)) + 600)
        try:
            parsed = parse_filter(text)
            rendered = str(parsed)
            matched = parsed.matches({"a": "x", "c": "y"})
        finally:
            sys.setrecursionlimit(previous)
        assert matched
        assert rendered == text.replace("(", "", 1)[:-1]

    @pytest.mark.parametrize(
        "text",
        ["(" * MAX_FILTER_LENGTH, "-" * MAX_FILTER_LENGTH, "NOT " * (MAX_FILTER_LENGTH // 4)],
    )
    def test_hostile_nesting_fails_cleanly_without_recursion_error(self, text: str) -> None:
        assert parse_error(text).reason == "nesting deeper than 64"


# --- properties ------------------------------------------------------------------------

KEY_POOL = ["a", "b", "my key", "AND", "x.y", 'q"uote', "back\\slash", "", "é"]
VALUE_POOL = ["", "1", "12", "eu-west", "eu", 'say "hi"', "line\nbreak", "tab\t"]

keys = st.one_of(st.sampled_from(KEY_POOL), st.text(max_size=6))
values = st.one_of(st.sampled_from(VALUE_POOL), st.text(max_size=6))

leaves: st.SearchStrategy[Expression] = st.one_of(
    st.builds(Equals, keys, values),
    st.builds(NotEquals, keys, values),
    st.builds(HasPrefix, keys, values),
    st.builds(HasKey, keys),
    st.builds(KeyEquals, values),
    st.builds(KeyNotEquals, values),
    st.builds(KeyHasPrefix, values),
)


def _extend(children: st.SearchStrategy[Expression]) -> st.SearchStrategy[Expression]:
    operands = st.lists(children, min_size=2, max_size=4).map(tuple)
    return st.one_of(st.builds(Not, children), st.builds(And, operands), st.builds(Or, operands))


expressions = st.recursive(leaves, _extend, max_leaves=12)
attribute_maps = st.dictionaries(
    st.sampled_from(KEY_POOL), st.sampled_from(VALUE_POOL + ["eu-", "x"]), max_size=len(KEY_POOL)
)

FRAGMENTS = [
    "attributes",
    "key",
    "hasPrefix",
    "hasSuffix",
    "AND",
    "OR",
    "NOT",
    "a",
    "my-key",
    ".",
    ":",
    ",",
    "=",
    "!=",
    "!",
    "-",
    "(",
    ")",
    '"v"',
    '"',
    "\\",
    '"\\q"',
    " ",
    "\n",
    "1",
    "&",
]
routing_keys = st.one_of(st.none(), st.sampled_from(VALUE_POOL + ["eu-west-1", "us"]))
grammar_soup = st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join)


def assert_parses_or_raises_invalid_filter(text: str) -> None:
    """Parse ``text``: a Filter, or InvalidFilter at a position inside the text."""
    outcome: Filter | InvalidFilter
    try:
        outcome = parse_filter(text)
    except InvalidFilter as error:
        # Any other exception escapes and fails the test.
        outcome = error
    if isinstance(outcome, InvalidFilter):
        assert 0 <= outcome.position <= len(text)
        assert outcome.expression == text
        assert outcome.reason
    else:
        assert str(parse_filter(str(outcome))) == str(outcome)


class TestProperties:
    @given(expressions, st.lists(st.tuples(attribute_maps, routing_keys), min_size=1, max_size=8))
    @settings(deadline=None)
    def test_rendered_text_parses_back_to_an_equivalent_filter(
        self, expression: Expression, samples: list[tuple[dict[str, str], str | None]]
    ) -> None:
        reparsed = parse_filter(str(expression))
        for attributes, key in samples:
            assert reparsed.matches(attributes, key) == expression.matches(attributes, key)

    @given(expressions)
    @settings(deadline=None)
    def test_rendering_is_a_fixed_point_after_one_round_trip(self, expression: Expression) -> None:
        assert str(parse_filter(str(expression))) == str(expression)

    @given(st.text(max_size=60))
    @settings(deadline=None)
    def test_arbitrary_text_parses_or_raises_invalid_filter(self, text: str) -> None:
        assert_parses_or_raises_invalid_filter(text)

    @given(grammar_soup)
    @settings(deadline=None)
    def test_token_soup_parses_or_raises_invalid_filter(self, text: str) -> None:
        assert_parses_or_raises_invalid_filter(text)

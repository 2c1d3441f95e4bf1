"""The filter parser: recursive descent over tokens, with positioned errors and limits."""

from __future__ import annotations

from typing import Final

from pubsubgo.core.errors import InvalidFilter
from pubsubgo.core.filters.expressions import (
    MATCH_ALL,
    And,
    Equals,
    Expression,
    Filter,
    HasKey,
    HasPrefix,
    KeyEquals,
    KeyHasPrefix,
    KeyNotEquals,
    Not,
    NotEquals,
    Or,
)
from pubsubgo.core.filters.lexer import Kind, Token, tokenize

__all__ = ["MAX_FILTER_LENGTH", "MAX_NESTING", "parse_filter"]

#: The longest filter text accepted, in characters.
MAX_FILTER_LENGTH: Final = 4096
#: The deepest nesting of parentheses and negations accepted.
MAX_NESTING: Final = 64

_KEYWORDS: Final = frozenset({"AND", "OR", "NOT"})


class _Parser:
    """Recursive-descent parser over the token list; one method per grammar rule."""

    __slots__ = ("_depth", "_index", "_text", "_tokens")

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self._text = text
        self._tokens = tokens
        self._index = 0
        self._depth = 0

    def parse(self) -> Expression:
        """Parse the whole text as one expression."""
        expression = self._parse_or()
        token = self._current()
        if token.kind is Kind.RPAREN:
            raise self._error(token, "unbalanced parenthesis: ')' without a matching '('")
        if token.kind is not Kind.END:
            raise self._error(token, "expected AND, OR or the end of the expression")
        return expression

    def _parse_or(self) -> Expression:
        operands = [self._parse_and()]
        while self._at_keyword("OR"):
            self._index += 1
            operands.append(self._parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def _parse_and(self) -> Expression:
        operands = [self._parse_unary()]
        while self._at_keyword("AND"):
            self._index += 1
            operands.append(self._parse_unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def _parse_unary(self) -> Expression:
        token = self._current()
        if token.kind is Kind.MINUS or self._at_keyword("NOT"):
            self._index += 1
            self._enter(token)
            operand = self._parse_unary()
            self._depth -= 1
            return Not(operand)
        return self._parse_primary()

    def _parse_primary(self) -> Expression:
        token = self._current()
        if token.kind is Kind.LPAREN:
            return self._parse_group(token)
        if token.kind is Kind.IDENT and token.value == "attributes":
            return self._parse_attribute_test()
        if token.kind is Kind.IDENT and token.value == "key":
            return self._parse_key_test()
        if token.kind is Kind.IDENT and token.value not in _KEYWORDS and self._calls():
            return self._parse_call(token)
        raise self._expected(token, "an attribute test, a key test, hasPrefix(...), NOT or '('")

    def _parse_group(self, opening: Token) -> Expression:
        self._index += 1
        self._enter(opening)
        expression = self._parse_or()
        self._depth -= 1
        token = self._current()
        if token.kind is Kind.END:
            # Point at the '(' left open: the end of the text says nothing useful.
            raise self._error(opening, "unbalanced parenthesis: '(' is never closed")
        self._expect(Kind.RPAREN, "')', AND or OR")
        return expression

    def _parse_attribute_test(self) -> Expression:
        self._index += 1  # "attributes"
        if self._current().kind is Kind.COLON:
            self._index += 1
            return HasKey(self._parse_key())
        self._expect(Kind.DOT, "'.' or ':' after attributes")
        key = self._parse_key()
        operator = self._current()
        if operator.kind is not Kind.EQ and operator.kind is not Kind.NE:
            raise self._expected(operator, "'=' or '!='")
        self._index += 1
        value = self._expect(Kind.STRING, "a string literal").value
        return Equals(key, value) if operator.kind is Kind.EQ else NotEquals(key, value)

    def _parse_key_test(self) -> Expression:
        self._index += 1  # "key": the message's routing key
        operator = self._current()
        if operator.kind is not Kind.EQ and operator.kind is not Kind.NE:
            raise self._expected(operator, "'=' or '!=' after key")
        self._index += 1
        value = self._expect(Kind.STRING, "a string literal").value
        return KeyEquals(value) if operator.kind is Kind.EQ else KeyNotEquals(value)

    def _parse_call(self, name: Token) -> Expression:
        if name.value != "hasPrefix":
            raise self._error(name, f"unknown function {name.value}")
        self._index += 2  # the name and "(", both already seen
        subject = self._current()
        if subject.kind is Kind.IDENT and subject.value == "key":
            self._index += 1
            self._expect(Kind.COMMA, "','")
            return KeyHasPrefix(self._prefix())
        if subject.kind is not Kind.IDENT or subject.value != "attributes":
            raise self._expected(subject, "attributes.KEY or key")
        self._index += 1
        self._expect(Kind.DOT, "'.' after attributes")
        key = self._parse_key()
        self._expect(Kind.COMMA, "','")
        return HasPrefix(key, self._prefix())

    def _prefix(self) -> str:
        """The string literal and ``)`` that end a ``hasPrefix`` call."""
        prefix = self._expect(Kind.STRING, "a string literal").value
        self._expect(Kind.RPAREN, "')'")
        return prefix

    def _parse_key(self) -> str:
        token = self._current()
        if token.kind is not Kind.IDENT and token.kind is not Kind.STRING:
            raise self._expected(token, "an attribute key (an identifier or a string literal)")
        self._index += 1
        return token.value

    # --- helpers -----------------------------------------------------------------------

    def _current(self) -> Token:
        """Return the token under the cursor, raising if it is a broken literal."""
        token = self._tokens[self._index]
        if token.kind is Kind.ERROR:
            raise self._error(token, token.value)
        return token

    def _calls(self) -> bool:
        """Tell whether the token after the current identifier opens an argument list."""
        return self._tokens[self._index + 1].kind is Kind.LPAREN

    def _at_keyword(self, keyword: str) -> bool:
        token = self._current()
        return token.kind is Kind.IDENT and token.value == keyword

    def _expect(self, kind: Kind, what: str) -> Token:
        """Consume and return a token of ``kind``, or raise saying ``what`` was expected."""
        token = self._current()
        if token.kind is not kind:
            raise self._expected(token, what)
        self._index += 1
        return token

    def _enter(self, opener: Token) -> None:
        """Count one more level of nesting, opened by ``opener``; refuse past the limit."""
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise self._error(opener, f"nesting deeper than {MAX_NESTING}")

    def _expected(self, token: Token, what: str) -> InvalidFilter:
        if token.kind is Kind.END:
            return self._error(token, f"unexpected end of expression, expected {what}")
        return self._error(token, f"expected {what}")

    def _error(self, token: Token, reason: str) -> InvalidFilter:
        return InvalidFilter(self._text, token.pos, reason)


def parse_filter(text: str) -> Filter:
    """Parse filter text into a :class:`Filter`.

    Args:
        text: The filter expression; empty or whitespace-only text matches everything.

    Returns:
        The parsed filter; :data:`MATCH_ALL` for empty text.

    Raises:
        InvalidFilter: The text is malformed, longer than :data:`MAX_FILTER_LENGTH`
            characters or nested deeper than :data:`MAX_NESTING`. ``position`` is the
            0-based offset of the offending token (``len(text)`` for an unexpected end).
    """
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidFilter(
            text, MAX_FILTER_LENGTH, f"filter longer than {MAX_FILTER_LENGTH} characters"
        )
    tokens = tokenize(text)
    if tokens[0].kind is Kind.END:
        return MATCH_ALL
    return _Parser(text, tokens).parse()

"""Subscription attribute filters: a small expression language, its parser and evaluator.

A subscription with a filter only receives the messages whose attributes match it; the
language follows Google Cloud Pub/Sub filters. Grammar (EBNF; keywords are case-sensitive,
whitespace is free between tokens)::

    filter     = [ or_expr ] ;                       (* empty text matches everything *)
    or_expr    = and_expr , { "OR" , and_expr } ;
    and_expr   = unary , { "AND" , unary } ;
    unary      = ( "NOT" | "-" ) , unary | primary ;
    primary    = "(" , or_expr , ")"
               | "attributes" , "." , key , ( "=" | "!=" ) , string
               | "attributes" , ":" , key
               | "hasPrefix" , "(" , "attributes" , "." , key , "," , string , ")" ;
    key        = identifier | string ;
    identifier = letter_ , { letter_ | digit | "-" } ;   (* letter_ = [A-Za-z_] *)
    string     = '"' , { character - ( '"' | "\\" ) | escape } , '"' ;
    escape     = "\\" , ( '"' | "\\" | "n" | "t" ) ;

Semantics: ``=`` needs the key present with exactly that value; ``!=`` is true when the key
is absent or holds another value; ``hasPrefix`` needs the key present; ``attributes:KEY``
tests presence only. Where a key is expected, ``AND``, ``OR``, ``NOT``, ``attributes`` and
``hasPrefix`` are ordinary identifiers. ``NOT`` binds tightest, then ``AND``, then ``OR``; a
chain of ``AND`` (or ``OR``) becomes one n-ary node evaluated left to right, which is
equivalent to the left-associative reading because both operators are associative.

Limits: texts longer than :data:`MAX_FILTER_LENGTH` characters and nesting (parentheses and
negations) deeper than :data:`MAX_NESTING` are rejected, so hostile input can never exhaust
Python's recursion limit in the parser, in :meth:`Filter.matches` or in ``str()``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, auto
from typing import ClassVar, Final, NamedTuple

from pubsubgo.core.errors import InvalidFilter

__all__ = [
    "MATCH_ALL",
    "MAX_FILTER_LENGTH",
    "MAX_NESTING",
    "And",
    "Equals",
    "Expression",
    "Filter",
    "HasKey",
    "HasPrefix",
    "MatchAll",
    "Not",
    "NotEquals",
    "Or",
    "parse_filter",
]

#: The longest filter text accepted, in characters.
MAX_FILTER_LENGTH: Final = 4096
#: The deepest nesting of parentheses and negations accepted.
MAX_NESTING: Final = 64

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_KEYWORDS: Final = frozenset({"AND", "OR", "NOT"})
# ASCII only, like identifiers: a no-break or other Unicode space is reported as an
# unexpected character instead of silently separating tokens.
_WHITESPACE: Final = " \t\n\r\f\v"
_ESCAPES: Final = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
_RENDERED_ESCAPES: Final = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"}

# How tightly each node kind binds when rendered; a node binding more loosely than its
# context accepts is parenthesized.
_OR_LEVEL: Final = 1
_AND_LEVEL: Final = 2
_UNARY_LEVEL: Final = 3


def _quote(text: str) -> str:
    """Render ``text`` as a double-quoted string literal."""
    return '"' + "".join(_RENDERED_ESCAPES.get(ch, ch) for ch in text) + '"'


def _render_key(key: str) -> str:
    """Render an attribute key bare when it is an identifier, quoted otherwise."""
    return key if _IDENTIFIER.fullmatch(key) else _quote(key)


class Filter(ABC):
    """A parsed filter: decides whether a message with some attributes is delivered.

    ``str(f)`` renders canonical filter text, and ``parse_filter(str(f))`` is equivalent
    to ``f``.
    """

    __slots__ = ()

    @abstractmethod
    def matches(self, attributes: Mapping[str, str]) -> bool:
        """Tell whether a message with these attributes passes the filter.

        Args:
            attributes: The message's attributes.

        Returns:
            True if the message should be delivered.
        """

    @abstractmethod
    def __str__(self) -> str:
        """Render the filter as canonical filter text."""


class Expression(Filter):
    """A non-empty filter expression: the nodes that can be combined with NOT, AND and OR."""

    __slots__ = ()

    def __str__(self) -> str:
        out: list[str] = []
        self._write(out, _OR_LEVEL)
        return "".join(out)

    @abstractmethod
    def _write(self, out: list[str], level: int) -> None:
        """Append this node's canonical text to ``out``.

        Rendering appends to one list, one stack frame per node, rather than nesting
        ``str()`` calls, each of which costs several frames of the recursion limit.

        Args:
            out: The text fragments rendered so far.
            level: The loosest binding the context accepts unparenthesized.
        """


@dataclass(frozen=True, slots=True)
class MatchAll(Filter):
    """The empty filter: every message matches. Renders as the empty text."""

    def matches(self, attributes: Mapping[str, str]) -> bool:
        """Return True whatever the attributes."""
        return True

    def __str__(self) -> str:
        return ""


#: The filter of a subscription without one; what ``parse_filter("")`` returns.
MATCH_ALL: Final[Filter] = MatchAll()


@dataclass(frozen=True, slots=True)
class Equals(Expression):
    """``attributes.KEY = "value"``: the key is present and holds exactly ``value``."""

    key: str
    value: str

    def matches(self, attributes: Mapping[str, str]) -> bool:
        """Tell whether ``key`` is present with exactly ``value``."""
        return attributes.get(self.key) == self.value

    def _write(self, out: list[str], level: int) -> None:
        out.append(f"attributes.{_render_key(self.key)} = {_quote(self.value)}")


@dataclass(frozen=True, slots=True)
class NotEquals(Expression):
    """``attributes.KEY != "value"``: the key is absent or holds another value."""

    key: str
    value: str

    def matches(self, attributes: Mapping[str, str]) -> bool:
        """Tell whether ``key`` is absent or holds something other than ``value``."""
        # An absent key counts as "not equal", as in Google Pub/Sub.
        return attributes.get(self.key) != self.value

    def _write(self, out: list[str], level: int) -> None:
        out.append(f"attributes.{_render_key(self.key)} != {_quote(self.value)}")


@dataclass(frozen=True, slots=True)
class HasPrefix(Expression):
    """``hasPrefix(attributes.KEY, "prefix")``: the key is present and starts with ``prefix``."""

    key: str
    prefix: str

    def matches(self, attributes: Mapping[str, str]) -> bool:
        """Tell whether ``key`` is present and its value starts with ``prefix``."""
        value = attributes.get(self.key)
        return value is not None and value.startswith(self.prefix)

    def _write(self, out: list[str], level: int) -> None:
        out.append(f"hasPrefix(attributes.{_render_key(self.key)}, {_quote(self.prefix)})")


@dataclass(frozen=True, slots=True)
class HasKey(Expression):
    """``attributes:KEY``: the key is present, whatever its value."""

    key: str

    def matches(self, attributes: Mapping[str, str]) -> bool:
        """Tell whether ``key`` is present."""
        return self.key in attributes

    def _write(self, out: list[str], level: int) -> None:
        out.append(f"attributes:{_render_key(self.key)}")


@dataclass(frozen=True, slots=True)
class Not(Expression):
    """``NOT expr`` (or ``-expr``): the operand does not match."""

    operand: Expression

    def matches(self, attributes: Mapping[str, str]) -> bool:
        """Tell whether the operand does not match."""
        return not self.operand.matches(attributes)

    def _write(self, out: list[str], level: int) -> None:
        out.append("NOT ")
        self.operand._write(out, _UNARY_LEVEL)


class _Chain(Expression):
    """What ``And`` and ``Or`` share: two or more operands joined by one keyword."""

    __slots__ = ()

    operands: tuple[Expression, ...]
    #: The keyword between operands, and how tightly it binds.
    _keyword: ClassVar[str]
    _level: ClassVar[int]

    def __post_init__(self) -> None:
        # One operand or none has no text form, so could not round-trip through str().
        if len(self.operands) < 2:
            raise ValueError(f"{type(self).__name__} needs at least two operands")

    def _write(self, out: list[str], level: int) -> None:
        parenthesize = self._level < level
        if parenthesize:
            out.append("(")
        for index, operand in enumerate(self.operands):
            if index:
                out.append(self._keyword)
            operand._write(out, self._level)
        if parenthesize:
            out.append(")")


@dataclass(frozen=True, slots=True)
class And(_Chain):
    """``a AND b AND ...``: every operand matches (evaluated left to right, short-circuit).

    Raises:
        ValueError: Fewer than two operands.
    """

    operands: tuple[Expression, ...]
    _keyword: ClassVar[str] = " AND "
    _level: ClassVar[int] = _AND_LEVEL

    def matches(self, attributes: Mapping[str, str]) -> bool:
        """Tell whether every operand matches."""
        return all(operand.matches(attributes) for operand in self.operands)


@dataclass(frozen=True, slots=True)
class Or(_Chain):
    """``a OR b OR ...``: some operand matches (evaluated left to right, short-circuit).

    Raises:
        ValueError: Fewer than two operands.
    """

    operands: tuple[Expression, ...]
    _keyword: ClassVar[str] = " OR "
    _level: ClassVar[int] = _OR_LEVEL

    def matches(self, attributes: Mapping[str, str]) -> bool:
        """Tell whether at least one operand matches."""
        return any(operand.matches(attributes) for operand in self.operands)


# --- tokenizer -------------------------------------------------------------------------


class _Kind(Enum):
    LPAREN = auto()
    RPAREN = auto()
    COMMA = auto()
    DOT = auto()
    COLON = auto()
    EQ = auto()
    NE = auto()
    MINUS = auto()
    IDENT = auto()
    STRING = auto()
    # A character that starts no token; the parser reports it in context ("expected ...").
    OTHER = auto()
    # A malformed string literal; ``value`` holds the reason. Always the last token.
    ERROR = auto()
    END = auto()


class _Token(NamedTuple):
    kind: _Kind
    value: str
    pos: int


_PUNCTUATION: Final = {
    "(": _Kind.LPAREN,
    ")": _Kind.RPAREN,
    ",": _Kind.COMMA,
    ".": _Kind.DOT,
    ":": _Kind.COLON,
    "=": _Kind.EQ,
    "-": _Kind.MINUS,
}


def _tokenize(text: str) -> list[_Token]:
    """Split ``text`` into tokens ending with END, or with ERROR at the first bad literal.

    Errors are kept as tokens rather than raised so that the parser reports problems in
    text order: a syntax error before a broken literal wins over the literal.
    """
    tokens: list[_Token] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        if pos == len(text):
            tokens.append(_Token(_Kind.END, "", pos))
            return tokens
        token, pos = _next_token(text, pos)
        tokens.append(token)
        if token.kind is _Kind.ERROR:
            return tokens


def _next_token(text: str, pos: int) -> tuple[_Token, int]:
    """Read the token starting at ``pos`` (not whitespace); return it and the end position."""
    char = text[pos]
    if char in _PUNCTUATION:
        return _Token(_PUNCTUATION[char], char, pos), pos + 1
    if text.startswith("!=", pos):
        return _Token(_Kind.NE, "!=", pos), pos + 2
    if char == '"':
        return _read_string(text, pos)
    match = _IDENTIFIER.match(text, pos)
    if match is not None:
        return _Token(_Kind.IDENT, match.group(), pos), match.end()
    return _Token(_Kind.OTHER, char, pos), pos + 1


def _read_string(text: str, start: int) -> tuple[_Token, int]:
    """Read the string literal whose opening quote is at ``start``, resolving escapes."""
    chars: list[str] = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == '"':
            return _Token(_Kind.STRING, "".join(chars), start), pos + 1
        if char != "\\":
            chars.append(char)
            pos += 1
            continue
        if pos + 1 == len(text):
            break
        escaped = _ESCAPES.get(text[pos + 1])
        if escaped is None:
            reason = f"unknown escape sequence {text[pos : pos + 2]!r} in string literal"
            return _Token(_Kind.ERROR, reason, pos), len(text)
        chars.append(escaped)
        pos += 2
    return _Token(_Kind.ERROR, "unterminated string literal", start), len(text)


# --- parser ----------------------------------------------------------------------------


class _Parser:
    """Recursive-descent parser over the token list; one method per grammar rule."""

    __slots__ = ("_depth", "_index", "_text", "_tokens")

    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self._text = text
        self._tokens = tokens
        self._index = 0
        self._depth = 0

    def parse(self) -> Expression:
        """Parse the whole text as one expression."""
        expression = self._parse_or()
        token = self._current()
        if token.kind is _Kind.RPAREN:
            raise self._error(token, "unbalanced parenthesis: ')' without a matching '('")
        if token.kind is not _Kind.END:
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
        if token.kind is _Kind.MINUS or self._at_keyword("NOT"):
            self._index += 1
            self._enter(token)
            operand = self._parse_unary()
            self._depth -= 1
            return Not(operand)
        return self._parse_primary()

    def _parse_primary(self) -> Expression:
        token = self._current()
        if token.kind is _Kind.LPAREN:
            return self._parse_group(token)
        if token.kind is _Kind.IDENT and token.value == "attributes":
            return self._parse_attribute_test()
        if token.kind is _Kind.IDENT and token.value not in _KEYWORDS and self._calls():
            return self._parse_call(token)
        raise self._expected(token, "an attribute test, hasPrefix(...), NOT or '('")

    def _parse_group(self, opening: _Token) -> Expression:
        self._index += 1
        self._enter(opening)
        expression = self._parse_or()
        self._depth -= 1
        token = self._current()
        if token.kind is _Kind.END:
            # Point at the '(' left open: the end of the text says nothing useful.
            raise self._error(opening, "unbalanced parenthesis: '(' is never closed")
        self._expect(_Kind.RPAREN, "')', AND or OR")
        return expression

    def _parse_attribute_test(self) -> Expression:
        self._index += 1  # "attributes"
        if self._current().kind is _Kind.COLON:
            self._index += 1
            return HasKey(self._parse_key())
        self._expect(_Kind.DOT, "'.' or ':' after attributes")
        key = self._parse_key()
        operator = self._current()
        if operator.kind is not _Kind.EQ and operator.kind is not _Kind.NE:
            raise self._expected(operator, "'=' or '!='")
        self._index += 1
        value = self._expect(_Kind.STRING, "a string literal").value
        return Equals(key, value) if operator.kind is _Kind.EQ else NotEquals(key, value)

    def _parse_call(self, name: _Token) -> Expression:
        if name.value != "hasPrefix":
            raise self._error(name, f"unknown function {name.value}")
        self._index += 2  # the name and "(", both already seen
        attributes = self._current()
        if attributes.kind is not _Kind.IDENT or attributes.value != "attributes":
            raise self._expected(attributes, "attributes.KEY")
        self._index += 1
        self._expect(_Kind.DOT, "'.' after attributes")
        key = self._parse_key()
        self._expect(_Kind.COMMA, "','")
        prefix = self._expect(_Kind.STRING, "a string literal").value
        self._expect(_Kind.RPAREN, "')'")
        return HasPrefix(key, prefix)

    def _parse_key(self) -> str:
        token = self._current()
        if token.kind is not _Kind.IDENT and token.kind is not _Kind.STRING:
            raise self._expected(token, "an attribute key (an identifier or a string literal)")
        self._index += 1
        return token.value

    # --- helpers -----------------------------------------------------------------------

    def _current(self) -> _Token:
        """Return the token under the cursor, raising if it is a broken literal."""
        token = self._tokens[self._index]
        if token.kind is _Kind.ERROR:
            raise self._error(token, token.value)
        return token

    def _calls(self) -> bool:
        """Tell whether the token after the current identifier opens an argument list."""
        return self._tokens[self._index + 1].kind is _Kind.LPAREN

    def _at_keyword(self, keyword: str) -> bool:
        token = self._current()
        return token.kind is _Kind.IDENT and token.value == keyword

    def _expect(self, kind: _Kind, what: str) -> _Token:
        """Consume and return a token of ``kind``, or raise saying ``what`` was expected."""
        token = self._current()
        if token.kind is not kind:
            raise self._expected(token, what)
        self._index += 1
        return token

    def _enter(self, opener: _Token) -> None:
        """Count one more level of nesting, opened by ``opener``; refuse past the limit."""
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise self._error(opener, f"nesting deeper than {MAX_NESTING}")

    def _expected(self, token: _Token, what: str) -> InvalidFilter:
        if token.kind is _Kind.END:
            return self._error(token, f"unexpected end of expression, expected {what}")
        return self._error(token, f"expected {what}")

    def _error(self, token: _Token, reason: str) -> InvalidFilter:
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
    tokens = _tokenize(text)
    if tokens[0].kind is _Kind.END:
        return MATCH_ALL
    return _Parser(text, tokens).parse()

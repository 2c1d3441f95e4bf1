"""The filter expression tree: nodes that match message attributes and render as text."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Final

from pubsubgo.core.filters.rendering import (
    AND_LEVEL,
    OR_LEVEL,
    UNARY_LEVEL,
    quote,
    render_key,
)

__all__ = [
    "MATCH_ALL",
    "And",
    "Equals",
    "Expression",
    "Filter",
    "HasKey",
    "HasPrefix",
    "KeyEquals",
    "KeyHasPrefix",
    "KeyNotEquals",
    "MatchAll",
    "Not",
    "NotEquals",
    "Or",
]


class Filter(ABC):
    """A parsed filter: decides whether a message with some attributes is delivered.

    ``str(f)`` renders canonical filter text, and ``parse_filter(str(f))`` is equivalent
    to ``f``.
    """

    __slots__ = ()

    @abstractmethod
    def matches(self, attributes: Mapping[str, str], key: str | None = None) -> bool:
        """Tell whether a message with these attributes (and routing key) passes the filter.

        Args:
            attributes: The message's attributes.
            key: The message's routing key; None when it has none.

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
        self._write(out, OR_LEVEL)
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

    def matches(self, attributes: Mapping[str, str], key: str | None = None) -> bool:
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

    def matches(self, attributes: Mapping[str, str], key: str | None = None) -> bool:
        """Tell whether ``key`` is present with exactly ``value``."""
        return attributes.get(self.key) == self.value

    def _write(self, out: list[str], level: int) -> None:
        out.append(f"attributes.{render_key(self.key)} = {quote(self.value)}")


@dataclass(frozen=True, slots=True)
class NotEquals(Expression):
    """``attributes.KEY != "value"``: the key is absent or holds another value."""

    key: str
    value: str

    def matches(self, attributes: Mapping[str, str], key: str | None = None) -> bool:
        """Tell whether ``key`` is absent or holds something other than ``value``."""
        # An absent key counts as "not equal", as in Google Pub/Sub.
        return attributes.get(self.key) != self.value

    def _write(self, out: list[str], level: int) -> None:
        out.append(f"attributes.{render_key(self.key)} != {quote(self.value)}")


@dataclass(frozen=True, slots=True)
class HasPrefix(Expression):
    """``hasPrefix(attributes.KEY, "prefix")``: the key is present and starts with ``prefix``."""

    key: str
    prefix: str

    def matches(self, attributes: Mapping[str, str], key: str | None = None) -> bool:
        """Tell whether ``key`` is present and its value starts with ``prefix``."""
        value = attributes.get(self.key)
        return value is not None and value.startswith(self.prefix)

    def _write(self, out: list[str], level: int) -> None:
        out.append(f"hasPrefix(attributes.{render_key(self.key)}, {quote(self.prefix)})")


@dataclass(frozen=True, slots=True)
class HasKey(Expression):
    """``attributes:KEY``: the key is present, whatever its value."""

    key: str

    def matches(self, attributes: Mapping[str, str], key: str | None = None) -> bool:
        """Tell whether ``key`` is present."""
        return self.key in attributes

    def _write(self, out: list[str], level: int) -> None:
        out.append(f"attributes:{render_key(self.key)}")


@dataclass(frozen=True, slots=True)
class KeyEquals(Expression):
    """``key = "value"``: the message has exactly this routing key (direct routing)."""

    value: str

    def matches(self, attributes: Mapping[str, str], key: str | None = None) -> bool:
        """Tell whether the message's key is ``value``."""
        return key == self.value

    def _write(self, out: list[str], level: int) -> None:
        out.append(f"key = {quote(self.value)}")


@dataclass(frozen=True, slots=True)
class KeyNotEquals(Expression):
    """``key != "value"``: the message has no routing key, or another one."""

    value: str

    def matches(self, attributes: Mapping[str, str], key: str | None = None) -> bool:
        """Tell whether the message's key is absent or other than ``value``."""
        return key != self.value

    def _write(self, out: list[str], level: int) -> None:
        out.append(f"key != {quote(self.value)}")


@dataclass(frozen=True, slots=True)
class KeyHasPrefix(Expression):
    """``hasPrefix(key, "prefix")``: the message has a routing key starting with ``prefix``."""

    prefix: str

    def matches(self, attributes: Mapping[str, str], key: str | None = None) -> bool:
        """Tell whether the message has a key and it starts with ``prefix``."""
        return key is not None and key.startswith(self.prefix)

    def _write(self, out: list[str], level: int) -> None:
        out.append(f"hasPrefix(key, {quote(self.prefix)})")


@dataclass(frozen=True, slots=True)
class Not(Expression):
    """``NOT expr`` (or ``-expr``): the operand does not match."""

    operand: Expression

    def matches(self, attributes: Mapping[str, str], key: str | None = None) -> bool:
        """Tell whether the operand does not match."""
        return not self.operand.matches(attributes, key)

    def _write(self, out: list[str], level: int) -> None:
        out.append("NOT ")
        self.operand._write(out, UNARY_LEVEL)


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
    _level: ClassVar[int] = AND_LEVEL

    def matches(self, attributes: Mapping[str, str], key: str | None = None) -> bool:
        """Tell whether every operand matches."""
        return all(operand.matches(attributes, key) for operand in self.operands)


@dataclass(frozen=True, slots=True)
class Or(_Chain):
    """``a OR b OR ...``: some operand matches (evaluated left to right, short-circuit).

    Raises:
        ValueError: Fewer than two operands.
    """

    operands: tuple[Expression, ...]
    _keyword: ClassVar[str] = " OR "
    _level: ClassVar[int] = OR_LEVEL

    def matches(self, attributes: Mapping[str, str], key: str | None = None) -> bool:
        """Tell whether at least one operand matches."""
        return any(operand.matches(attributes, key) for operand in self.operands)

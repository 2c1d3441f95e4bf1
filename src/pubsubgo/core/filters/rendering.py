"""Rendering filter expressions back to canonical text: literals, keys and precedence."""

from __future__ import annotations

from typing import Final

from pubsubgo.core.filters.lexer import IDENTIFIER

__all__ = ["AND_LEVEL", "OR_LEVEL", "UNARY_LEVEL", "quote", "render_key"]

_RENDERED_ESCAPES: Final = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"}

# How tightly each node kind binds when rendered; a node binding more loosely than its
# context accepts is parenthesized.
OR_LEVEL: Final = 1
AND_LEVEL: Final = 2
UNARY_LEVEL: Final = 3


def quote(text: str) -> str:
    """Render ``text`` as a double-quoted string literal."""
    return '"' + "".join(_RENDERED_ESCAPES.get(ch, ch) for ch in text) + '"'


def render_key(key: str) -> str:
    """Render an attribute key bare when it is an identifier, quoted otherwise."""
    return key if IDENTIFIER.fullmatch(key) else quote(key)

"""The filter language's tokenizer: text to a list of positioned tokens."""

from __future__ import annotations

import re
from enum import Enum, auto
from typing import Final, NamedTuple

__all__ = ["IDENTIFIER", "Kind", "Token", "tokenize"]

#: An attribute key, keyword or function name written bare.
IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# ASCII only, like identifiers: a no-break or other Unicode space is reported as an
# unexpected character instead of silently separating tokens.
_WHITESPACE: Final = " \t\n\r\f\v"
_ESCAPES: Final = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


class Kind(Enum):
    """What a token is."""

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


class Token(NamedTuple):
    """One token: its kind, its text (a string literal's resolved value) and offset."""

    kind: Kind
    value: str
    pos: int


_PUNCTUATION: Final = {
    "(": Kind.LPAREN,
    ")": Kind.RPAREN,
    ",": Kind.COMMA,
    ".": Kind.DOT,
    ":": Kind.COLON,
    "=": Kind.EQ,
    "-": Kind.MINUS,
}


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens ending with END, or with ERROR at the first bad literal.

    Errors are kept as tokens rather than raised so that the parser reports problems in
    text order: a syntax error before a broken literal wins over the literal.
    """
    tokens: list[Token] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        if pos == len(text):
            tokens.append(Token(Kind.END, "", pos))
            return tokens
        token, pos = _next_token(text, pos)
        tokens.append(token)
        if token.kind is Kind.ERROR:
            return tokens


def _next_token(text: str, pos: int) -> tuple[Token, int]:
    """Read the token starting at ``pos`` (not whitespace); return it and the end position."""
    char = text[pos]
    if char in _PUNCTUATION:
        return Token(_PUNCTUATION[char], char, pos), pos + 1
    if text.startswith("!=", pos):
        return Token(Kind.NE, "!=", pos), pos + 2
    if char == '"':
        return _read_string(text, pos)
    match = IDENTIFIER.match(text, pos)
    if match is not None:
        return Token(Kind.IDENT, match.group(), pos), match.end()
    return Token(Kind.OTHER, char, pos), pos + 1


def _read_string(text: str, start: int) -> tuple[Token, int]:
    """Read the string literal whose opening quote is at ``start``, resolving escapes."""
    chars: list[str] = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == '"':
            return Token(Kind.STRING, "".join(chars), start), pos + 1
        if char != "\\":
            chars.append(char)
            pos += 1
            continue
        if pos + 1 == len(text):
            break
        escaped = _ESCAPES.get(text[pos + 1])
        if escaped is None:
            reason = f"unknown escape sequence {text[pos : pos + 2]!r} in string literal"
            return Token(Kind.ERROR, reason, pos), len(text)
        chars.append(escaped)
        pos += 2
    return Token(Kind.ERROR, "unterminated string literal", start), len(text)

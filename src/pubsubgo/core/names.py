"""The naming rule shared by topics and subscriptions."""

from __future__ import annotations

import re

from pubsubgo.core.errors import InvalidName

#: DESIGN §2: a letter or digit, then up to 248 of letters, digits, ``.``, ``_`` and ``-``.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,248}")


def validate_name(name: str, what: str) -> str:
    """Return ``name`` unchanged, or raise InvalidName saying what was wrong with it."""
    if not isinstance(name, str) or NAME_PATTERN.fullmatch(name) is None:
        raise InvalidName(
            f"invalid {what} name {name!r}: use 1-249 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit",
            field="name",
        )
    return name

"""The naming rule shared by topics and subscriptions, and pages of names in lists."""

from __future__ import annotations

import re
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class NamePage:
    """Which names a list answers with: those starting with ``prefix`` that sort after
    ``after`` (by code point; ``""`` for the start), at most ``limit`` (None: all). A page
    ends where the next starts, with ``after`` = its last name."""

    prefix: str = ""
    after: str = ""
    limit: int | None = None

    def takes(self, name: str) -> bool:
        """True when ``name`` belongs to the page's range (before the limit applies)."""
        return name.startswith(self.prefix) and name > self.after


#: Every name: what a list without a page answers with.
EVERY_NAME = NamePage()

"""Printing results: JSON for programs, rich tables for people."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

#: Width of tables written to a pipe or a file, where no terminal says how wide to be:
#: wide enough that ids and names are not wrapped for ``grep``.
PIPE_WIDTH = 200


def console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr), never wrapped narrower than a terminal would."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else PIPE_WIDTH
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: dataclasses as objects (private fields left out),
    times in RFC 3339, bytes as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not f.name.startswith("_")
        }
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def print_json(value: Any, *, compact: bool = False) -> None:
    """``value`` as JSON on stdout (indented unless ``compact``: one line, JSON Lines)."""
    option = 0 if compact else orjson.OPT_INDENT_2
    sys.stdout.write(orjson.dumps(jsonable(value), option=option).decode() + "\n")
    sys.stdout.flush()


def cell(value: Any) -> str:
    """A value as a table cell: times to the second, None as ``-``, lists joined."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ",".join(cell(v) for v in value) or "-"
    if isinstance(value, Mapping):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "-"
    return str(value)


def print_table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    stderr: bool = False,
) -> None:
    """A table with one row per item (cells are text, never rich markup); on stderr for a
    summary that is not the command's result."""
    table = Table(header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell(value)) for value in row))
    out = console(stderr=stderr)
    if title is not None:
        out.print(Text(title))  # its own line: a table's title wraps at the table's width
    out.print(table)


def print_fields(title: str | None, item: Any, *, skip: Iterable[str] = ()) -> None:
    """One dataclass as a two-column table; nested dataclasses as ``outer.inner`` rows."""
    omitted = set(skip)
    pairs = [(name, value) for name, value in flatten(item) if name not in omitted]
    print_table(title, ["FIELD", "VALUE"], pairs)


def flatten(item: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """The ``(name, value)`` pairs of a dataclass, nested ones prefixed by their field."""
    for f in dataclasses.fields(item):
        if f.name.startswith("_"):
            continue
        value = getattr(item, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            yield from flatten(value, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", value


def say(message: str) -> None:
    """A sentence for people on stdout (table output only)."""
    print(message, flush=True)


def note(message: str) -> None:
    """A remark on stderr, which JSON output on stdout never contains."""
    print(message, file=sys.stderr, flush=True)

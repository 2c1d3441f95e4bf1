"""Running a command's coroutine: one line on stderr and a distinct exit code per failure.

Exit codes (also in docs/cli.md):

====  ===================================================================
0     success
1     any other error (a failed message in a load run, a 5xx, 410...)
2     usage error: a bad option or argument (typer's own code)
3     the broker cannot be reached (refused, DNS, timeout, lost)
4     not found (404): topic, subscription, message or member
5     conflict (409): the name is taken, the topic still has subscriptions
6     unauthorized or forbidden (401, 403)
7     invalid request or too large (400, 413)
8     try again later: rate limited or topic full (429), storage unavailable (503)
130   interrupted with Ctrl-C
====  ===================================================================
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from enum import IntEnum
from typing import Any, NoReturn, TypeVar

import typer

from pubsubgo.cli.context import AnyClient, CliContext
from pubsubgo.client import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    PubSubClientError,
    RateLimited,
    ServerUnreachable,
    TooLarge,
    Unauthorized,
    Unavailable,
)

T = TypeVar("T")


class ExitCode(IntEnum):
    """The exit status of ``pubsub-cli``."""

    OK = 0
    ERROR = 1
    USAGE = 2
    UNREACHABLE = 3
    NOT_FOUND = 4
    CONFLICT = 5
    AUTH = 6
    INVALID = 7
    RETRY_LATER = 8
    INTERRUPTED = 130


#: The exit code of each client error class, most specific first.
_EXIT_CODES: tuple[tuple[type[PubSubClientError], ExitCode], ...] = (
    (ServerUnreachable, ExitCode.UNREACHABLE),
    (NotFound, ExitCode.NOT_FOUND),
    (Conflict, ExitCode.CONFLICT),
    (Unauthorized, ExitCode.AUTH),
    (Forbidden, ExitCode.AUTH),
    (InvalidRequest, ExitCode.INVALID),
    (TooLarge, ExitCode.INVALID),
    (RateLimited, ExitCode.RETRY_LATER),
    (Unavailable, ExitCode.RETRY_LATER),
)


#: What to do next, added to the broker's refusals whose message does not say it.
_HINTS: dict[str, str] = {
    # A path the broker has no route for: the --server URL has a path it should not have.
    "not_found": "no such route: is --server the broker's base URL, e.g. http://host:8081?",
    "http_404": "no such route: is --server the broker's base URL, e.g. http://host:8081?",
    "topic_in_use": "add --force to delete its subscriptions with it",
}


def exit_code(error: PubSubClientError) -> ExitCode:
    """The exit code for ``error``."""
    for cls, code in _EXIT_CODES:
        if isinstance(error, cls):
            return code
    return ExitCode.ERROR


def fail(message: str, code: ExitCode = ExitCode.ERROR) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    raise typer.Exit(code)


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` in a fresh event loop; failures become one line and an exit code."""
    try:
        return asyncio.run(main)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr, flush=True)
        raise typer.Exit(ExitCode.INTERRUPTED) from None
    except PubSubClientError as error:
        hint = _HINTS.get(error.code)
        fail(f"{error}; {hint}" if hint else str(error), exit_code(error))
    except (typer.Exit, typer.Abort, typer.BadParameter):
        raise
    except Exception as error:  # a bug: still one line rather than a traceback
        fail(f"unexpected {type(error).__name__}: {error}")


def call(cli: CliContext, operation: Callable[[AnyClient], Awaitable[T]]) -> T:
    """Open a client of the chosen broker, run ``operation`` with it and close it."""

    async def main() -> T:
        async with cli.client() as client:
            return await operation(client)

    return run(main())

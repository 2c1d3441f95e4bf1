"""PostgreSQL failures at the boundary: refusals become domain errors, the rest
``BackendUnavailable``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import asyncpg

from pubsubgo.core.errors import BackendUnavailable, PubSubError

#: SQLSTATEs the backend's functions raise (``sql/*.sql``) for what the ports report.
TOPIC_NOT_FOUND = "PSG01"
TOPIC_FULL = "PSG02"
SUBSCRIPTION_NOT_FOUND = "PSG03"
MEMBER_NOT_FOUND = "PSG04"
#: Turns a refusal (its SQLSTATE) into the domain error the port raises.
Refusal = Callable[[str], PubSubError]
#: Errors that say the connection, not the statement, failed: the pool's other
#: connections are probably stale too (a restarted server).
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    OSError,
)


@contextmanager
def translate_pg_errors(operation: str, refusal: Refusal | None = None) -> Iterator[None]:
    """Turn what PostgreSQL raises inside the block into what a port raises.

    A refusal of the backend's own functions (SQLSTATE ``PSGnn``) becomes ``refusal(code)``;
    anything else (connection lost, server starting or shutting down, a statement timeout)
    means storage did not do it: ``BackendUnavailable``, chained (HTTP 503).

    Args:
        operation: what was being done, for the message (``"publish"``, ``"ping"``...).
        refusal: maps the codes this operation can be refused with.

    Raises:
        BackendUnavailable: PostgreSQL failed or did not answer in time.
    """
    try:
        yield
    except asyncpg.PostgresError as exc:
        code = exc.sqlstate or ""
        if refusal is not None and code.startswith("PSG"):
            raise refusal(code) from None
        raise BackendUnavailable(f"postgres {operation} failed: {exc}") from exc
    except CONNECTION_ERRORS as exc:
        raise BackendUnavailable(f"postgres {operation} failed: {exc}") from exc
    except TimeoutError as exc:
        raise BackendUnavailable(f"postgres {operation} timed out") from exc

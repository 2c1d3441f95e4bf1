"""Private PostgreSQL servers for tests: initdb + pg_ctl on a free port in a temp dir.

Never the shared server on 5432: every server here listens on a free port of 127.0.0.1,
with its socket in its own directory. PostgreSQL refuses to run as root, so when the tests
run as root the server runs as the ``postgres`` user (Debian's package creates it) on a
directory handed to that user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from pubsubgo.adapters.postgres import postgres_storage
from pubsubgo.ports.storage import Storage
from tests.redis.servers import free_port, wait_for

#: The one line a missing server fails with (CI installs it; nothing is skipped).
INSTALL_HINT = "initdb/pg_ctl not found: apt-get install postgresql"
#: Where Debian's package puts the binaries (not on PATH).
DEBIAN_BINARIES = "/usr/lib/postgresql/*/bin"
#: How long a server may take to accept connections after start (crash recovery included).
START_DEADLINE_SECONDS = 30.0
#: The unprivileged user the server runs as when the tests run as root.
SERVER_USER = "postgres"
#: Quick and forgetful: for the contract suite, where a crash loses nothing that matters.
EPHEMERAL = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
#: Durable: what a production server does (fsync before a commit is answered).
DURABLE: tuple[str, ...] = ()


def debian_binary(name: str) -> str | None:
    """``name`` in Debian's PostgreSQL directory (the newest version), if there."""
    candidates = sorted(glob.glob(f"{DEBIAN_BINARIES}/{name}"), reverse=True)
    return candidates[0] if candidates else None


def binary(name: str) -> str:
    """The path of PostgreSQL's ``name`` (PATH first, then Debian's directory)."""
    found = shutil.which(name) or debian_binary(name)
    if found is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return found


class PostgresServer:
    """One PostgreSQL cluster in its own temp directory, run with ``pg_ctl``.

    Args:
        options: extra ``postgres`` options (``-c name=value`` pairs).
    """

    def __init__(self, options: tuple[str, ...] = EPHEMERAL) -> None:
        self.options = options
        self.port = free_port()
        # Not under pytest's tmp_path: its parents are private to root, and the server may
        # run as another user.
        self.directory = Path(tempfile.mkdtemp(prefix="pubsubgo-pg-"))
        self.data = self.directory / "data"
        self._user = _server_user()
        if self._user is not None:
            os.chown(self.directory, self._user.pw_uid, self._user.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        """Create the cluster (trust authentication on loopback only)."""
        self._run(
            binary("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        settings = [
            "-c", "listen_addresses=127.0.0.1", "-c", f"port={self.port}",
            "-c", f"unix_socket_directories={self.directory}", "-c", "max_connections=200",
            *self.options,
        ]  # fmt: skip
        self._run(
            binary("pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "server.log"),
            "-o", " ".join(settings), "-w", "-t", str(int(START_DEADLINE_SECONDS)), "start",
        )  # fmt: skip
        wait_for(self.answers, START_DEADLINE_SECONDS, f"postgres on {self.port}")

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m mode``: ``fast`` (clean), ``immediate`` (no checkpoint, crash
        recovery on the next start)."""
        if (self.data / "postmaster.pid").exists():
            self._run(binary("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        """Stop the server (if running) and delete its directory."""
        self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)

    def pause(self) -> None:
        """SIGSTOP the postmaster and its backends: connections stay open, nothing answers."""
        for pid in self._pids():
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in self._pids():
            os.kill(pid, signal.SIGCONT)

    def _pids(self) -> list[int]:
        """The postmaster and every process it started."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
        return [postmaster, *map(int, children)]

    def answers(self) -> bool:
        """True when the server accepts a connection (not while it recovers)."""
        result = subprocess.run(
            [binary("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-t", "1"],
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def log(self) -> str:
        path = self.directory / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", SERVER_USER, "--"] if self._user is not None else []
        result = subprocess.run(
            [*prefix, *command], capture_output=True, text=True, check=False, timeout=120
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}"
                f"\n{result.stderr}\n{self.log()}"
            )


def _server_user() -> pwd.struct_passwd | None:
    """The user to run the server as: None when the tests do not run as root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        pytest.fail(f"running as root needs a {SERVER_USER!r} user: {INSTALL_HINT}")


async def drop_schema(url: str, schema: str) -> None:
    """Remove a test's schema with everything in it."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await connection.close()


@asynccontextmanager
async def storage_on(url: str, schema: str, **options: Any) -> AsyncIterator[Storage]:
    """A PostgreSQL storage (``options`` for ``postgres_storage``) in ``schema``, closed
    afterwards."""
    storage = await postgres_storage(url, schema=schema, **options)
    try:
        yield storage
    finally:
        await storage.aclose()

"""Every shell and Python example of README.md and docs/*.md, run against a real broker.

A page's fenced blocks run in order, as a reader copies them, against one
``pubsubgo-server`` started for that page (memory storage, free ports). What the examples
say and what they run differ in one way only: ``localhost:8081``, ``localhost:9092`` and
``localhost:50051`` become the test server's ports, and ``pubsub-cli`` finds it through
``PUBSUB_SERVER``.

* ``sh``/``bash`` blocks run with ``bash -e -o pipefail``: every command must succeed, and
  every HTTP answer ``curl`` gets must be below 400 unless the block's marker allows it.
* ``python`` blocks run as scripts with the project's interpreter.
* ``console`` blocks are transcripts: each ``$ command`` runs, and its output (stdout and
  stderr) must be the one shown, numbers, times and ids aside.
* Other languages (``text``, ``json``, ``yaml``, ``promql``) are not examples; a fence with
  no language fails, so that no example escapes by accident.

Markers, HTML comments just before a block, visible in the source of the page:

* ``<!-- not-run: REASON -->``: the block needs what a test cannot have (kubectl, docker,
  a cluster); at the top of a page, before any block, it covers the whole page.
* ``<!-- setup: COMMAND -->``: run COMMAND first (the state the text assumes).
* ``<!-- allow-status: 404 409 -->``: HTTP answers the block shows on purpose.
* ``<!-- starts-server -->``: the block starts ``pubsubgo-server`` itself, on the ports
  the rest of the page uses (``PUBSUB_SERVER_PORT``, ``PUBSUB_METRICS_PORT``).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tests.broker_process import BrokerProcess, free_port, wait_for

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
#: README's opening lines (the install commands) are another change's; they install the
#: package, which a test run must not do.
README_OPENING_LINES = 10
RUNNABLE = {"sh", "bash", "python", "console"}
INERT = {"text", "json", "yaml", "promql"}
#: How long one block may run (a bench or a load run takes a few seconds).
BLOCK_DEADLINE_SECONDS = 120.0
#: How long a server a block started may take to drain and exit after SIGTERM.
GROUP_STOP_SECONDS = 20.0
MARKER = re.compile(r"<!--\s*([\w-]+)(?::\s*(.*?))?\s*-->", re.S)
#: What a transcript's output may differ in: numbers, ids, widths of tables and bars.
VOLATILE = [
    (re.compile(r"\b[0-9a-f]{8,}\b"), "ID"),
    (re.compile(r"\d+(?:[.,]\d+)*"), "0"),
    (re.compile(r"[─━═┄\s]+"), " "),
]
#: Records every curl answer's status for the check after the block.
CURL_PRELUDE = r"""
curl() {
  local out status
  out="$(command curl -w '\n%{http_code}' "$@")" || return $?
  status="${out##*$'\n'}"
  printf '%s\n' "${out%$'\n'*}"
  echo "$status $*" >>"$CURL_STATUSES"
}
"""


@dataclass
class Block:
    page: Path
    line: int
    language: str
    code: str
    markers: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page`` with the markers just before each."""
    found: list[Block] = []
    pending: dict[str, str] = {}
    page_markers: dict[str, str] = {}
    for token in MarkdownIt("commonmark").parse(page.read_text(encoding="utf-8")):
        if token.type == "html_block":
            for name, value in MARKER.findall(token.content):
                pending[name] = value.strip()
            if not found and "not-run" in pending and not page_markers:
                page_markers = dict(pending)
            continue
        if token.type == "fence" and token.map is not None:
            markers = {**page_markers, **pending}
            found.append(Block(page, token.map[0] + 1, token.info.strip(), token.content, markers))
        if token.type in ("fence", "paragraph_open", "heading_open", "code_block"):
            pending = {}
    return found


def indented_blocks(page: Path) -> list[int]:
    """Lines of indented code blocks (examples must be fenced, with a language)."""
    tokens = MarkdownIt("commonmark").parse(page.read_text(encoding="utf-8"))
    return [
        t.map[0] + 1
        for t in tokens
        if t.type == "code_block"
        and t.map is not None
        and not (page.name == "README.md" and t.map[0] < README_OPENING_LINES)
    ]


def test_every_example_is_fenced_with_a_language() -> None:
    problems = [
        f"{block.where}: a fence without a known language ({block.language!r})"
        for page in PAGES
        for block in blocks(page)
        if block.language not in RUNNABLE | INERT
    ]
    problems += [
        f"{page.relative_to(REPO)}:{line}: an indented code block; fence it with a language"
        for page in PAGES
        for line in indented_blocks(page)
    ]
    assert not problems, "\n".join(problems)


def test_the_readme_says_which_ports_the_server_opens() -> None:
    from pubsubgo.config import Settings

    defaults = Settings.model_construct()
    readme = REPO.joinpath("README.md").read_text()
    section = readme[readme.index("## Ports") :].split("\n## ")[0]
    for port, variable in (
        (defaults.server.port, "PUBSUB_SERVER_PORT"),
        (defaults.metrics.port, "PUBSUB_METRICS_PORT"),
    ):
        row = next(line for line in section.splitlines() if line.startswith(f"| {port} |"))
        assert variable in row


# -- running a page --------------------------------------------------------------------------


class Page:
    """One page's broker and the environment its blocks run in."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.api, self.metrics, self.grpc = free_port(), free_port(), free_port()
        self.broker: BrokerProcess | None = None

    def ensure_broker(self) -> None:
        if self.broker is None:
            settings = {
                "PUBSUB_METRICS_PORT": str(self.metrics), "PUBSUB_GRPC_PORT": str(self.grpc),
                "PUBSUB_LOG_LEVEL": "WARNING",
            }  # fmt: skip
            self.broker = BrokerProcess(self.workdir, self.api, settings | _metrics_on())
            self.broker.start()

    def stop_broker(self) -> None:
        if self.broker is not None:
            self.broker.stop()
            self.broker = None

    def env(self) -> dict[str, str]:
        bin_dir = str(Path(sys.executable).parent)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUBSUB_")}
        return env | {
            "PATH": f"{bin_dir}:{env.get('PATH', '')}",
            "PUBSUB_SERVER": f"http://127.0.0.1:{self.api}",
            "CURL_STATUSES": str(self.workdir / "curl-statuses"),
        }

    def localise(self, code: str) -> str:
        for host in ("localhost", "127.0.0.1"):
            code = code.replace(f"{host}:8081", f"127.0.0.1:{self.api}")
            code = code.replace(f"{host}:9092", f"127.0.0.1:{self.metrics}")
            code = code.replace(f"{host}:50051", f"127.0.0.1:{self.grpc}")
        return code


def _metrics_on() -> dict[str, str]:
    return {"PUBSUB_METRICS_ENABLED": "true"}


def run(command: list[str], page: Page, env: dict[str, str], stdin: str = "") -> tuple[int, str]:
    """Run in its own session, then end what it left running in the background (a server it
    started); (exit code, stdout and stderr). The output goes to a file: a background child
    holds a pipe open after its parent exits."""
    output = page.workdir / "output.txt"
    with output.open("w") as sink:
        process = subprocess.Popen(
            command, cwd=page.workdir, env=env, stdin=subprocess.PIPE, stdout=sink,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        try:
            process.communicate(stdin, timeout=BLOCK_DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            sink.write(f"\n[the block ran for more than {BLOCK_DEADLINE_SECONDS} s]")
        finally:
            _end_group(process.pid)
    return process.returncode, output.read_text()


def _end_group(group: int) -> None:
    """SIGTERM what the block left running, and wait until it is gone (a server it started
    must free its port before the page's own broker takes it)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)

    def gone() -> bool | None:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        return None

    try:
        wait_for(gone, "the block's background processes to stop", GROUP_STOP_SECONDS)
    except AssertionError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)


def run_block(block: Block, page: Page) -> str | None:
    """Run one block; why it failed, or None."""
    env = page.env()
    if "starts-server" in block.markers:
        page.stop_broker()
        env |= {
            "PUBSUB_SERVER_PORT": str(page.api), "PUBSUB_METRICS_PORT": str(page.metrics),
            "PUBSUB_GRPC_PORT": str(page.grpc),
        }  # fmt: skip
    else:
        page.ensure_broker()
    for command in filter(None, [block.markers.get("setup")]):
        code, output = run(["bash", "-c", page.localise(command)], page, env)
        if code != 0:
            return f"setup {command!r} exited {code}:\n{output}"
    code_text = page.localise(block.code)
    if block.language == "python":
        script = page.workdir / "example.py"
        script.write_text(code_text)
        code, output = run([sys.executable, str(script)], page, env)
        return None if code == 0 else f"exited {code}:\n{output}"
    if block.language == "console":
        return check_transcript(code_text, page, env)
    statuses = Path(env["CURL_STATUSES"])
    statuses.unlink(missing_ok=True)
    code, output = run(["bash", "-e", "-o", "pipefail", "-s"], page, env, CURL_PRELUDE + code_text)
    if code != 0:
        return f"exited {code}:\n{output}"
    allowed = set(block.markers.get("allow-status", "").split())
    answered = statuses.read_text().splitlines() if statuses.exists() else []
    refused = [line for line in answered if line[:3] >= "400" and line[:3] not in allowed]
    return "HTTP errors:\n" + "\n".join(refused) + f"\n{output}" if refused else None


def normalised(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        for pattern, replacement in VOLATILE:
            line = pattern.sub(replacement, line)
        if line.strip():
            lines.append(line.strip())
    return lines


def check_transcript(text: str, page: Page, env: dict[str, str]) -> str | None:
    """Each ``$ command`` of the transcript, and the output shown after it."""
    steps: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    problems = []
    for command, shown in steps:
        _, output = run(["bash", "-c", command], page, env)
        if normalised("\n".join(shown)) != normalised(output):
            shown_text = "\n".join(shown)
            problems.append(f"$ {command}\n--- shown:\n{shown_text}\n--- got:\n{output}")
    return "\n".join(problems) or None


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    running = Page(tmp_path)
    try:
        yield running
    finally:
        running.stop_broker()


@pytest.mark.timeout(600)
@pytest.mark.parametrize("path", PAGES, ids=[p.name for p in PAGES])
def test_the_examples_of_the_page_run(path: Path, page: Page) -> None:
    examples = [b for b in blocks(path) if b.language in RUNNABLE]
    skipped = [b for b in examples if "not-run" in b.markers]
    for block in skipped:
        assert block.markers["not-run"], f"{block.where}: say why it does not run"
    failures = [
        f"{block.where} ({block.language}): {problem}"
        for block in examples
        if "not-run" not in block.markers
        for problem in [run_block(block, page)]
        if problem is not None
    ]
    assert not failures, "\n\n".join(failures)

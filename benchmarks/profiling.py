"""Profiles of the broker process during a workload (py-spy), and their summary.

``python -m benchmarks.run --profile DIR`` records one py-spy profile per broker workload
and run (``DIR/<workload>-<run>.txt``, collapsed stacks that flamegraph.pl or speedscope
read) and prints where the broker spent its time: by function (self time) and by the
broker's own modules (inclusive).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

#: Samples a second: enough for a few seconds of workload, light enough not to skew it.
SAMPLE_RATE = 250
#: How long py-spy may take to write its file once told to stop.
STOP_SECONDS = 15.0
#: Lines of each table of the summary.
TOP = 25


@contextlib.contextmanager
def recording(pid: int, output: Path) -> Iterator[None]:
    """Sample ``pid`` with py-spy while the block runs; the stacks go to ``output``."""
    spy = shutil.which("py-spy")
    if spy is None:
        raise RuntimeError("py-spy not found: pip install -e '.[bench]'")
    command = [spy, "record", "-p", str(pid), "-o", str(output), "-f", "raw"]
    # Blocking mode (py-spy pauses the broker for each sample): --nonblocking read torn
    # stacks here and credited functions that barely run.
    command += ["-r", str(SAMPLE_RATE)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_SECONDS)


def _frame(raw: str) -> str:
    """``"name (.../pubsubgo/services/publisher.py:12)"`` -> ``"name (services/publisher.py)"``;
    frames of other packages keep the last two parts of their path."""
    name, _, where = raw.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    head, mark, ours = path.rpartition("/pubsubgo/")
    short = ours if mark else "/".join(path.split("/")[-2:])
    return f"{name} ({short})"


def summarize(stacks: Path, top: int = TOP) -> str:
    """Self time by function, and inclusive time of the functions of ``pubsubgo``."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in stacks.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [_frame(f) for f in stack.split(";")]
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    if not total:
        return f"{stacks.name}: no samples"
    lines = [f"{stacks.name}: {total} samples", "  self time:"]
    lines += [f"    {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    lines.append("  inclusive, broker code:")
    ours = [(f, n) for f, n in inclusive.most_common() if _is_broker(f)]
    lines += [f"    {100 * n / total:5.1f}%  {f}" for f, n in ours[:top]]
    return "\n".join(lines)


def _is_broker(frame: str) -> bool:
    """Frames of the broker's request path (not its start-up through typer and run_app)."""
    return any(f"({part}" in frame for part in ("adapters/", "services/", "core/"))

"""py-spy sampling of a running kafka-s3-sink, for finding what bounds a figure.

py-spy (PyPI) is installed into a venv of the bench cache, not the project's: it is a tool
of the benchmark only.  It samples the process from outside (no change to the sink), at a
cost of a few % of one core, so profiled runs are not the measured ones (`--profile`).
`summarize` turns py-spy's raw (collapsed-stack) output into the functions holding the most
samples, by own time and by time including callees.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from .cache import cache_dir

PY_SPY_VERSION = "0.4.3"


def py_spy() -> Path:
    found = shutil.which("py-spy")
    if found:
        return Path(found)
    venv = cache_dir() / "tools-venv"
    binary = venv / "bin" / "py-spy"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", f"py-spy=={PY_SPY_VERSION}"],
            check=True,
            timeout=600,
        )
    return binary


@contextlib.contextmanager
def record(pid: int, out: Path, duration: float) -> Iterator[None]:
    """Sample pid's threads while they run Python code (idle waits are left out), for at
    most `duration` seconds: where the CPU goes, not where the time goes."""
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            str(py_spy()), "record", "--pid", str(pid), "--rate", "200", "--threads",
            "--nonblocking", "--format", "raw", "--duration", str(int(duration)),
            "--output", str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=(out.with_suffix(".log")).open("wb"),
    )  # fmt: skip
    try:
        yield
    finally:
        # SIGINT makes py-spy write what it has sampled so far.
        if proc.poll() is None:
            proc.send_signal(2)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)


def summarize(raw: Path, top: int = 25) -> str:
    """Top functions by own samples and by inclusive samples, from py-spy's raw output."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        threads[frames[0]] += count
        own[frames[-1]] += count
        for frame in set(frames[1:]):
            inclusive[frame] += count
    if not total:
        return "no samples"
    lines = [f"{total} samples"]
    lines.append("threads:")
    lines += [f"  {n / total:6.1%}  {name}" for name, n in threads.most_common(10)]
    lines.append("own time:")
    lines += [f"  {n / total:6.1%}  {name}" for name, n in own.most_common(top)]
    lines.append("including callees:")
    lines += [f"  {n / total:6.1%}  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines)

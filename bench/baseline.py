"""The code before a change, run beside it in the same benchmark run: the anchor of a
"N x the current code" target (a figure from an older run would carry that run's load).

The service's ``src/`` at a git revision is unpacked once into the bench cache and started
with the project's virtual environment (same dependencies), ahead of the installed package
on ``sys.path``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .cache import cache_dir

REPO = Path(__file__).resolve().parents[1]
# The last commit before the record-path work of "Performance, round two".
BASELINE_REV = "7cec496"


def baseline_src(rev: str = BASELINE_REV) -> Path:
    """``src/`` of ``rev``, unpacked under the bench cache; CalledProcessError if the
    repository does not hold that revision."""
    target = cache_dir() / f"baseline-{rev}"
    src = target / "src"
    if not (src / "kafka_s3_sink" / "cli.py").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", rev, "src"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return src


def baseline_launcher(rev: str = BASELINE_REV) -> list[str]:
    """A command that runs ``kafka_s3_sink.cli`` of ``rev`` (the arguments follow it)."""
    src = baseline_src(rev)
    code = (
        f"import sys; sys.path.insert(0, {str(src)!r}); "
        "from kafka_s3_sink.cli import main; sys.exit(main())"
    )
    return [sys.executable, "-c", code]

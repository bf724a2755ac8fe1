"""One measurement of the benchmark, guarded: a failure becomes a row saying why, and the
run goes on (shared by run.py and the peers' modules)."""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from typing import Any

from .sinks import SinkSkipped


def guard(label: str, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one measurement; a failure becomes a row saying why, and the benchmark goes on."""
    t0 = time.monotonic()
    try:
        row = run()
    except SinkSkipped as skipped:
        row = {"skipped": str(skipped)}
    except Exception as error:  # noqa: BLE001 - reported in the row, the run goes on
        traceback.print_exc()
        row = {"error": f"{type(error).__name__}: {error}"[:300]}
    row = {"sink": label, **row}
    print(f"  {label}: {json.dumps(row)} ({time.monotonic() - t0:.0f} s)", flush=True)
    return row

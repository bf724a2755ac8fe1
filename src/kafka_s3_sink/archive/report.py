"""What a restore did (or, in a dry run, would do), and how a skipped object is told."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TextIO

from .layout import BadObject


@dataclass
class RestoreReport:
    layout: str
    sent: int = 0
    already_there: int = 0  # found in the target on resume, not sent again
    value_bytes: int = 0
    bad: list[BadObject] = field(default_factory=list)
    seconds: float = 0.0
    complete: bool = False
    dry_run_rows: list[tuple[int, str, int, int]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


def report_bad(report: RestoreReport, bad: BadObject, out: TextIO) -> None:
    report.bad.append(bad)
    out.write(f"restore: skipped {bad.key}: {bad.reason}\n")

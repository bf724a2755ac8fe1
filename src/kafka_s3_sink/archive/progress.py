"""Progress of a long restore: a bar redrawn in place on a terminal, plain lines otherwise
(a log file or a pipe gets one line every few seconds, never carriage returns)."""

from __future__ import annotations

import time
from typing import TextIO

_BAR_WIDTH = 24


def _size(count: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Progress:
    """Counts messages and archive bytes; ``total_bytes`` (what the plan reads) gives the
    fraction done and the time left."""

    def __init__(self, out: TextIO, total_bytes: int, *, interval_s: float | None = None) -> None:
        self.out = out
        self.tty = out.isatty()
        self.total_bytes = max(total_bytes, 1)
        self.interval_s = interval_s if interval_s is not None else (0.2 if self.tty else 5.0)
        self.messages = 0
        self.bytes = 0
        self.started = time.monotonic()
        self._last = 0.0

    def advance(self, messages: int, archive_bytes: int) -> None:
        self.messages += messages
        self.bytes += archive_bytes
        now = time.monotonic()
        if now - self._last >= self.interval_s:
            self._last = now
            self._show(now)

    def line(self, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self.started, 1e-6)
        rate = self.messages / elapsed
        fraction = min(self.bytes / self.total_bytes, 1.0)
        left = elapsed * (1 - fraction) / fraction if fraction > 0 else None
        eta = _duration(left) if left is not None else "?"
        text = (
            f"{self.messages} messages, {_size(self.bytes)} of {_size(self.total_bytes)}, "
            f"{rate:.0f} msg/s, {fraction:.0%}, left {eta}"
        )
        if self.tty:
            filled = int(fraction * _BAR_WIDTH)
            text = "[" + "#" * filled + "." * (_BAR_WIDTH - filled) + "] " + text
        return text

    def _show(self, now: float) -> None:
        if self.tty:
            self.out.write("\r" + self.line(now) + "\x1b[K")
        else:
            self.out.write("restore: " + self.line(now) + "\n")
        self.out.flush()

    def finish(self) -> float:
        """Ends the bar's line; returns the elapsed seconds."""
        if self.tty:
            self.out.write("\r" + self.line() + "\x1b[K\n")
            self.out.flush()
        return time.monotonic() - self.started

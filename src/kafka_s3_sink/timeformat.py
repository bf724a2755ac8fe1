"""Joda-Time style date patterns, as Kafka Connect's partitioners and converters use them.

Only the letters that make sense in object paths and timestamps are supported; any other
letter is rejected when the pattern is parsed, so a typo fails at start-up, not at run time.
Text in single quotes is literal and ``''`` is a quote, as in Joda.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

_FIELDS: dict[str, Callable[[datetime], int]] = {
    "y": lambda d: d.year,
    "Y": lambda d: d.year,  # year of era: the same for every date after year 0
    "M": lambda d: d.month,
    "d": lambda d: d.day,
    "H": lambda d: d.hour,
    "m": lambda d: d.minute,
    "s": lambda d: d.second,
    "S": lambda d: d.microsecond,  # handled apart: fraction of second, not a number
    "D": lambda d: d.timetuple().tm_yday,
}
SUPPORTED_LETTERS = "".join(_FIELDS)


class PatternError(ValueError):
    pass


class DatePattern:
    """A parsed pattern; ``format(dt)`` renders a datetime with it."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._parts: list[str | tuple[str, int]] = _parse(pattern)

    def format(self, moment: datetime) -> str:
        out: list[str] = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
                continue
            letter, width = part
            if letter == "S":
                # Fraction of second: the first `width` digits of the microseconds.
                out.append(f"{moment.microsecond:06d}".ljust(width, "0")[:width])
            elif letter in "yY" and width == 2:
                out.append(f"{moment.year % 100:02d}")
            else:
                out.append(str(_FIELDS[letter](moment)).zfill(width))
        return "".join(out)


def _parse(pattern: str) -> list[str | tuple[str, int]]:
    parts: list[str | tuple[str, int]] = []
    literal: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            end = pattern.find("'", i + 1)
            if end == i + 1:  # '' is an escaped quote
                literal.append("'")
                i += 2
                continue
            if end < 0:
                raise PatternError(f"unclosed quote in date pattern {pattern!r}")
            literal.append(pattern[i + 1 : end])
            i = end + 1
        elif char.isalpha():
            if char not in _FIELDS:
                raise PatternError(
                    f"unsupported letter {char!r} in date pattern {pattern!r}; "
                    f"supported: {', '.join(SUPPORTED_LETTERS)} (quote literal text)"
                )
            width = 1
            while i + width < len(pattern) and pattern[i + width] == char:
                width += 1
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append((char, width))
            i += width
        else:
            literal.append(char)
            i += 1
    if literal:
        parts.append("".join(literal))
    return parts

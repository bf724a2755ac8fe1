"""Date patterns of Joda-Time (partitioners) and java.text.SimpleDateFormat (TimestampConverter).

Only the letters that make sense in object paths and timestamps are supported; any other
letter is rejected when the pattern is parsed, so a typo fails at start-up, not at run time.
Text in single quotes is literal and ``''`` is a quote, as in both Java libraries.

The two flavours share the syntax and differ in two letters, which is why they are one class:

* ``S``: Joda's fraction of second (``SSSSSS`` = microseconds) versus SimpleDateFormat's
  number of milliseconds, zero-padded to the width (``SSSSSS`` = ``000123``);
* ``Y``: Joda's year of era (same as ``y`` after year 0) versus SimpleDateFormat's week year,
  which differs from ``y`` around New Year: rejected in the Java flavour rather than guessed.

The Java flavour also knows the zone letters ``Z`` (``+0000``) and ``X`` (``Z`` at UTC), used in
ISO-like formats, and can parse text back into a datetime (TimestampConverter's string input).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

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
# SimpleDateFormat: no week year, but zone offsets.
JAVA_SUPPORTED_LETTERS = SUPPORTED_LETTERS.replace("Y", "") + "ZX"


class PatternError(ValueError):
    pass


class DatePattern:
    """A parsed pattern; ``format(dt)`` renders a datetime with it, ``parse(text)`` reads one.

    ``java=True`` reads the pattern as java.text.SimpleDateFormat does (see the module doc).
    """

    def __init__(self, pattern: str, *, java: bool = False) -> None:
        self.pattern = pattern
        self.java = java
        self._parts: list[str | tuple[str, int]] = _parse(
            pattern, JAVA_SUPPORTED_LETTERS if java else SUPPORTED_LETTERS
        )
        self._regex: re.Pattern[str] | None = None

    def format(self, moment: datetime) -> str:
        out: list[str] = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
                continue
            letter, width = part
            if letter == "S" and self.java:
                out.append(str(moment.microsecond // 1000).zfill(width))
            elif letter == "S":
                # Fraction of second: the first `width` digits of the microseconds.
                out.append(f"{moment.microsecond:06d}".ljust(width, "0")[:width])
            elif letter in "ZX":
                out.append(_format_offset(moment, letter, width))
            elif letter in "yY" and width == 2:
                out.append(f"{moment.year % 100:02d}")
            else:
                out.append(str(_FIELDS[letter](moment)).zfill(width))
        return "".join(out)

    def parse(self, text: str) -> datetime:
        """The moment ``text`` denotes (UTC unless it holds an offset); ValueError if none.

        Strict where SimpleDateFormat is lenient (no month 13 rolling into next year): a
        timestamp that does not match its pattern is more likely a bug than an intent.
        """
        if self._regex is None:
            self._regex = re.compile(_regex_of(self._parts))
        match = self._regex.fullmatch(text)
        if match is None:
            raise ValueError(f"{text!r} does not match the date pattern {self.pattern!r}")
        fields = {"y": 1970, "M": 1, "d": 1, "H": 0, "m": 0, "s": 0}
        micros = 0
        day_of_year: int | None = None
        offset = timedelta(0)
        for (letter, width), raw in zip(_fields_of(self._parts), match.groups(), strict=True):
            if letter in "ZX":
                offset = _parse_offset(raw)
            elif letter == "S":
                micros = int(raw) * 1000 if self.java else int(raw.ljust(6, "0")[:6])
            elif letter == "D":
                day_of_year = int(raw)
            elif letter in "yY" and width == 2 and len(raw) == 2:
                fields["y"] = _two_digit_year(int(raw))
            else:
                fields["y" if letter == "Y" else letter] = int(raw)
        moment = datetime(
            fields["y"],
            fields["M"],
            fields["d"],
            fields["H"],
            fields["m"],
            fields["s"],
            tzinfo=timezone(offset),
        )
        if day_of_year is not None:
            moment = moment.replace(month=1, day=1) + timedelta(days=day_of_year - 1)
        return (moment + timedelta(microseconds=micros)).astimezone(UTC)


def _format_offset(moment: datetime, letter: str, width: int) -> str:
    offset = moment.utcoffset() or timedelta(0)
    if letter == "X" and not offset:
        return "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    if letter == "X" and width == 1:
        return f"{sign}{hours:02d}"
    separator = ":" if letter == "X" and width >= 3 else ""
    return f"{sign}{hours:02d}{separator}{minutes:02d}"


def _parse_offset(raw: str) -> timedelta:
    if raw == "Z":
        return timedelta(0)
    digits = raw[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return -delta if raw[0] == "-" else delta


def _two_digit_year(value: int) -> int:
    # SimpleDateFormat's window: within 80 years before and 20 years after now.
    now = datetime.now(UTC).year
    year = now - now % 100 + value
    return year - 100 if year > now + 20 else year


def _fields_of(parts: list[str | tuple[str, int]]) -> list[tuple[str, int]]:
    return [part for part in parts if not isinstance(part, str)]


def _regex_of(parts: list[str | tuple[str, int]]) -> str:
    out: list[str] = []
    for index, part in enumerate(parts):
        if isinstance(part, str):
            out.append(re.escape(part))
            continue
        letter, width = part
        following = parts[index + 1] if index + 1 < len(parts) else ""
        if letter in "ZX":
            out.append(r"(Z|[+-]\d\d(?::?\d\d)?)")
        elif not isinstance(following, str):
            # Two numbers side by side ("yyyyMMdd"): only the widths tell them apart.
            out.append(rf"(\d{{{width}}})")
        else:
            out.append(rf"(\d{{{width},}})")
    return "".join(out)


def _parse(pattern: str, letters: str) -> list[str | tuple[str, int]]:
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
            if char not in letters:
                raise PatternError(
                    f"unsupported letter {char!r} in date pattern {pattern!r}; "
                    f"supported: {', '.join(letters)} (quote literal text)"
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

"""Reading ``.env`` files the way docker compose reads them.

Supported: ``KEY=value`` lines, blank lines and ``#`` comments, an optional ``export``
prefix, single quotes (literal), double quotes (with ``\\n``-style escapes), inline comments
after unquoted values (`` #``), and ``${VAR}`` / ``$VAR`` / ``${VAR:-default}`` references to
earlier keys or the process environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$")
_REFERENCE = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


class DotEnvError(ValueError):
    pass


def read_dotenv(path: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """Parse ``path``; ``environ`` resolves references to variables the file does not set."""
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise DotEnvError(f"{path}:{number}: expected KEY=value, found {stripped!r}")
        key, raw = match.group(1), match.group(2)
        values[key] = _value(raw, {**environ, **values}, f"{path}:{number}")
    return values


def _value(raw: str, known: Mapping[str, str], where: str) -> str:
    raw = raw.strip()
    if raw.startswith("'"):
        end = raw.find("'", 1)
        if end < 0:
            raise DotEnvError(f"{where}: unclosed single quote")
        return raw[1:end]
    if raw.startswith('"'):
        out: list[str] = []
        i = 1
        while i < len(raw):
            char = raw[i]
            if char == "\\" and i + 1 < len(raw):
                out.append(_ESCAPES.get(raw[i + 1], "\\" + raw[i + 1]))
                i += 2
                continue
            if char == '"':
                return _interpolate("".join(out), known)
            out.append(char)
            i += 1
        raise DotEnvError(f"{where}: unclosed double quote")
    comment = re.search(r"\s#", raw)
    if comment:
        raw = raw[: comment.start()]
    return _interpolate(raw.strip(), known)


def _interpolate(text: str, known: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        default = match.group(2)
        value = known.get(name, "")
        return value if value or default is None else default

    return _REFERENCE.sub(replace, text)

"""Log levels at run time, as Kafka Connect's ``/admin/loggers`` changes them (KIP-495).

Kafka Connect speaks Log4j: levels OFF, FATAL, ERROR, WARN, INFO, DEBUG, TRACE, ALL, and
logger names such as ``root``.  Here the loggers are Python's (``kafka_s3_sink.engine.sink_task``,
``uvicorn``...), ``root`` is the root logger, and the Log4j levels map onto Python's.
Setting a logger's level also sets it on its descendants that have a level of their own,
as Log4j does, and answers with every logger affected.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

ROOT = "root"
TRACE = 5  # below DEBUG, for Log4j's TRACE
LEVELS: dict[str, int] = {
    "OFF": logging.CRITICAL + 10,
    "FATAL": logging.CRITICAL,
    "ERROR": logging.ERROR,
    "WARN": logging.WARNING,
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
    "TRACE": TRACE,
    "ALL": 1,
}
_NAMES = {number: name for name, number in LEVELS.items()}


class UnknownLogger(LookupError):
    """No logger of that name exists (HTTP 404, as Kafka Connect)."""


class InvalidLevel(ValueError):
    """Not a Log4j level (HTTP 404, Kafka Connect's answer to it)."""


def level_name(level: int) -> str:
    if level in _NAMES:
        return _NAMES[level]
    # Python-only levels between two Log4j ones: the next stricter Log4j level.
    return next(_NAMES[n] for n in sorted(_NAMES) if n >= level) if level <= 60 else "OFF"


@dataclass
class LoggerLevels:
    """The loggers with a level of their own, and when this API last set each."""

    modified_ms: dict[str, int] = field(default_factory=dict)

    def levels(self) -> dict[str, dict[str, object]]:
        """Every logger with a level of its own, and root, as ``GET /admin/loggers`` lists."""
        out = {ROOT: self._entry(ROOT, logging.getLogger())}
        for name in sorted(logging.root.manager.loggerDict):
            logger = logging.root.manager.loggerDict[name]
            if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET:
                out[name] = self._entry(name, logger)
        return out

    def level(self, name: str) -> dict[str, object]:
        if name != ROOT and name not in logging.root.manager.loggerDict:
            raise UnknownLogger(f"Logger {name} not found.")
        logger = logging.getLogger() if name == ROOT else logging.getLogger(name)
        return self._entry(name, logger)

    def set_level(self, name: str, level_text: str) -> list[str]:
        """Set ``name`` and its descendants with a level to ``level_text``; the names set."""
        level = LEVELS.get(level_text.upper())
        if level is None:
            raise InvalidLevel(f"invalid log level '{level_text}'.")
        now = int(time.time() * 1000)
        affected = [name]
        if name == ROOT:
            logging.getLogger().setLevel(level)
            affected += [n for n, _ in self._own_levels()]
        else:
            logging.getLogger(name).setLevel(level)
            affected += [n for n, _ in self._own_levels() if n.startswith(name + ".")]
        for child in affected:
            if child != ROOT:
                logging.getLogger(child).setLevel(level)
            self.modified_ms[child] = now
        return sorted(set(affected))

    def _entry(self, name: str, logger: logging.Logger) -> dict[str, object]:
        return {
            "level": level_name(logger.getEffectiveLevel()),
            "last_modified": self.modified_ms.get(name),
        }

    @staticmethod
    def _own_levels() -> list[tuple[str, logging.Logger]]:
        return [
            (n, lg)
            for n, lg in logging.root.manager.loggerDict.items()
            if isinstance(lg, logging.Logger) and lg.level != logging.NOTSET
        ]

"""How log lines look: readable lines by default, or one JSON object per line
(LOG_FORMAT=json) for a log collector that should not have to parse free text."""

from __future__ import annotations

import json
import logging
import sys
import time

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message"}`` (+ ``"exception"``), one line each; the
    message is the same text as in plain mode, so the troubleshooting guide fits both."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str, log_format: str = "plain") -> None:
    handler = logging.StreamHandler(sys.stderr)
    plain = logging.Formatter(PLAIN_FORMAT)
    handler.setFormatter(JsonFormatter() if log_format == "json" else plain)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())

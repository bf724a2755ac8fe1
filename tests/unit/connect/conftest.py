"""The REST API can change log levels (/admin/loggers): put them back after each test."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def restore_log_levels() -> Iterator[None]:
    loggers = [logging.getLogger()] + [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    levels = [(lg, lg.level) for lg in loggers]
    yield
    for logger, level in levels:
        logger.setLevel(level)
    for logger in logging.root.manager.loggerDict.values():
        if isinstance(logger, logging.Logger) and logger not in loggers:
            logger.setLevel(logging.NOTSET)  # created by a test: back to inheriting

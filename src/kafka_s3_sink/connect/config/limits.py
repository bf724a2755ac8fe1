"""The largest values a connector config may ask for.

Every number a config holds becomes memory, threads or time in this process: ``tasks.max``
tasks each with a consumer and its threads, ``flush.size`` records per open object of every
partition, rotation intervals that keep objects open.  Kafka Connect trusts its caller; here
anyone who can reach the REST API writes configs, so each number has a ceiling well above
what an archive needs, and a value above it is refused with a 400 naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping

from ...pipeline.params import invalid
from ...pipeline.spec import ConnectorConfigError
from .keys import CONFIG_KEYS

_DAY_MS = 86_400_000
_MIB = 1024 * 1024

# A connector name becomes the group id connect-<name> and the client id
# kafka-s3-sink-connect-<name>: brokers refuse ids much longer than this.
MAX_NAME_LENGTH = 200

# key -> (minimum, maximum), both included.
LIMITS: dict[str, tuple[int, int]] = {
    # One consumer (and its librdkafka threads) per task: more tasks than partitions idle.
    "tasks.max": (1, 32),
    # Records held per open object of each partition before it is written.
    "flush.size": (1, 10_000),
    "rotate.interval.ms": (-1, 7 * _DAY_MS),
    "rotate.schedule.interval.ms": (-1, 7 * _DAY_MS),
    "partition.duration.ms": (-1, 366 * _DAY_MS),
    "errors.deadletterqueue.topic.replication.factor": (-1, 32),
    # What the consumer may buffer and wait for.
    "consumer.override.fetch.min.bytes": (1, 64 * _MIB),
    "consumer.override.fetch.max.bytes": (1, 64 * _MIB),
    "consumer.override.max.partition.fetch.bytes": (1, 64 * _MIB),
    "consumer.override.receive.buffer.bytes": (-1, 16 * _MIB),
    "consumer.override.send.buffer.bytes": (-1, 16 * _MIB),
    "consumer.override.fetch.max.wait.ms": (0, 60_000),
    "consumer.override.session.timeout.ms": (1, 30 * 60_000),
    "consumer.override.heartbeat.interval.ms": (1, 30 * 60_000),
    "consumer.override.max.poll.interval.ms": (1, _DAY_MS),
    "consumer.override.metadata.max.age.ms": (1, _DAY_MS),
    "consumer.override.reconnect.backoff.ms": (0, 60 * 60_000),
    "consumer.override.reconnect.backoff.max.ms": (0, 60 * 60_000),
    "consumer.override.retry.backoff.ms": (0, 60 * 60_000),
    "consumer.override.connections.max.idle.ms": (0, _DAY_MS),
    "consumer.override.request.timeout.ms": (1, 60 * 60_000),
    "consumer.override.socket.connection.setup.timeout.ms": (1, 60 * 60_000),
}

# Java's ranges for the typed keys nothing above bounds tighter (accepted-ignored ones too).
_TYPE_RANGES = {"SHORT": (-(2**15), 2**15 - 1), "INT": (-(2**31), 2**31 - 1)}
_TYPE_RANGES["LONG"] = (-(2**63), 2**63 - 1)
TYPED_RANGES = {
    entry.key: _TYPE_RANGES[entry.type]
    for entry in CONFIG_KEYS
    if entry.type in _TYPE_RANGES and not entry.is_prefix
}


def check_limits(config: Mapping[str, str]) -> list[tuple[str, str]]:
    """(key, message) for every number of ``config`` out of its range."""
    errors: list[tuple[str, str]] = []
    for key, text in config.items():
        bounds = LIMITS.get(key) or TYPED_RANGES.get(key)
        if bounds is None:
            continue
        try:
            check_range(key, text, *bounds)
        except ConnectorConfigError as error:
            errors.append((key, str(error)))
    return errors


def check_range(key: str, text: str, minimum: int, maximum: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise invalid(key, text, "Not a number of type INT") from None
    if value < minimum:
        raise invalid(key, text, f"Value must be at least {minimum}")
    if value > maximum:
        raise invalid(key, text, f"Value must be at most {maximum}")
    return value


def check_name_length(name: str) -> None:
    if len(name) > MAX_NAME_LENGTH:
        raise invalid(
            "name",
            name[:40] + "...",
            f"a connector name has at most {MAX_NAME_LENGTH} characters (it becomes the "
            "consumer group id connect-<name>)",
        )

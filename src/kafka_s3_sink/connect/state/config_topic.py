"""Connector configs and target states kept in a compacted Kafka topic.

As Kafka Connect's distributed mode does with its config topic: every worker pointed at the
same topic reads it from the start at boot and then follows it, so all of them see the same
connectors, and a restarted worker finds its connectors (and their paused/stopped state)
again.  One record per connector, keyed by its name; a tombstone deletes it.

A record that cannot be read (not JSON, not of our shape) never stops start-up or the
follower: it becomes a StoredConnector with ``error`` set, which the worker shows as a FAILED
connector until a valid record or a tombstone for its key replaces it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic

from ...engine.kafka_io import client_config
from .secret_box import SecretBox, SecretError, open_sealed, seal

log = logging.getLogger(__name__)


TARGET_STATES = ("RUNNING", "PAUSED", "STOPPED")


@dataclass(frozen=True)
class StoredConnector:
    config: dict[str, str]
    target_state: str  # RUNNING, PAUSED or STOPPED
    origin: str = "api"  # "env": registered from .env, removed when .env no longer names it
    # Why the stored record cannot be read (config and target_state are then best effort).
    error: str | None = None


class ConfigStoreError(ValueError):
    """The config store as a whole cannot be read (e.g. CONFIG_STORAGE_FILE is not ours)."""


# name -> the stored connector, or None when it was deleted
ChangeHandler = Callable[[str, StoredConnector | None], None]


class ConfigStore(Protocol):
    """Where connector configs live: this topic, or a local file (config_file.ConfigFile)."""

    def ensure_exists(self) -> None: ...
    def load(self) -> dict[str, StoredConnector]: ...
    def follow(self, on_change: ChangeHandler) -> None: ...  # blocks until close()
    def write(self, name: str, stored: StoredConnector | None) -> None: ...  # durable
    def close(self) -> None: ...
    def close_consumer(self) -> None: ...


class ConfigTopic:
    def __init__(self, bootstrap: str, topic: str, box: SecretBox | None = None) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.box = box  # encrypts the secret values of configs (secret_box.py)
        # Opened at the first write: created earlier, while start-up still waits for the
        # broker, librdkafka would print a connection failure every second.
        self._producer_instance: Producer | None = None
        self._consumer: Consumer | None = None
        self._stop = threading.Event()
        # Per connector, the offset of the newest record already applied here.  This
        # worker applies its own writes at once; when the follower meets them (or older
        # records) later, re-applying would replay old states over newer ones.
        self._applied: dict[str, int] = {}

    def ensure_exists(self) -> None:
        admin = AdminClient(client_config(self.bootstrap))
        if self.topic in admin.list_topics(timeout=15).topics:
            return
        brokers = len(admin.list_topics(timeout=15).brokers)
        future = admin.create_topics(
            [NewTopic(self.topic, 1, min(3, brokers), config={"cleanup.policy": "compact"})]
        )[self.topic]
        try:
            future.result(30)
            log.info("created the connector config topic %s", self.topic)
        except KafkaException as error:
            if "TOPIC_ALREADY_EXISTS" not in str(error):  # another worker was faster
                raise

    def load(self) -> dict[str, StoredConnector]:
        """Everything stored so far, read to the end of the topic."""
        consumer = self._open_consumer()
        low, high = self._watermarks(consumer)
        state: dict[str, StoredConnector] = {}
        position = low
        while position < high:
            message = consumer.poll(5)
            if message is None or message.error():
                continue
            position = message.offset() + 1
            decoded = self._decode(message)
            if decoded is None:
                continue
            name, stored = decoded
            if stored is None:
                state.pop(name, None)
            else:
                state[name] = stored
        self._consumer = consumer
        return state

    def _watermarks(self, consumer: Consumer, timeout_s: float = 60) -> tuple[int, int]:
        # A topic created a moment ago may have no leader yet: ask again until it has one.
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return consumer.get_watermark_offsets(TopicPartition(self.topic, 0), timeout=5)
            except KafkaException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def follow(self, on_change: ChangeHandler) -> None:
        """Apply what other workers write, until close(); runs on its own thread.

        No record stops it: one that cannot be read is handed on with its error, and a
        failure to apply one is logged.  Only a fatal client error ends it (raised).
        """
        assert self._consumer is not None, "load() first"
        while not self._stop.is_set():
            message = self._consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                if message.error().fatal():
                    raise KafkaException(message.error())
                continue  # transient (broker away): librdkafka retries on its own
            decoded = self._decode(message)
            if decoded is None:
                continue
            name, stored = decoded
            if message.offset() <= self._applied.get(name, -1):
                continue
            self._applied[name] = message.offset()
            try:
                on_change(name, stored)
            except Exception:
                log.exception("applying the stored config of connector %s failed", name)

    def _decode(self, message: Message) -> tuple[str, StoredConnector | None] | None:
        """(name, stored or None for a tombstone); None for a record with no usable key."""
        where = f"config topic {self.topic}, offset {message.offset()}"
        try:
            name = (message.key() or b"").decode()
        except UnicodeDecodeError:
            name = ""
        if not name:  # no connector to show it under: say so once, and go on
            log.error("%s: a record whose key is not a connector name: skipped", where)
            return None
        value = message.value()
        if value is None:
            return name, None
        try:
            data = json.loads(value)
        except ValueError as error:  # UnicodeDecodeError included
            return name, unreadable(name, where, f"is not valid JSON ({error})")
        return name, decode_entry(name, data, where, self.box)

    def write(self, name: str, stored: StoredConnector | None) -> None:
        """Store durably (acks=all) before returning; None deletes the connector."""
        value = (
            None
            if stored is None
            else json.dumps(
                {
                    "config": seal(self.box, stored.config),
                    "target_state": stored.target_state,
                    "origin": stored.origin,
                }
            ).encode()
        )
        errors: list[str] = []

        def delivered(error: object, message: Message) -> None:
            if error is not None:
                errors.append(str(error))
            else:  # the caller applies it now: the follower must not apply it again
                self._applied[name] = max(self._applied.get(name, -1), message.offset())

        if self._producer_instance is None:
            config = {**client_config(self.bootstrap), "acks": "all", "linger.ms": 0}
            self._producer_instance = Producer(config)
        producer = self._producer_instance
        producer.produce(self.topic, key=name.encode(), value=value, on_delivery=delivered)
        if producer.flush(30) or errors:
            raise RuntimeError(f"could not store connector {name} in {self.topic}: {errors}")

    def close(self) -> None:
        self._stop.set()

    def close_consumer(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    def _open_consumer(self) -> Consumer:
        consumer = Consumer(
            {
                **client_config(self.bootstrap),
                "group.id": "kafka-s3-sink-config-reader",  # never commits: assign() only
                "enable.auto.commit": False,
            }
        )
        consumer.assign([TopicPartition(self.topic, 0, OFFSET_BEGINNING)])
        return consumer


def decode_entry(
    name: str, data: object, where: str, box: SecretBox | None = None
) -> StoredConnector:
    """``{"config": {...}, "target_state": ..., "origin": ...}`` as written by write(), or
    the same file entry; anything else is an unreadable StoredConnector saying what is wrong.
    Secret values are decrypted with ``box``."""
    if not isinstance(data, dict):
        return unreadable(name, where, f"is not a JSON object but {type(data).__name__}")
    config = data.get("config")
    target = data.get("target_state", "RUNNING")
    origin = data.get("origin", "api")
    if not isinstance(config, dict):
        return unreadable(name, where, 'has no "config" object')
    config = {str(key): value for key, value in config.items()}
    try:
        config = open_sealed(box, config)
    except SecretError as error:
        # Shown without the sealed values: they are no use to anyone without the key.
        return unreadable(name, where, f"cannot be decrypted: {error}")
    if target not in TARGET_STATES:
        reason = f"has target_state {target!r}, not one of {', '.join(TARGET_STATES)}"
        return unreadable(name, where, reason, config)
    if origin not in ("api", "env"):
        origin = "api"
    return StoredConnector(config, target, origin)


def unreadable(
    name: str, where: str, problem: str, config: dict[str, str] | None = None
) -> StoredConnector:
    return StoredConnector(
        config or {}, "RUNNING", error=f"the stored config of connector {name} ({where}) {problem}"
    )

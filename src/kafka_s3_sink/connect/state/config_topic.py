"""Connector configs and target states kept in a compacted Kafka topic.

As Kafka Connect's distributed mode does with its config topic: every worker pointed at the
same topic reads it from the start at boot and then follows it, so all of them see the same
connectors, and a restarted worker finds its connectors (and their paused/stopped state)
again.  One record per connector, keyed by its name; a tombstone deletes it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredConnector:
    config: dict[str, str]
    target_state: str  # RUNNING, PAUSED or STOPPED
    origin: str = "api"  # "env": registered from .env, removed when .env no longer names it


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
    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self._producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0})
        self._consumer: Consumer | None = None
        self._stop = threading.Event()

    def ensure_exists(self) -> None:
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
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
            name, stored = _decode(message.key(), message.value())
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
        """Apply what other workers write, until close(); runs on its own thread."""
        assert self._consumer is not None, "load() first"
        while not self._stop.is_set():
            message = self._consumer.poll(0.5)
            if message is None or message.error():
                continue
            name, stored = _decode(message.key(), message.value())
            try:
                on_change(name, stored)
            except Exception:
                log.exception("applying the stored config of connector %s failed", name)

    def write(self, name: str, stored: StoredConnector | None) -> None:
        """Store durably (acks=all) before returning; None deletes the connector."""
        value = (
            None
            if stored is None
            else json.dumps(
                {
                    "config": stored.config,
                    "target_state": stored.target_state,
                    "origin": stored.origin,
                }
            ).encode()
        )
        errors: list[str] = []

        def delivered(error: object, _message: object) -> None:
            if error is not None:
                errors.append(str(error))

        self._producer.produce(self.topic, key=name.encode(), value=value, on_delivery=delivered)
        if self._producer.flush(30) or errors:
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
                "bootstrap.servers": self.bootstrap,
                "group.id": "kafka-s3-sink-config-reader",  # never commits: assign() only
                "enable.auto.commit": False,
            }
        )
        consumer.assign([TopicPartition(self.topic, 0, OFFSET_BEGINNING)])
        return consumer


def _decode(key: bytes | None, value: bytes | None) -> tuple[str, StoredConnector | None]:
    name = (key or b"").decode()
    if value is None:
        return name, None
    data = json.loads(value)
    return name, StoredConnector(
        dict(data["config"]), data.get("target_state", "RUNNING"), data.get("origin", "api")
    )

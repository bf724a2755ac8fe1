"""Kafka Connect's dead-letter queue: records that cannot be converted, produced to a topic.

With ``errors.deadletterqueue.topic.name`` set, each record the task cannot convert is
produced there as Kafka Connect's DeadLetterQueueReporter does: the original key, value,
headers and timestamp, no partition chosen; with
``errors.deadletterqueue.context.headers.enable=true`` the ``__connect.errors.*`` headers
say where it came from and why.  The topic is created when missing (one partition, the
connector's ``errors.deadletterqueue.topic.replication.factor``); a task that cannot create
it fails, as in Kafka Connect.

``send`` returns only once the broker acknowledged the record (acks=all), so the caller can
keep the service's invariant: the record's offset counts as done only after that.  A record
the topic refuses raises DeadLetterQueueError, which fails the task with its offset
uncommitted (Kafka Connect only logs that, and commits the record as if delivered).
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from ..pipeline.conversion import NullValueError
from ..pipeline.converters import ConversionError
from ..pipeline.records import Record
from ..pipeline.sinetstream_codec import UndecodableMessage
from ..pipeline.spec import ConnectorSpec
from ..pipeline.transforms import TransformError

log = logging.getLogger(__name__)

HEADER_PREFIX = "__connect.errors."
# The class Kafka Connect names for failures in the sink task itself (the Confluent task).
SINK_TASK_CLASS = "io.confluent.connect.s3.S3SinkTask"
# Client settings a producer shares with the task's consumer: where and how to connect.
_CONNECTION_KEYS = ("bootstrap.servers", "security.", "sasl.", "ssl.", "socket.", "broker.")
_TIMEOUT_S = 30.0
# How long a dead letter may wait for the broker: Kafka Connect's delivery.timeout.ms.
_DELIVERY_TIMEOUT_MS = 120_000


class DeadLetterQueueError(RuntimeError):
    """The dead-letter topic cannot be created or written: the task fails with this."""


class DeadLetterQueue:
    """The dead-letter topic of one task: ``await open()``, ``await send(...)``,
    ``await close()``.  One send at a time: the task awaits each before the next record."""

    def __init__(self, spec: ConnectorSpec, client_config: dict[str, Any], task_id: int) -> None:
        assert spec.dead_letter_topic, "only for connectors with a dead-letter topic"
        self.topic = spec.dead_letter_topic
        self.connector = spec.name
        self.task_id = task_id
        self.replication_factor = spec.dead_letter_replication_factor
        self.context_headers = spec.dead_letter_context_headers
        self._connection = {
            key: value for key, value in client_config.items() if key.startswith(_CONNECTION_KEYS)
        }
        self._producer: Producer | None = None

    async def open(self) -> None:
        """Create the topic if it is missing, then start the producer."""
        await asyncio.to_thread(self._create_topic)
        self._producer = Producer(
            {
                **self._connection,
                "acks": "all",
                "enable.idempotence": True,  # retries neither duplicate nor reorder
                "linger.ms": 0,  # one record at a time: nothing to batch
                "message.timeout.ms": _DELIVERY_TIMEOUT_MS,
                # A dead letter is as large as the record it keeps; the topic's own
                # max.message.bytes is the limit that counts (a refusal fails the task).
                "message.max.bytes": 64 * 1024 * 1024,
                "client.id": f"kafka-s3-sink-{self.connector}-{self.task_id}-dlq",
                "log_level": 3,
            },
            logger=log,
        )

    def _create_topic(self) -> None:
        admin = AdminClient({**self._connection, "log_level": 3, "logger": log})
        try:
            topics = admin.list_topics(timeout=_TIMEOUT_S).topics
            if self.topic in topics and topics[self.topic].error is None:
                return
            log.warning(
                "dead-letter topic %s does not exist: creating it (replication factor %d)",
                self.topic,
                self.replication_factor,
            )
            new = NewTopic(self.topic, 1, self.replication_factor)
            admin.create_topics([new], operation_timeout=_TIMEOUT_S)[self.topic].result(
                _TIMEOUT_S * 2
            )
        except KafkaException as error:
            kafka_error = error.args[0]
            if kafka_error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                return  # another task was faster
            raise DeadLetterQueueError(
                f"could not create the dead-letter topic {self.topic} "
                f"(errors.deadletterqueue.topic.name) with replication factor "
                f"{self.replication_factor} (errors.deadletterqueue.topic.replication.factor): "
                f"{kafka_error.str()}"
            ) from None

    async def send(self, record: Record, reason: str, error: BaseException | None = None) -> None:
        """Produce ``record`` to the topic; return once acknowledged, else raise
        DeadLetterQueueError.  ``error`` is what failed (for the context headers)."""
        assert self._producer is not None, "open() first"
        loop = asyncio.get_running_loop()
        acked: asyncio.Future[None] = loop.create_future()

        def delivered(failure: KafkaError | None, _message: object) -> None:  # in poll()
            if not loop.is_closed():
                loop.call_soon_threadsafe(self._settle, acked, record, failure)

        headers = list(record.headers)
        if self.context_headers:
            headers += self._context_headers(record, reason, error)
        try:
            self._producer.produce(
                self.topic,
                key=record.key,
                value=record.value,
                headers=headers,
                timestamp=record.timestamp_ms or 0,  # 0: the producer's clock
                on_delivery=delivered,
            )
        except (KafkaException, BufferError) as refused:
            raise DeadLetterQueueError(self._cannot(record, str(refused))) from None
        # Delivery reports come through poll(); short polls, so a cancelled task (shutdown)
        # leaves no thread blocked for long.  message.timeout.ms bounds the wait.
        producer = self._producer
        while not acked.done():
            await asyncio.to_thread(producer.poll, 0.5)
        await acked

    def _settle(
        self, acked: asyncio.Future[None], record: Record, failure: KafkaError | None
    ) -> None:
        if acked.done():  # the task stopped waiting meanwhile
            return
        if failure is None:
            acked.set_result(None)
        else:
            acked.set_exception(DeadLetterQueueError(self._cannot(record, failure.str())))

    def _cannot(self, record: Record, why: str) -> str:
        return (
            f"could not produce {record.topic}[{record.partition}]@{record.offset} to the "
            f"dead-letter topic {self.topic}: {why}"
        )

    def _context_headers(
        self, record: Record, reason: str, error: BaseException | None
    ) -> list[tuple[str, bytes]]:
        """Kafka Connect's ``__connect.errors.*`` headers, in its order, values UTF-8."""
        stage, executing = _stage_of(error)
        values = [
            ("topic", record.topic),
            ("partition", str(record.partition)),
            ("offset", str(record.offset)),
            ("connector.name", self.connector),
            ("task.id", str(self.task_id)),
            ("stage", stage),
            ("class.name", executing),
        ]
        if error is not None:
            kind = type(error)
            values += [
                ("exception.class.name", f"{kind.__module__}.{kind.__qualname__}"),
                ("exception.message", str(error) or reason),
                ("exception.stacktrace", "".join(traceback.format_exception(error))),
            ]
        else:
            values.append(("exception.message", reason))
        names = {name for name, _ in record.headers}
        # As Kafka Connect: a header the record already has is not added a second time.
        return [
            (HEADER_PREFIX + name, value.encode())
            for name, value in values
            if HEADER_PREFIX + name not in names
        ]

    async def close(self, timeout_s: float = _TIMEOUT_S) -> None:
        """Wait (at most ``timeout_s``) for what is still in flight; then let go of it."""
        if self._producer is None:
            return
        left = await asyncio.to_thread(self._producer.flush, timeout_s)
        if left:
            log.error(
                "%d dead letters not acknowledged by %s at close: their offsets are not "
                "committed and will be read again",
                left,
                self.topic,
            )
        self._producer = None


def _stage_of(error: BaseException | None) -> tuple[str, str]:
    """Kafka Connect's stage name and the executing class (here: the module that failed)."""
    if isinstance(error, TransformError):
        return "TRANSFORMATION", type(error).__module__
    if isinstance(error, NullValueError):  # behavior.on.null.values=fail: the sink's own check
        return "TASK_PUT", SINK_TASK_CLASS
    if isinstance(error, ConversionError) or type(error) is UndecodableMessage:
        return "VALUE_CONVERTER", type(error).__module__
    return "TASK_PUT", SINK_TASK_CLASS  # formats, partitioners, object keys: the task's put

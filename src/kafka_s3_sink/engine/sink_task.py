"""One task of a connector at work: consume, convert, assemble, upload, commit.

    consumer.consume ─▶ spec.convert ─▶ assembler.add ─▶ store.put ─▶ consumer.commit
                        (dead letter     (flush.size,     (many in     (only contiguous
                         when it fails)   rotation)        flight)      stored offsets)

Every call into the librdkafka consumer runs on one dedicated thread, so the event loop
never blocks on Kafka and the consumer is never used from two threads at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from ..pipeline.assembler import Batch, ObjectAssembler
from ..pipeline.formats.base import compress
from ..pipeline.records import Record, StoredObject
from ..pipeline.sinetstream_codec import UndecodableMessage
from ..pipeline.spec import ConnectorSpec
from ..store import ObjectStore
from .dead_letter_queue import DeadLetterQueue
from .deadletter import DeadLetterLog, dead_letter_objects
from .delivery import InflightBudget, PartitionProgress
from .fencing import TICK_S, FreezeFence
from .kafka_io import is_fatal, to_record
from .metrics import StatsRegistry
from .uploads import Uploads

log = logging.getLogger(__name__)

_BATCH = 500  # messages per consume call at most
# and about this many bytes (two such batches are held: one taken, one fetched ahead); an
# object per record is bound by the store's request rate, where bigger batches only cost.
_BATCH_BYTES = 4 * 1024 * 1024
_PER_RECORD_BATCH_BYTES = 1024 * 1024
_POLL_TIMEOUT_S = 0.2
_WATERMARKS_EVERY_S = 1.0  # how fresh lag() is
# Uploads failing for this long show in the task's status (shorter blips do not).
_RETRY_REPORT_AFTER_S = 5.0
# After a freeze with no committed offset to probe the group with: two heartbeats.
_UNPROBED_WAIT_S = 6.0


class _Rejected(NamedTuple):
    """A record the pipeline could not take, to become a dead letter."""

    record: Record
    reason: str
    progress: PartitionProgress
    error: BaseException


class ConnectorFailed(RuntimeError):
    """The connector cannot go on (errors.tolerance=none, or a store that refuses us)."""


@dataclass
class TaskOptions:
    """The worker-wide settings every task shares."""

    dead_letter_prefix: str
    max_inflight_objects: int
    max_inflight_bytes: int
    commit_interval_s: float
    shutdown_timeout_s: float
    stall_timeout_s: float = 120.0
    dead_letter_log: DeadLetterLog = field(default_factory=DeadLetterLog)
    # Counters per (connector, task number) that outlive each SinkTask (GET /metrics).
    stats: StatsRegistry = field(default_factory=StatsRegistry)


class SinkTask:
    def __init__(
        self,
        spec: ConnectorSpec,
        consumer_config: dict[str, Any],
        store: ObjectStore,
        options: TaskOptions,
        task_id: int = 0,
        active_topics: set[str] | None = None,
    ) -> None:
        self.name = spec.name if task_id == 0 else f"{spec.name}-{task_id}"
        self.spec = spec
        self.task_id = task_id
        self.assembler = ObjectAssembler(spec)
        self.store = store
        self.options = options
        self.stats = options.stats.for_task(spec.name, task_id)
        # Topics records were read from (the connector's active topics, shared by its tasks).
        self.active_topics = set() if active_topics is None else active_topics
        self.failure: BaseException | None = None
        self._consumer_config = consumer_config
        self._consumer: Consumer | None = None
        self._kafka_thread = ThreadPoolExecutor(1, thread_name_prefix=f"kafka-{self.name}")
        self._progress: dict[tuple[str, int], PartitionProgress] = {}
        session_s = int(consumer_config.get("session.timeout.ms", 45_000)) / 1000
        self._session_s = session_s
        # Half the session timeout without running may already have cost us the partitions.
        self._fence = FreezeFence(self.name, gap_s=session_s / 2)
        self._uploads = Uploads(
            self.name,
            store,
            InflightBudget(options.max_inflight_objects, options.max_inflight_bytes),
            self.stats,
            self._fail,
            self._fence,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_commit = time.monotonic()
        self._stopping = asyncio.Event()  # request_stop(), or a failure
        self._batch_size = _BATCH
        self._batch_bytes = (
            _PER_RECORD_BATCH_BYTES if spec.rotation.flush_size == 1 else _BATCH_BYTES
        )
        # High watermarks per partition, read on the Kafka thread for lag(): the event loop
        # never calls the consumer (see _note_watermarks).
        self._high_watermarks: dict[tuple[str, int], int] = {}
        self._watermarks_at = 0.0
        # errors.deadletterqueue.topic.name: dead letters also go to that topic.
        self._dead_letter_queue = (
            DeadLetterQueue(spec, consumer_config, task_id) if spec.dead_letter_topic else None
        )

    # -- the main loop -------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` (the whole worker), request_stop() or a failure; then let
        uploads finish for up to the shutdown timeout, commit what is stored, and close.

        Raises ConnectorFailed with the cause when the task cannot go on (the worker shows
        it as FAILED with that trace); any exception, whatever its type, ends up there.
        """
        self._loop = asyncio.get_running_loop()
        self.stats.progress_at = time.monotonic()
        if self._dead_letter_queue is not None:  # created if missing, else the task fails
            await self._dead_letter_queue.open()
        self._consumer = await self._in_kafka_thread(self._open_consumer)
        log.info("%s: started, consuming %s", self.name, self._subscription_text())
        consuming = asyncio.create_task(self._consume())
        stopping = asyncio.create_task(_first_of(stop, self._stopping))
        watching = asyncio.create_task(self._watch_for_freezes())
        try:
            await asyncio.wait(
                {consuming, stopping, watching}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            # The consume loop may be waiting for room in the in-flight budget while the
            # store is down: cancel it, so that stopping never waits on the store.
            for task in (stopping, consuming, watching):
                task.cancel()
            outcomes = await asyncio.gather(consuming, stopping, watching, return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, Exception) and self.failure is None:
                    self.failure = outcome
            await self._shutdown()
        if self.failure is not None:
            raise ConnectorFailed(f"{self.name}: {self.failure}") from self.failure

    async def _consume(self) -> None:
        loop = asyncio.get_running_loop()
        # One fetch always runs ahead: the Kafka thread builds the next batch while this
        # one is dispatched (consume and dispatch otherwise take turns, each idling half).
        fetching = loop.run_in_executor(self._kafka_thread, self._fetch)
        try:
            while self.failure is None:
                messages = await fetching
                fetching = loop.run_in_executor(self._kafka_thread, self._fetch)
                if messages:
                    self._note_topics(messages)
                now_ms = _now_ms()
                # The per-record path runs without awaiting; only a completed object or a
                # dead letter needs the event loop.
                taken = 0
                while taken < len(messages) and self.failure is None:
                    if self.assembler.plain:
                        taken, outcome = self._take_plain(messages, taken)
                    else:
                        outcome = self._take(messages[taken], now_ms)
                        taken += 1
                    if outcome is None:
                        continue
                    if isinstance(outcome, _Rejected):
                        await self._dead_letter(*outcome)
                    else:
                        for batch in outcome:
                            await self._upload_batch(batch)
                for batch in self.assembler.due(_now_ms()):
                    await self._upload_batch(batch)
                if time.monotonic() - self._last_commit >= self.options.commit_interval_s:
                    await self._commit()
        finally:
            # Messages fetched ahead are dropped: uncommitted, they are read again later.
            await asyncio.gather(fetching, return_exceptions=True)

    def _fetch(self) -> list[Any]:
        """What is there now, or else the first message to arrive within the poll timeout.

        consume(n, timeout) waits for n messages or the timeout, so at a low rate every
        message would wait out the timeout: ask for what is ready first, block only when idle.
        """
        assert self._consumer is not None
        batch = self._batch_size
        messages = self._consumer.consume(batch, 0)
        if not messages:
            messages = self._consumer.consume(1, _POLL_TIMEOUT_S)
            if messages:
                messages.extend(self._consumer.consume(batch - 1, 0))
        if messages:
            # Size batches by bytes, not count: 500 camera images would be 500 x 10 MB.
            average = max(1, sum(len(m) for m in messages) // len(messages))
            self._batch_size = max(1, min(_BATCH, self._batch_bytes // average))
        self._note_watermarks()
        return messages

    def _note_watermarks(self) -> None:
        """On the Kafka thread, at most once a second: the cached high watermarks.

        Only the Kafka thread touches the consumer.  A consumer call from another thread
        waits while a rebalance callback runs, and _on_revoke waits for the event loop to
        drain uploads: had lag() asked the consumer from the event loop, the two would
        have waited for each other until the shutdown timeout (or for good).
        """
        now = time.monotonic()
        if now - self._watermarks_at < _WATERMARKS_EVERY_S or self._consumer is None:
            return
        self._watermarks_at = now
        highs: dict[tuple[str, int], int] = {}
        for key in list(self._progress):
            try:
                _, high = self._consumer.get_watermark_offsets(TopicPartition(*key), cached=True)
            except KafkaException:
                continue
            if high >= 0:
                highs[key] = high
        self._high_watermarks = highs

    def request_stop(self) -> None:
        """Stop this task only (pause, restart, delete): uploads finish, offsets commit."""
        self._stopping.set()

    def _fail(self, error: BaseException) -> None:
        """Stop at the first failure; nothing past it is committed."""
        if self.failure is None:
            self.failure = error
        self._stopping.set()

    def assigned(self) -> list[tuple[str, int]]:
        return list(self._progress)

    def _open_consumer(self) -> Consumer:
        consumer = Consumer(self._consumer_config, logger=log)
        consumer.subscribe(
            self._subscription(),
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        return consumer

    def _subscription(self) -> list[str]:
        if self.spec.topics_regex:
            return ["^" + self.spec.topics_regex.removeprefix("^")]  # librdkafka: ^ = regex
        return list(self.spec.topics)

    def _subscription_text(self) -> str:
        return ", ".join(self._subscription())

    def _take(self, message: Any, now_ms: int) -> list[Batch] | _Rejected | None:
        """Read one message into the open objects: the objects it completes, or the dead
        letter it makes, or None.  Synchronous: this runs once per record."""
        error = message.error()
        if error is not None:
            self._on_consumer_error(error)
            return None
        record = to_record(message)
        progress = self._progress.get((record.topic, record.partition))
        if progress is None:  # a message of a partition revoked meanwhile: re-read later
            return None
        progress.started(record.offset)
        try:
            value = self.spec.convert(record)
            if value is None:  # behavior.on.null.values=ignore: nothing to write
                progress.finished(record.offset)
                self.stats.progress_at = time.monotonic()
                return None
            return self.assembler.add(record, value, now_ms) or None
        except UndecodableMessage as undecodable:
            return _Rejected(record, undecodable.reason, progress, undecodable)
        except Exception as error:
            # The record path is pure: whatever it raises is a property of this record
            # (a value out of every range), so it is handled as one that cannot be read.
            return _Rejected(record, f"{type(error).__name__}: {error}", progress, error)

    def _take_plain(
        self, messages: list[Any], start: int
    ) -> tuple[int, list[Batch] | _Rejected | None]:
        """``_take`` for a plain connector (objects that depend on each record's value, its
        partition and the count alone), over ``messages[start:]`` until one completes an
        object or makes a dead letter: (index of the next message, that outcome).  No
        Record is made but for a dead letter."""
        convert = self.spec.convert_value
        assert convert is not None
        add = self.assembler.add_plain
        progress_of = self._progress.get
        where: tuple[str, int] | None = None
        progress: PartitionProgress | None = None
        for index in range(start, len(messages)):
            message = messages[index]
            error = message.error()
            if error is not None:
                self._on_consumer_error(error)
                if self.failure is not None:
                    return index + 1, None
                continue
            topic, partition = message.topic(), message.partition()
            if where is None or where[0] != topic or where[1] != partition:
                where = (topic, partition)
                progress = progress_of(where)
            if progress is None:  # a message of a partition revoked meanwhile
                continue
            offset = message.offset()
            progress.started(offset)
            try:
                value = convert(message.value())
                if value is None:  # behavior.on.null.values=ignore: nothing to write
                    progress.finished(offset)
                    self.stats.progress_at = time.monotonic()
                    continue
                closed = add(topic, partition, offset, value)
            except Exception as error:  # as in _take: a property of this record
                reason = (
                    error.reason
                    if isinstance(error, UndecodableMessage)
                    else f"{type(error).__name__}: {error}"
                )
                return index + 1, _Rejected(to_record(message), reason, progress, error)
            if closed:
                return index + 1, closed
        return len(messages), None

    async def _upload_batch(self, batch: Batch) -> None:
        progress = self._progress.get((batch.topic, batch.partition))
        if progress is None:
            return
        body = compress(
            self.spec.format.encode(batch.values),
            self.spec.compression,
            self.spec.compression_level,
        )
        obj = StoredObject(self.assembler.key_of(batch), body)
        await self._uploads.start([obj], batch.offsets, progress)

    async def _dead_letter(
        self,
        record: Record,
        reason: str,
        progress: PartitionProgress,
        error: BaseException | None = None,
    ) -> None:
        if not self.spec.tolerate_errors:
            self._fail(
                ConnectorFailed(
                f"cannot convert {record.topic}[{record.partition}]@{record.offset}: {reason} "
                "(errors.tolerance=none stops here; with errors.tolerance=all, or "
                "ERRORS_TOLERANCE=all in .env, such records are kept under the dead-letter "
                    "prefix)"
                )
            )
            return
        self.stats.dead_letters += 1
        prefix = self.options.dead_letter_prefix
        if self.options.dead_letter_log.first_sighting(record):
            log.warning(
                "%s[%d]@%d kept as a dead letter under %s/: %s",
                record.topic,
                record.partition,
                record.offset,
                prefix,
                reason,
            )
        objects = dead_letter_objects(prefix, record, reason)
        if self._dead_letter_queue is not None:
            # Acknowledged before the offset can finish: it is then in the topic for good.
            await self._dead_letter_queue.send(record, reason, error)
        await self._uploads.start(objects, [record.offset], progress, records=0)

    def _note_topics(self, messages: list[Any]) -> None:
        if len(self.spec.topics) == 1 and not self.spec.topics_regex:
            self.active_topics.add(self.spec.topics[0])  # the common case: no scan
        else:
            self.active_topics.update({m.topic() for m in messages if m.error() is None})

    async def _watch_for_freezes(self) -> None:
        """Tick the fence; after a freeze, confirm ownership before writes resume."""
        while True:
            await asyncio.sleep(TICK_S)
            if self._fence.tick():
                await self._confirm_ownership()

    async def _confirm_ownership(self) -> None:
        """Writes resume when a commit of the committed offsets is accepted (the group's
        generation is ours), or when a rebalance settles ownership (the callbacks confirm),
        or, with nothing committed to probe with, after two heartbeats' worth of polling."""
        started = time.monotonic()
        while self._fence.tick():
            verdict = await self._in_kafka_thread(self._probe_membership)
            if verdict is True:
                self._fence.confirm("the consumer group accepted a commit")
                return
            waited = time.monotonic() - started
            if verdict is None and waited >= _UNPROBED_WAIT_S:
                self._fence.confirm("no rebalance after the freeze")
                return
            if waited >= 2 * self._session_s:
                self._fence.confirm("the group did not rebalance")
                return
            await asyncio.sleep(TICK_S)

    def _probe_membership(self) -> bool | None:
        """On the Kafka thread: True if still a member of the current generation, False if
        fenced, None if it cannot tell (nothing committed yet to commit again)."""
        offsets = [
            TopicPartition(topic, partition, progress.committed)
            for (topic, partition), progress in self._progress.items()
            if progress.committed is not None
        ]
        if not offsets or self._consumer is None:
            return None
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as error:
            log.warning("%s: after a freeze the group refused a commit: %s", self.name, error)
            return False
        return True

    def _on_consumer_error(self, error: KafkaError) -> None:
        if error.code() == KafkaError._PARTITION_EOF:
            return
        if is_fatal(error):
            self._fail(ConnectorFailed(f"Kafka error: {error.str()}"))
        else:
            # librdkafka reconnects by itself (broker restart, leader change): just report.
            log.warning("%s: Kafka: %s", self.name, error.str())

    # -- commits and rebalances ------------------------------------------------------------

    async def _commit(self) -> None:
        self._last_commit = time.monotonic()
        await self._in_kafka_thread(self._commit_now, None)

    def _commit_now(self, partitions: list[TopicPartition] | None) -> None:
        """Commit stored positions (of ``partitions`` only, if given); on the Kafka thread."""
        chosen = (
            self._progress.items()
            if partitions is None
            else [(key, self._progress[key]) for key in _keys(partitions) if key in self._progress]
        )
        offsets = []
        for (topic, partition), progress in chosen:
            position = progress.commit_due()
            if position is not None:
                offsets.append((TopicPartition(topic, partition, position), progress))
        if not offsets or self._consumer is None:
            return
        try:
            self._consumer.commit(offsets=[tp for tp, _ in offsets], asynchronous=False)
        except Exception as error:  # the broker may be restarting: the next commit catches up
            log.warning("%s: commit failed, will retry: %s", self.name, error)
            return
        for tp, progress in offsets:
            progress.committed = tp.offset

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for key in _keys(partitions):
            self._progress.setdefault(key, PartitionProgress())
        log.info("%s: assigned %s", self.name, _describe(partitions))
        self._ownership_settled("assigned")

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Runs inside consume() on the Kafka thread while the event loop is free: let the
        # revoked partitions' uploads finish, commit them, then give the partitions up.
        # Not after a freeze: those uploads wait for this very rebalance, and are dropped.
        if self._fence.clear and self._loop is not None and not self._loop.is_closed():
            future = asyncio.run_coroutine_threadsafe(self._uploads.drain(), self._loop)
            try:
                future.result(self.options.shutdown_timeout_s)
            except Exception:
                log.warning("%s: uploads still running at revocation", self.name)
        self._commit_now(partitions)
        self._give_up(partitions)
        log.info("%s: revoked %s", self.name, _describe(partitions))
        self._ownership_settled("revoked")

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._give_up(partitions)
        log.warning("%s: lost %s (another member owns them now)", self.name, _describe(partitions))
        self._ownership_settled("lost")

    def _give_up(self, partitions: list[TopicPartition]) -> None:
        for key in _keys(partitions):
            progress = self._progress.pop(key, None)
            if progress is not None:
                progress.owned = False  # its uploads still waiting are not written
            self.assembler.discard(*key)

    def _ownership_settled(self, how: str) -> None:
        """A rebalance callback (Kafka thread) ends any wait that follows a freeze."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._fence.confirm, f"partitions {how}")

    async def _shutdown(self) -> None:
        try:
            await asyncio.wait_for(self._uploads.drain(), self.options.shutdown_timeout_s)
        except TimeoutError:
            log.error(
                "%s: %d uploads still running after %.0fs; their offsets are not committed "
                "and will be read again at the next start",
                self.name,
                self._uploads.running,
                self.options.shutdown_timeout_s,
            )
        self._uploads.cancel()
        if self._dead_letter_queue is not None:
            await self._dead_letter_queue.close(self.options.shutdown_timeout_s)
        if self._consumer is not None:
            # Bounded too: with the broker away, commit and close could wait for minutes.
            # An offset not committed here is read again at the next start.
            for step in (lambda: self._commit_now(None), self._consumer.close):
                try:
                    await asyncio.wait_for(
                        self._in_kafka_thread(step), self.options.shutdown_timeout_s
                    )
                except TimeoutError:
                    log.error("%s: the Kafka client did not finish closing in time", self.name)
                    break
        self._kafka_thread.shutdown(wait=False)
        log.info(
            "%s: stopped after %d records (%d dead letters)",
            self.name,
            self.stats.records,
            self.stats.dead_letters,
        )

    # -- helpers -----------------------------------------------------------------------------

    async def _in_kafka_thread(self, function: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._kafka_thread, function, *args)

    def lag(self) -> dict[str, int]:
        """Messages not yet stored, per partition ("topic[p]"), from cached high watermarks."""
        return {f"{topic}[{partition}]": lag for (topic, partition), lag in self.lags().items()}

    def lags(self) -> dict[tuple[str, int], int]:
        """Messages not yet stored, per (topic, partition), from cached high watermarks."""
        out: dict[tuple[str, int], int] = {}
        highs = self._high_watermarks
        for key, progress in list(self._progress.items()):
            high = highs.get(key)
            needed = progress.first_unstored
            if high is not None and needed is not None:
                out[key] = max(0, high - needed)
        return out

    def committed(self) -> dict[tuple[str, int], int]:
        """The last offset position committed per assigned (topic, partition)."""
        return {
            key: progress.committed
            for key, progress in list(self._progress.items())
            if progress.committed is not None
        }

    @property
    def in_flight(self) -> tuple[int, int]:
        """(objects, bytes) of uploads in flight now."""
        return self._uploads.in_flight

    def health(self) -> str | None:
        """Why this running task is not well, or None: uploads failing and being retried,
        or no record stored for the stall timeout while records wait (a stall)."""
        stall_timeout_s = self.options.stall_timeout_s
        now = time.monotonic()
        retrying = self._uploads.retrying_since
        if retrying is not None and now - retrying >= _RETRY_REPORT_AFTER_S:
            return (
                f"retrying uploads for {now - retrying:.0f} s ({self.stats.retries} retries so "
                f"far): {self._uploads.last_error}"
            )
        idle = now - self.stats.progress_at
        if idle >= stall_timeout_s:
            waiting = sum(self.lag().values())
            if waiting:
                return (
                    f"stalled: no record stored for {idle:.0f} s while {waiting} records wait "
                    f"({self._uploads.running} uploads in flight)"
                )
        return None


async def _first_of(*events: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _keys(partitions: list[TopicPartition]) -> list[tuple[str, int]]:
    return [(tp.topic, tp.partition) for tp in partitions]


def _describe(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing"

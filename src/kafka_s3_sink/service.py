"""The service: the reference deployment's two connectors, built from one ``Settings``.

``s3-sink-data`` writes each message's payload and ``s3-sink-timestamp`` its timestamp; each
is its own consumer group (``connect-<name>``, Kafka Connect's naming), so offsets committed
by a Kafka Connect deployment are continued where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time

from .config import Settings
from .kafka_io import check_topic, consumer_config
from .naming import KeyLayout, TimeBasedPartitioner
from .rendering import KeyMaker, PayloadRenderer, RecordRenderer, TimestampRenderer
from .sink_task import ConnectorFailed, SinkTask, TaskOptions
from .store import LocalObjectStore, ObjectStore, S3ObjectStore, S3Settings
from .timeformat import DatePattern

log = logging.getLogger(__name__)


def build_store(settings: Settings) -> ObjectStore:
    root = settings.local_root
    if root is not None:
        return LocalObjectStore(root, settings["S3_BUCKET_NAME"])
    return S3ObjectStore(
        S3Settings(
            bucket=settings["S3_BUCKET_NAME"],
            region=settings["S3_REGION"],
            access_key_id=settings["AWS_ACCESS_KEY_ID"],
            secret_access_key=settings["AWS_SECRET_KEY"],
            endpoint_url=settings["S3_ENDPOINT_URL"] or None,
            create_bucket=settings.create_bucket,
        )
    )


def build_renderers(settings: Settings) -> dict[str, RecordRenderer]:
    """Connector name -> what it writes for each record."""
    partitioner = TimeBasedPartitioner(
        settings["PATH_FORMAT"], settings["TIMEZONE"], settings["PARTITION_DURATION_MS"]
    )
    layout = KeyLayout(topics_dir=settings["TOPICS_DIR"])
    separator = settings["LINE_SEPARATOR"]
    return {
        settings["DATA_CONNECTOR"]: PayloadRenderer(
            KeyMaker(layout, partitioner, settings["S3_OBJECT_EXTENSION"]), separator
        ),
        settings["TIMESTAMP_CONNECTOR"]: TimestampRenderer(
            KeyMaker(layout, partitioner, settings["TIMESTAMP_EXTENSION"]),
            separator,
            DatePattern(settings["TIMESTAMP_FORMAT"]),
        ),
    }


def group_id(connector_name: str) -> str:
    return f"connect-{connector_name}"


def build_tasks(settings: Settings, store: ObjectStore) -> list[SinkTask]:
    options = TaskOptions(
        topics=[settings["KAFKA_TOPIC"]],
        dead_letter_prefix=settings["DEAD_LETTER_PREFIX"],
        tolerate_errors=settings["ERRORS_TOLERANCE"] == "all",
        max_inflight_objects=settings["MAX_INFLIGHT_OBJECTS"],
        max_inflight_bytes=settings["MAX_INFLIGHT_BYTES"],
        commit_interval_s=settings["COMMIT_INTERVAL_S"],
        shutdown_timeout_s=settings["SHUTDOWN_TIMEOUT_S"],
    )
    return [
        SinkTask(
            name,
            consumer_config(settings["BROKER_HOSTNAME"], group_id(name)),
            renderer,
            store,
            options,
        )
        for name, renderer in build_renderers(settings).items()
    ]


async def run_service(settings: Settings) -> None:
    """Check the store and the broker, then archive until SIGINT/SIGTERM.

    Raises StoreError / BrokerError at start-up and ConnectorFailed when a connector stops.
    """
    store = build_store(settings)
    await store.check()
    partitions = await asyncio.to_thread(
        check_topic, settings["BROKER_HOSTNAME"], settings["KAFKA_TOPIC"]
    )
    log.info(
        "archiving topic %s (%d partitions) from %s into %s",
        settings["KAFKA_TOPIC"],
        partitions,
        settings["BROKER_HOSTNAME"],
        store.description,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _request_stop, stop, sig)
    tasks = build_tasks(settings, store)
    reporter = asyncio.create_task(_report_progress(tasks, settings["PROGRESS_INTERVAL_S"], stop))
    runs = [asyncio.create_task(task.run(stop)) for task in tasks]
    failure: BaseException | None = None
    try:
        for finished in asyncio.as_completed(runs):
            try:
                await finished
            except ConnectorFailed as error:
                failure = failure or error
                stop.set()  # one connector failing stops the service, never half-archiving
    finally:
        stop.set()
        await asyncio.gather(*runs, return_exceptions=True)
        reporter.cancel()
        await store.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    _log_progress(tasks)
    log.info("stopped")
    if failure is not None:
        raise failure


def _request_stop(stop: asyncio.Event, sig: signal.Signals) -> None:
    if not stop.is_set():
        log.info("%s received: finishing in-flight uploads, committing, then stopping", sig.name)
    stop.set()


async def _report_progress(tasks: list[SinkTask], interval_s: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), interval_s)
        except TimeoutError:
            _log_progress(tasks)


def _log_progress(tasks: list[SinkTask]) -> None:
    """One line per connector: totals, the rate since the previous line, and the lag."""
    now = time.monotonic()
    for task in tasks:
        stats = task.stats
        since, records_then = stats.last_report
        rate = (stats.records - records_then) / max(now - since, 1e-9)
        stats.last_report = (now, stats.records)
        lag = task.lag()
        log.info(
            "%s: %d records, %.1f MB archived, %.0f records/s, %d dead letters, %d retries; "
            "lag %s",
            task.name,
            stats.records,
            stats.bytes / 1e6,
            rate,
            stats.dead_letters,
            stats.retries,
            ", ".join(f"{k}={v}" for k, v in sorted(lag.items())) or "unknown",
        )

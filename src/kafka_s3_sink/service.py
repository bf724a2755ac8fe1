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
from .connect.config import parse_connector_config
from .connect.model import ConnectorSpec
from .kafka_io import check_topic, consumer_config
from .reference_connectors import reference_connector_configs, store_spec
from .sink_task import ConnectorFailed, SinkTask, TaskOptions
from .store.factory import StorePool

log = logging.getLogger(__name__)


def group_id(spec: ConnectorSpec) -> str:
    """Kafka Connect names a sink connector's group ``connect-<name>`` unless overridden."""
    return spec.consumer_overrides.get("group.id") or f"connect-{spec.name}"


def task_options(settings: Settings) -> TaskOptions:
    return TaskOptions(
        dead_letter_prefix=settings["DEAD_LETTER_PREFIX"],
        max_inflight_objects=settings["MAX_INFLIGHT_OBJECTS"],
        max_inflight_bytes=settings["MAX_INFLIGHT_BYTES"],
        commit_interval_s=settings["COMMIT_INTERVAL_S"],
        shutdown_timeout_s=settings["SHUTDOWN_TIMEOUT_S"],
    )


def reference_specs(settings: Settings) -> list[ConnectorSpec]:
    defaults = store_spec(settings)
    return [
        parse_connector_config(name, config, defaults)
        for name, config in reference_connector_configs(settings).items()
    ]


async def run_service(settings: Settings) -> None:
    """Check the store and the broker, then archive until SIGINT/SIGTERM.

    Raises StoreError / BrokerError at start-up and ConnectorFailed when a connector stops.
    """
    specs = reference_specs(settings)
    stores = StorePool()
    store = await stores.get(specs[0].store)
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
    options = task_options(settings)
    tasks = [
        SinkTask(
            spec,
            consumer_config(settings["BROKER_HOSTNAME"], group_id(spec), spec.consumer_overrides),
            await stores.get(spec.store),
            options,
        )
        for spec in specs
    ]
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
        await stores.close()
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
            "%s: %d records, %.1f MB archived, %.0f records/s, %d dead letters, %d retries; lag %s",
            task.name,
            stats.records,
            stats.bytes / 1e6,
            rate,
            stats.dead_letters,
            stats.retries,
            ", ".join(f"{k}={v}" for k, v in sorted(lag.items())) or "unknown",
        )

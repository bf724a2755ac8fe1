"""The service: a Kafka Connect–compatible worker, preloaded with the reference connectors.

With ``.env`` alone it runs ``s3-sink-data`` (payloads) and ``s3-sink-timestamp`` (timestamps)
exactly as the reference deployment's register.sh configures them; each is its own consumer
group (``connect-<name>``), so offsets committed by Kafka Connect are continued.  The REST API
on REST_PORT adds, changes and removes connectors at run time; configs live in a compacted
topic so that they survive restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
import time
from pathlib import Path

from . import __version__
from .connect.config.internal_topics import topic_blacklist
from .connect.config.parser import parse_connector_config
from .connect.config.validation import mask_secrets, validate_connector_config
from .connect.rest.app import create_app
from .connect.rest.server import serve
from .connect.state.config_file import ConfigFile
from .connect.state.config_topic import ConfigStore, ConfigTopic, StoredConnector
from .connect.state.secret_box import SecretBox
from .connect.worker import Worker
from .engine.kafka_io import check_topic, consumer_config
from .engine.sink_task import SinkTask, TaskOptions
from .pipeline.spec import ConnectorSpec
from .security import connector_policy, rest_access, secret_box, tls_files
from .settings.reference_connectors import reference_connector_configs, store_spec
from .settings.variables import Settings

log = logging.getLogger(__name__)

# The process exits at the latest this long after SHUTDOWN_TIMEOUT_S (commit, close).
_EXIT_MARGIN_S = 10.0

PLUGINS = [
    {"class": "io.confluent.connect.s3.S3SinkConnector", "type": "sink", "version": __version__}
]


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
        stall_timeout_s=settings["STALL_TIMEOUT_S"],
    )


def reference_specs(settings: Settings) -> list[ConnectorSpec]:
    defaults = store_spec(settings)
    return [
        parse_connector_config(name, config, defaults)
        for name, config in reference_connector_configs(settings).items()
    ]


async def run_service(settings: Settings) -> None:
    """Check the broker and store, start the worker and its REST API; run until a signal.

    Raises StoreError / BrokerError at start-up, with what to fix.
    """
    # Handlers first: a SIGTERM during start-up then means "stop once started", not death.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    deadline_s = settings["SHUTDOWN_TIMEOUT_S"] + _EXIT_MARGIN_S
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _request_stop, stop, sig, deadline_s)
    try:
        await _serve_until_stopped(settings, stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _serve_until_stopped(settings: Settings, stop: asyncio.Event) -> None:
    bootstrap = settings["BROKER_HOSTNAME"]
    register_defaults = settings["REGISTER_DEFAULTS"] == "true"
    defaults = store_spec(settings)
    # Credentials, keys and certificates that cannot be read fail here, before anything starts.
    access = rest_access(settings)
    box = secret_box(settings)
    policy = connector_policy(settings, box)
    if register_defaults:
        reference_specs(settings)  # a bad .env fails here, before anything starts
    partitions, cluster = await asyncio.to_thread(
        check_topic, bootstrap, settings["KAFKA_TOPIC"] if register_defaults else None
    )
    worker = Worker(
        worker_id=f"{socket.gethostname()}:{settings['REST_PORT']}",
        bootstrap=bootstrap,
        config_store=config_store(settings, box),
        consumer_config=lambda spec: {
            **consumer_config(bootstrap, group_id(spec), spec.consumer_overrides),
            # Last, so that no override removes it: internal topics are never subscribed.
            "topic.blacklist": topic_blacklist(policy.reserved_topics),
        },
        options=task_options(settings),
        default_store=policy,
    )
    if register_defaults:
        store = await worker.stores.get(defaults)  # wrong bucket/credentials: fail here
        log.info(
            "archiving topic %s (%d partitions) from %s into %s",
            settings["KAFKA_TOPIC"],
            partitions,
            bootstrap,
            store.description,
        )
    follower: asyncio.Future[None] | None = None
    server: asyncio.Task[None] | None = None
    reporter: asyncio.Task[None] | None = None
    try:
        follower = await _load_connectors(worker, settings, register_defaults)
        app = create_app(
            worker,
            lambda cls, config: validate_connector_config(cls, config, policy),
            PLUGINS,
            mask_secrets,
            __version__,
            kafka_cluster_id=lambda: cluster,
            access=access,
        )
        ready = asyncio.Event()
        server = asyncio.create_task(
            serve(app, settings["REST_HOST"], settings["REST_PORT"], ready, tls_files(settings))
        )
        await asyncio.wait(
            [server, asyncio.create_task(ready.wait())], return_when=asyncio.FIRST_COMPLETED
        )
        if server.done():
            server.result()  # the port is taken: raise, naming it
        log.info(
            "REST API on %s://%s:%d (%s)",
            "https" if access.tls else "http",
            settings["REST_HOST"],
            settings["REST_PORT"],
            "credentials required" if access.credentials.required else "no credentials",
        )
        reporter = asyncio.create_task(
            _report_progress(worker, settings["PROGRESS_INTERVAL_S"], stop)
        )
        await stop.wait()
    finally:
        for task in (server, reporter):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        worker.config_store.close()
        await worker.shutdown()
        if follower is not None:
            with contextlib.suppress(Exception):
                await follower
        worker.config_store.close_consumer()
    _log_progress(worker.sink_tasks())
    log.info("stopped")


def config_store(settings: Settings, box: SecretBox | None = None) -> ConfigStore:
    """The config topic (distributed mode), or CONFIG_STORAGE_FILE when set (standalone);
    ``box`` encrypts the secret values of the configs stored there."""
    if settings["CONFIG_STORAGE_FILE"]:
        return ConfigFile(Path(settings["CONFIG_STORAGE_FILE"]), box)
    return ConfigTopic(settings["BROKER_HOSTNAME"], settings["CONFIG_STORAGE_TOPIC"], box)


async def _load_connectors(
    worker: Worker, settings: Settings, register_defaults: bool
) -> asyncio.Future[None]:
    """Apply the stored connectors, (re)register the .env ones, then follow the store."""
    store = worker.config_store
    await asyncio.to_thread(store.ensure_exists)
    stored = await asyncio.to_thread(store.load)
    for name, connector in stored.items():
        await worker.apply(name, connector)
    if register_defaults:
        from_env = reference_connector_configs(settings)
        for name, connector in stored.items():
            if connector.origin == "env" and name not in from_env:
                log.info("connector %s is no longer in .env: deleting it", name)
                await worker.delete(name)
        for name, config in from_env.items():
            current = stored.get(name)
            if current is None or current.config != config or current.origin != "env":
                # A changed .env updates the connector but keeps its paused/stopped state.
                await worker.put_config(name, config, origin="env")
    loop = asyncio.get_running_loop()

    def on_change(name: str, connector: StoredConnector | None) -> None:
        asyncio.run_coroutine_threadsafe(worker.apply(name, connector), loop).result()

    def ended(follower: asyncio.Future[None]) -> None:
        # It ends at shutdown only; dead, it would leave changes made elsewhere unapplied
        # while everything looks fine: say so loudly, at once.
        if not follower.cancelled() and follower.exception() is not None:
            log.critical(
                "following the connector config store stopped: changes made by other "
                "workers are no longer applied here; restart the service",
                exc_info=follower.exception(),
            )

    follower = asyncio.ensure_future(asyncio.to_thread(store.follow, on_change))
    follower.add_done_callback(ended)
    return follower


def _request_stop(stop: asyncio.Event, sig: signal.Signals, deadline_s: float) -> None:
    if not stop.is_set():
        log.info("%s received: finishing in-flight uploads, committing, then stopping", sig.name)
        # Whatever the store or the broker do (a hung connection, a client that will not
        # close), the process ends in time.  Offsets are committed only for stored
        # objects, so what did not finish is read again at the next start.
        timer = threading.Timer(deadline_s, _exit_now, (deadline_s,))
        timer.daemon = True
        timer.start()
    stop.set()


def _exit_now(deadline_s: float) -> None:
    log.error(
        "still stopping %.0f s after the signal: exiting now; records not stored are not "
        "committed and will be read again at the next start",
        deadline_s,
    )
    logging.shutdown()
    os._exit(1)


async def _report_progress(worker: Worker, interval_s: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), interval_s)
        except TimeoutError:
            _log_progress(worker.sink_tasks())


def _log_progress(tasks: list[SinkTask]) -> None:
    """One line per connector: totals, the rate since the previous line, and the lag."""
    now = time.monotonic()
    for task in tasks:
        stats = task.stats
        since, records_then = stats.last_report
        rate = (stats.records - records_then) / max(now - since, 1e-9)
        stats.last_report = (now, stats.records)
        lag = task.lag()
        health = task.health()
        if health is not None:
            log.warning("%s: %s", task.name, health)
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

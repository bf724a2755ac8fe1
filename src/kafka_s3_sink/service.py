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
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from . import __version__
from .connect.config.internal_topics import topic_blacklist
from .connect.config.parser import parse_connector_config
from .connect.config.policy import ConnectorPolicy
from .connect.config.validation import mask_secrets, validate_connector_config
from .connect.rest.app import create_app
from .connect.rest.guards import AccessPolicy
from .connect.rest.health import StartupGate
from .connect.rest.metrics import WorkerCollector, metrics_renderer
from .connect.rest.server import serve
from .connect.state.config_file import ConfigFile
from .connect.state.config_topic import ConfigStore, ConfigTopic, StoredConnector
from .connect.state.secret_box import SecretBox
from .connect.worker import Worker
from .console_setup import build_console
from .engine.kafka_io import (
    BrokerError,
    check_topic,
    consumer_config,
    probe_client,
    use_security,
)
from .engine.sink_task import SinkTask, TaskOptions
from .pipeline.spec import ConnectorConfigError, ConnectorSpec
from .security import connector_policy, rest_access, secret_box, tls_files
from .settings.reference_connectors import reference_connector_configs, store_spec
from .settings.variables import ConfigError, Settings
from .startup import RETRY_INTERVAL_S, Readiness, StopRequested, wait_for
from .store import ObjectStore, StoreError
from .store.s3 import S3ObjectStore
from .transport import check_s3_transport, kafka_security

log = logging.getLogger(__name__)

# The process exits at the latest this long after SHUTDOWN_TIMEOUT_S (commit, close).
_EXIT_MARGIN_S = 10.0
# One try to reach the broker; with the pause between tries, a waiting line every ~8 s.
_PROBE_TIMEOUT_S = 3.0

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
    try:
        return [
            parse_connector_config(name, config, defaults)
            for name, config in reference_connector_configs(settings).items()
        ]
    except ConnectorConfigError as error:
        # Only the SINETStream config file can make the .env's connectors invalid: say so.
        where = "SINETSTREAM_CONFIG: " if error.key.startswith("value.converter.") else ""
        raise ConfigError(f"{where}{error}") from None


async def run_service(settings: Settings) -> None:
    """Start the REST API, wait for the broker, the topic and the store, start the worker;
    run until a signal.

    Raises StoreError / BrokerError at start-up when waiting will not help (what to fix is
    in the message), StartupTimeout when STARTUP_WAIT_S ran out.
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
    # Credentials, keys and certificates that cannot be read fail here, before anything starts.
    access = rest_access(settings)
    check_s3_transport(settings)
    use_security(kafka_security(settings))  # every Kafka client made from here on
    box = secret_box(settings)
    policy = connector_policy(settings, box)
    if register_defaults:
        reference_specs(settings)  # a bad .env fails here, before anything starts
    readiness = Readiness()
    cluster: dict[str, str] = {}  # "id": the Kafka cluster id, once the broker answered
    worker = Worker(
        worker_id=f"{socket.gethostname()}:{settings['REST_PORT']}",
        bootstrap=bootstrap,
        config_store=config_store(settings, box),
        consumer_config=lambda spec: {
            **consumer_config(
                bootstrap,
                group_id(spec),
                spec.consumer_overrides,
                per_record_objects=spec.rotation.flush_size == 1,
            ),
            # Last, so that no override removes it: internal topics are never subscribed.
            "topic.blacklist": topic_blacklist(policy.reserved_topics),
        },
        options=task_options(settings),
        default_store=policy,
    )
    follower: asyncio.Future[None] | None = None
    background: list[asyncio.Task[None]] = []
    try:
        # The port first: /health answers "starting" (and why) while the rest waits.
        mask = settings["REST_MASK_SECRETS"] == "true"
        console = build_console(settings, worker, access.tls)  # the web console, /ui
        app = _rest_app(worker, policy, access, readiness, cluster, mask, console.routes())
        background.append(await _start_rest_api(app, settings, access))
        background.append(asyncio.create_task(console.rates.run(stop)))
        store = await _wait_for_dependencies(settings, worker, readiness, stop, cluster)
        follower = await _load_connectors(worker, settings, register_defaults)
        readiness.ready()
        log.info("started: GET /health answers 200")
        background.append(
            asyncio.create_task(_report_progress(worker, settings["PROGRESS_INTERVAL_S"], stop))
        )
        background.append(
            asyncio.create_task(_watch_dependencies(bootstrap, store, readiness, stop, cluster))
        )
        await stop.wait()
    except StopRequested:
        log.info("stop requested while starting")
    finally:
        for task in background:
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


def _rest_app(
    worker: Worker,
    policy: ConnectorPolicy,
    access: AccessPolicy,
    readiness: Readiness,
    cluster: dict[str, str],
    mask_secrets_shown: bool = True,
    console: Sequence[BaseRoute] = (),
) -> ASGIApp:
    collector = WorkerCollector(worker.options.stats, worker, worker.sink_tasks, readiness)
    app = create_app(
        worker,
        lambda cls, config: validate_connector_config(cls, config, policy),
        PLUGINS,
        # REST_MASK_SECRETS=false: configs shown as stored, for exact round trips.
        mask_secrets if mask_secrets_shown else dict,
        __version__,
        kafka_cluster_id=lambda: cluster.get("id"),
        access=access,
        health=readiness,
        metrics=metrics_renderer(collector),
        console=console,
    )
    return StartupGate(app, lambda: readiness.starting)


async def _start_rest_api(
    app: ASGIApp, settings: Settings, access: AccessPolicy
) -> asyncio.Task[None]:
    ready = asyncio.Event()
    server = asyncio.create_task(
        serve(app, settings["REST_HOST"], settings["REST_PORT"], ready, tls_files(settings))
    )
    waiting = asyncio.create_task(ready.wait())
    await asyncio.wait([server, waiting], return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    if server.done():
        server.result()  # the port is taken: raise, naming it
    log.info(
        "REST API on %s://%s:%d (%s)",
        "https" if access.tls else "http",
        settings["REST_HOST"],
        settings["REST_PORT"],
        "credentials required" if access.credentials.required else "no credentials",
    )
    return server


async def _wait_for_dependencies(
    settings: Settings,
    worker: Worker,
    readiness: Readiness,
    stop: asyncio.Event,
    cluster: dict[str, str],
) -> ObjectStore | None:
    """Wait for the broker, the topic and the .env's object store (each logged while
    awaited); returns that store (None without REGISTER_DEFAULTS)."""
    bootstrap = settings["BROKER_HOSTNAME"]
    wait_s = settings["STARTUP_WAIT_S"]
    deadline = time.monotonic() + wait_s if wait_s else None

    admin = probe_client(bootstrap)

    def probe(topic: str | None) -> Callable[[], Awaitable[tuple[int, str]]]:
        return lambda: asyncio.to_thread(check_topic, bootstrap, topic, _PROBE_TIMEOUT_S, admin)

    what = f"the Kafka broker at {bootstrap}"
    _, cluster["id"] = await wait_for(what, probe(None), readiness, stop, deadline)
    if settings["REGISTER_DEFAULTS"] != "true":
        return None
    topic = settings["KAFKA_TOPIC"]
    what = f"topic {topic} (create it, e.g. kafka-topics.sh --create --topic {topic})"
    partitions, _ = await wait_for(what, probe(topic), readiness, stop, deadline)
    defaults = store_spec(settings)
    where = "the object store" + (f" at {defaults.endpoint_url}" if defaults.endpoint_url else "")
    # Wrong bucket or credentials: raised at once; not reachable yet: waited for.
    store = await wait_for(
        where, lambda: worker.stores.get(defaults), readiness, stop, deadline
    )
    log.info(
        "archiving topic %s (%d partitions) from %s into %s",
        topic,
        partitions,
        bootstrap,
        store.description,
    )
    return store


async def _watch_dependencies(
    bootstrap: str,
    store: ObjectStore | None,
    readiness: Readiness,
    stop: asyncio.Event,
    cluster: dict[str, str],
) -> None:
    """Every few seconds: can the broker (and the .env's S3 server) still be reached?
    /health turns "unhealthy" while not, and a line says when that changes."""
    s3 = store if isinstance(store, S3ObjectStore) else None  # a local folder: nothing to ask
    admin = probe_client(bootstrap)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RETRY_INTERVAL_S)
            return
        problem: str | None = None
        try:
            _, cluster["id"] = await asyncio.to_thread(
                check_topic, bootstrap, None, _PROBE_TIMEOUT_S, admin
            )
        except BrokerError as error:
            problem = str(error)
        _note(readiness, "Kafka", f"the Kafka broker at {bootstrap}", problem)
        if s3 is None:
            continue
        problem = None
        try:
            await s3.check()
        except StoreError as error:
            problem = str(error)
        _note(readiness, "S3", f"the S3 server of {s3.description}", problem)


def _note(readiness: Readiness, key: str, what: str, problem: str | None) -> None:
    if not readiness.problem(key, problem):
        return
    if problem is None:
        log.info("%s is reachable again: GET /health answers 200 again", what)
    else:
        log.warning("%s; GET /health answers 503 until it is back", problem)


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
                if current is not None and current.config != config:
                    changed = sorted(
                        key
                        for key in {*config, *current.config}
                        if config.get(key) != current.config.get(key)
                    )
                    log.info(
                        "connector %s: .env changed (%s): restarting it with the new config",
                        name,
                        ", ".join(changed),
                    )
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

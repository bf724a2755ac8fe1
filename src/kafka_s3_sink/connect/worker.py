"""The worker: runs connectors and answers for them, as a Kafka Connect worker does.

Each connector is a parsed ConnectorSpec plus ``tasks.max`` SinkTasks sharing its consumer
group.  Every change (create, update, pause, resume, stop, delete) is written to the config
topic first, then applied; changes written by other workers arrive through the same topic.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..engine.sink_task import SinkTask, TaskOptions
from ..pipeline.spec import ConnectorSpec
from ..store.factory import StorePool
from ..store.spec import StoreSpec
from .config.parser import parse_connector_config
from .config.policy import ConnectorPolicy
from .registry import (
    Conflict,
    ConnectorState,
    ConnectorStatus,
    NotFound,
    NotStopped,
    TaskStatus,
)
from .state import group_offsets
from .state.config_topic import ConfigStore, StoredConnector

log = logging.getLogger(__name__)

# (bootstrap, group id, overrides) -> librdkafka consumer settings
ConsumerConfigFactory = Callable[[ConnectorSpec], dict[str, Any]]


@dataclass
class _Task:
    sink: SinkTask | None  # None: the task could not start (see trace)
    run: asyncio.Task[None]
    trace: str | None = None

    @property
    def state(self) -> ConnectorState:
        if self.trace is not None:
            return ConnectorState.FAILED
        return ConnectorState.RUNNING

    def health(self) -> str | None:
        """While RUNNING: uploads being retried, or a stall (shown as the status trace)."""
        return self.sink.health() if self.sink is not None else None


@dataclass
class _Connector:
    config: dict[str, str]
    spec: ConnectorSpec
    target: ConnectorState = ConnectorState.RUNNING
    tasks: list[_Task] = field(default_factory=list)
    origin: str = "api"


@dataclass(frozen=True)
class _Unreadable:
    """A stored connector whose config cannot be read or parsed: listed, FAILED with why
    (as Kafka Connect shows a connector that fails to start), nothing run, until a valid
    config or a tombstone replaces it."""

    stored: StoredConnector
    reason: str


class Worker:
    """Implements the ConnectorRegistry protocol the REST API calls."""

    def __init__(
        self,
        worker_id: str,
        bootstrap: str,
        config_store: ConfigStore,
        consumer_config: ConsumerConfigFactory,
        options: TaskOptions,
        default_store: StoreSpec | ConnectorPolicy,  # a policy: what configs may ask for
    ) -> None:
        self.worker_id = worker_id
        self.bootstrap = bootstrap
        self.config_store = config_store
        self.consumer_config = consumer_config
        self.options = options
        self.default_store = default_store
        self.stores = StorePool()
        self._connectors: dict[str, _Connector] = {}
        self._unreadable: dict[str, _Unreadable] = {}
        self._active_topics: dict[str, set[str]] = {}  # connector -> topics read from
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()  # one change at a time from this worker's API
        # Our own changes and those followed from the config topic arrive concurrently.
        self._apply_lock = asyncio.Lock()

    # -- reading -------------------------------------------------------------------------

    def names(self) -> list[str]:
        return sorted({*self._connectors, *self._unreadable})

    def _get(self, name: str) -> _Connector:
        connector = self._connectors.get(name)
        if connector is None:
            if name in self._unreadable:  # listed, but nothing to pause, restart, ...
                raise Conflict(
                    f"Connector {name} cannot be read: {self._unreadable[name].reason}. "
                    "PUT a valid config or DELETE it"
                )
            raise NotFound(f"Connector {name} not found")
        return connector

    def get_config(self, name: str) -> dict[str, str]:
        if name in self._unreadable:
            return dict(self._unreadable[name].stored.config)
        return dict(self._get(name).config)

    def status(self, name: str) -> ConnectorStatus:
        if name in self._unreadable:
            failed = ConnectorState.FAILED
            return ConnectorStatus(name, failed, self.worker_id, [], self._unreadable[name].reason)
        connector = self._get(name)
        if connector.target is not ConnectorState.RUNNING:
            tasks = (
                []
                if connector.target is ConnectorState.STOPPED
                else [
                    TaskStatus(i, connector.target, self.worker_id)
                    for i in range(connector.spec.tasks_max)
                ]
            )
            return ConnectorStatus(name, connector.target, self.worker_id, tasks)
        tasks = [
            TaskStatus(i, task.state, self.worker_id, task.trace or task.health())
            for i, task in enumerate(connector.tasks)
        ]
        return ConnectorStatus(name, ConnectorState.RUNNING, self.worker_id, tasks)

    def topics(self, name: str) -> list[str]:
        """Topics read from since the connector was made or reset (KIP-558's active topics;
        kept here, so a restart of this service starts them afresh)."""
        return sorted(self._active_topics.get(name, ()))

    def reset_topics(self, name: str) -> None:
        self._active_topics.get(name, set()).clear()

    def offsets(self, name: str) -> dict[tuple[str, int], int]:
        connector = self._get(name)
        group = self.consumer_config(connector.spec)["group.id"]
        return group_offsets.committed(self.bootstrap, group)

    async def alter_offsets(self, name: str, offsets: dict[tuple[str, int], int | None]) -> None:
        async with self._lock:
            consumer = self._stopped_consumer(name)
            await asyncio.to_thread(
                group_offsets.alter,
                self.bootstrap,
                consumer["group.id"],
                offsets,
                consumer.get("auto.offset.reset", "earliest"),
            )

    async def reset_offsets(self, name: str) -> None:
        async with self._lock:
            group = self._stopped_consumer(name)["group.id"]
            await asyncio.to_thread(group_offsets.reset, self.bootstrap, group)

    def _stopped_consumer(self, name: str) -> dict[str, str]:
        """The consumer config of a STOPPED connector; NotStopped otherwise."""
        connector = self._get(name)
        if connector.target is not ConnectorState.STOPPED:
            raise NotStopped(
                "Connectors must be in the STOPPED state before their offsets can be "
                "modified. This can be done for the specified connector by issuing a 'PUT' "
                f"request to the '/connectors/{name}/stop' endpoint"
            )
        return self.consumer_config(connector.spec)

    # -- changing (write to the config topic, then apply) ----------------------------------

    async def create(
        self, name: str, config: dict[str, str], initial_state: str = "RUNNING"
    ) -> None:
        async with self._lock:
            if name in self._connectors or name in self._unreadable:
                raise Conflict(f"Connector {name} already exists")
            self._parse(name, config)  # 400 before anything is stored
            await self._store(name, StoredConnector(config, initial_state))

    async def put_config(self, name: str, config: dict[str, str], origin: str = "api") -> bool:
        async with self._lock:
            self._parse(name, config)
            existing = self._connectors.get(name)
            unreadable = self._unreadable.get(name)  # a valid config repairs it
            state = existing.target.value if existing else "RUNNING"
            if unreadable is not None:
                state = unreadable.stored.target_state
            await self._store(name, StoredConnector(config, state, origin))
            return existing is None and unreadable is None

    async def delete(self, name: str) -> None:
        async with self._lock:
            if name not in self._unreadable:
                self._get(name)
            await self._store(name, None)

    async def pause(self, name: str) -> None:
        await self._set_target(name, ConnectorState.PAUSED)

    async def resume(self, name: str) -> None:
        await self._set_target(name, ConnectorState.RUNNING)

    async def stop(self, name: str) -> None:
        await self._set_target(name, ConnectorState.STOPPED)

    async def restart(self, name: str, include_tasks: bool, only_failed: bool) -> None:
        connector = self._get(name)
        if connector.target is not ConnectorState.RUNNING:
            return
        failed = any(task.trace for task in connector.tasks)
        if include_tasks and (failed or not only_failed):
            await self._restart_tasks(name, connector, only_failed)

    async def restart_task(self, name: str, task_id: int) -> None:
        connector = self._get(name)
        if not 0 <= task_id < len(connector.tasks):
            raise NotFound(f"Task {name}-{task_id} not found")
        await self._stop_tasks(connector.tasks[task_id : task_id + 1])
        connector.tasks[task_id] = await self._start_task(connector.spec, task_id)

    async def _set_target(self, name: str, target: ConnectorState) -> None:
        async with self._lock:
            connector = self._get(name)
            stored = StoredConnector(connector.config, target.value, connector.origin)
            await self._store(name, stored)

    async def _store(self, name: str, stored: StoredConnector | None) -> None:
        await asyncio.to_thread(self.config_store.write, name, stored)
        await self.apply(name, stored)

    def _parse(self, name: str, config: dict[str, str]) -> ConnectorSpec:
        return parse_connector_config(name, config, self.default_store)

    # -- applying stored state -----------------------------------------------------------

    async def apply(self, name: str, stored: StoredConnector | None) -> None:
        """Make the running connector match ``stored`` (idempotent)."""
        async with self._apply_lock:
            await self._apply(name, stored)

    async def _apply(self, name: str, stored: StoredConnector | None) -> None:
        current = self._connectors.get(name)
        if stored is None:
            forgotten = self._unreadable.pop(name, None)
            if current is not None:
                await self._stop_tasks(current.tasks)
                self._connectors.pop(name, None)
            self._active_topics.pop(name, None)  # deleted: its topics are forgotten too
            if current is not None or forgotten is not None:
                log.info("connector %s deleted", name)
            return
        target = ConnectorState(stored.target_state)
        if current is not None and current.config == stored.config and current.target is target:
            current.origin = stored.origin
            return
        spec = await self._spec_or_failed(name, stored, current)
        if spec is None:
            return
        self._unreadable.pop(name, None)
        if current is not None:
            await self._stop_tasks(current.tasks)
        connector = _Connector(dict(stored.config), spec, target, origin=stored.origin)
        self._connectors[name] = connector
        if target is ConnectorState.RUNNING:
            connector.tasks = [await self._start_task(spec, i) for i in range(spec.tasks_max)]
        log.info("connector %s: %s", name, target.value)

    async def _spec_or_failed(
        self, name: str, stored: StoredConnector, current: _Connector | None
    ) -> ConnectorSpec | None:
        """The spec of a stored config; None if it cannot be read or parsed: the connector is
        then FAILED with why, and what ran before is stopped (it is no longer what is stored)."""
        reason = stored.error
        if reason is None:
            try:
                return self._parse(name, stored.config)
            except Exception as error:  # anyone can write the topic: never fatal, shown instead
                reason = f"the stored config of connector {name} cannot be used: {error}"
        if current is not None:
            await self._stop_tasks(current.tasks)
            self._connectors.pop(name, None)
        previous = self._unreadable.get(name)
        self._unreadable[name] = _Unreadable(stored, reason)
        if previous is None or previous.reason != reason:  # once, not at every re-apply
            log.error("connector %s: FAILED: %s", name, reason)
        return None

    async def _start_task(self, spec: ConnectorSpec, task_id: int) -> _Task:
        try:
            store = await self.stores.get(spec.store)
        except Exception as error:  # e.g. a bucket that does not exist: FAILED, with why
            return _Task(None, _done(), trace=_trace(error))
        sink = SinkTask(
            spec,
            self.consumer_config(spec),
            store,
            self.options,
            task_id,
            active_topics=self._active_topics.setdefault(spec.name, set()),
        )
        task = _Task(sink, asyncio.create_task(sink.run(self._stop)))
        task.run.add_done_callback(lambda run, t=task: _record_failure(t, run))
        return task

    async def _restart_tasks(self, name: str, connector: _Connector, only_failed: bool) -> None:
        for i, task in enumerate(list(connector.tasks)):
            if only_failed and task.trace is None:
                continue
            await self._stop_tasks([task])
            connector.tasks[i] = await self._start_task(connector.spec, i)
        log.info("connector %s: tasks restarted", name)

    async def _stop_tasks(self, tasks: list[_Task]) -> None:
        for task in tasks:
            if task.sink is not None:
                task.sink.request_stop()
        await asyncio.gather(*(task.run for task in tasks), return_exceptions=True)

    async def shutdown(self) -> None:
        self._stop.set()
        await self._stop_tasks([t for c in self._connectors.values() for t in c.tasks])
        await self.stores.close()

    def sink_tasks(self) -> list[SinkTask]:
        return [
            t.sink for c in self._connectors.values() for t in c.tasks if t.sink and not t.trace
        ]


def _done() -> asyncio.Task[None]:
    async def nothing() -> None:
        return None

    return asyncio.create_task(nothing())


def _record_failure(task: _Task, run: asyncio.Task[None]) -> None:
    if not run.cancelled() and run.exception() is not None:
        task.trace = _trace(run.exception())
        name = task.sink.name if task.sink else "?"
        log.error("task %s failed: %s", name, run.exception())


def _trace(error: BaseException | None) -> str:
    return "".join(traceback.format_exception(error)) if error else ""

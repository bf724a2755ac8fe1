"""What the REST API sees of the worker: connector states, statuses and the errors it maps
to HTTP codes.  The worker (connect/worker.py) implements ``ConnectorRegistry``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class ConnectorState(StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"
    FAILED = "FAILED"
    UNASSIGNED = "UNASSIGNED"


@dataclass
class TaskStatus:
    id: int
    state: ConnectorState
    worker_id: str
    trace: str | None = None


@dataclass
class ConnectorStatus:
    name: str
    state: ConnectorState
    worker_id: str
    tasks: list[TaskStatus]
    trace: str | None = None
    type: str = "sink"


class NotFound(LookupError):
    """No such connector (HTTP 404)."""


class NotStopped(ValueError):
    """Offsets change only while the connector is STOPPED (HTTP 400)."""


class Conflict(RuntimeError):
    """A connector of that name exists already, or a rebalance is under way (HTTP 409)."""


class ConnectorRegistry(Protocol):
    """What the REST API needs from the worker. Configs are the raw string maps."""

    worker_id: str

    def names(self) -> list[str]: ...
    def get_config(self, name: str) -> dict[str, str]: ...  # NotFound
    def status(self, name: str) -> ConnectorStatus: ...  # NotFound
    def topics(self, name: str) -> list[str]: ...  # active topics; [] for an unknown name
    def reset_topics(self, name: str) -> None: ...
    def offsets(self, name: str) -> dict[tuple[str, int], int]: ...  # committed, NotFound
    # Both: NotFound, NotStopped, Conflict (group busy), group_offsets.OffsetChangeError.
    async def alter_offsets(
        self, name: str, offsets: dict[tuple[str, int], int | None]
    ) -> None: ...
    async def reset_offsets(self, name: str) -> None: ...
    # initial_state: RUNNING, PAUSED or STOPPED (KIP-980). Conflict, ConnectorConfigError.
    async def create(
        self, name: str, config: dict[str, str], initial_state: str = "RUNNING"
    ) -> None: ...
    async def put_config(self, name: str, config: dict[str, str]) -> bool: ...  # True: created
    async def delete(self, name: str) -> None: ...  # NotFound
    async def pause(self, name: str) -> None: ...
    async def resume(self, name: str) -> None: ...
    async def stop(self, name: str) -> None: ...
    async def restart(self, name: str, include_tasks: bool, only_failed: bool) -> None: ...
    async def restart_task(self, name: str, task_id: int) -> None: ...  # NotFound

"""An in-memory ConnectorRegistry for the REST API tests: no Kafka, no S3, every call recorded.

Import as ``from .fake_registry import FakeRegistry, ...`` (tests/unit/connect is a package).
It validates just enough (connector.class, tasks.max) to exercise the API's 400 path.
"""

from __future__ import annotations

from typing import Any

from kafka_s3_sink.connect.registry import (
    Conflict,
    ConnectorState,
    ConnectorStatus,
    NotFound,
    NotStopped,
    TaskStatus,
)
from kafka_s3_sink.pipeline.spec import ConnectorConfigError

WORKER_ID = "kafka-connect:8083"  # what the seed guide's curl output shows
S3_SINK = "io.confluent.connect.s3.S3SinkConnector"
PLUGINS = [{"class": S3_SINK, "type": "sink", "version": "10.0.7"}]
MASK = "[hidden]"
SECRET_KEYS = ("aws.secret.access.key", "s3.proxy.password")


def mask(config: dict[str, str]) -> dict[str, str]:
    return {key: MASK if key in SECRET_KEYS else value for key, value in config.items()}


def sink_config(**overrides: str) -> dict[str, str]:
    """A config like the seed's register.sh sends (plus a secret to mask)."""
    config = {
        "connector.class": S3_SINK,
        "tasks.max": "1",
        "topics": "sinetstream.sensor",
        "s3.bucket.name": "mybucket",
        "aws.secret.access.key": "s3cr3t",
        "flush.size": "1",
    }
    config.update(overrides)
    return config


class FakeValidator:
    """validate(connector_class, config) -> a ConfigInfos-shaped result; records its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.raise_for: str | None = None  # a key: raise ConnectorConfigError naming it

    def __call__(self, connector_class: str, config: dict[str, str]) -> dict[str, Any]:
        self.calls.append((connector_class, dict(config)))
        if self.raise_for is not None:
            raise ConnectorConfigError(self.raise_for, "unsupported value")
        errors = [] if config.get("s3.bucket.name") else ["Missing required configuration"]
        return {
            "name": connector_class,
            "error_count": len(errors),
            "groups": ["Common", "S3"],
            "configs": [
                {
                    "definition": {"name": "s3.bucket.name", "type": "STRING"},
                    "value": {
                        "name": "s3.bucket.name",
                        "value": config.get("s3.bucket.name"),
                        "recommended_values": [],
                        "errors": errors,
                        "visible": True,
                    },
                }
            ],
        }


class FakeRegistry:
    worker_id = WORKER_ID

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every connector and call."""
        self.configs: dict[str, dict[str, str]] = {}
        self.states: dict[str, ConnectorState] = {}
        self.task_states: dict[str, list[TaskStatus]] = {}
        self.committed: dict[str, dict[tuple[str, int], int]] = {}
        self.calls: list[tuple[Any, ...]] = []
        self.trace: str | None = None
        self.topics_reset: set[str] = set()

    # -- reads ----------------------------------------------------------------------------

    def names(self) -> list[str]:
        return list(self.configs)

    def get_config(self, name: str) -> dict[str, str]:
        return dict(self._config(name))

    def status(self, name: str) -> ConnectorStatus:
        self._config(name)
        return ConnectorStatus(
            name=name,
            state=self.states[name],
            worker_id=WORKER_ID,
            tasks=list(self.task_states[name]),
            trace=self.trace if self.states[name] is ConnectorState.FAILED else None,
        )

    def topics(self, name: str) -> list[str]:
        if name not in self.configs:  # Kafka Connect: an unknown connector has read nothing
            return []
        topics = self._config(name).get("topics", "")
        return [t.strip() for t in topics.split(",") if t.strip() and name not in self.topics_reset]

    def reset_topics(self, name: str) -> None:
        self.topics_reset.add(name)

    def offsets(self, name: str) -> dict[tuple[str, int], int]:
        self._config(name)
        return dict(self.committed.get(name, {}))

    # -- writes ---------------------------------------------------------------------------

    async def create(
        self, name: str, config: dict[str, str], initial_state: str = "RUNNING"
    ) -> None:
        if name in self.configs:
            raise Conflict(f"Connector {name} already exists")
        self._store(name, config)
        self.states[name] = ConnectorState(initial_state)

    async def put_config(self, name: str, config: dict[str, str]) -> bool:
        created = name not in self.configs
        self._store(name, config)
        return created

    async def delete(self, name: str) -> None:
        self._config(name)
        del self.configs[name], self.states[name], self.task_states[name]
        self.committed.pop(name, None)

    async def pause(self, name: str) -> None:
        self._set_state(name, ConnectorState.PAUSED)

    async def resume(self, name: str) -> None:
        self._set_state(name, ConnectorState.RUNNING)

    async def stop(self, name: str) -> None:
        self._set_state(name, ConnectorState.STOPPED)

    async def alter_offsets(self, name: str, offsets: dict[tuple[str, int], int | None]) -> None:
        self._require_stopped(name)
        committed = self.committed.setdefault(name, {})
        for partition, offset in offsets.items():
            if offset is None:
                committed.pop(partition, None)
            else:
                committed[partition] = offset

    async def reset_offsets(self, name: str) -> None:
        self._require_stopped(name)
        self.committed.pop(name, None)

    def _require_stopped(self, name: str) -> None:
        self._config(name)
        if self.states[name] is not ConnectorState.STOPPED:
            raise NotStopped("Connectors must be in the STOPPED state before their offsets "
                             "can be modified.")

    async def restart(self, name: str, include_tasks: bool, only_failed: bool) -> None:
        self._config(name)
        self.calls.append(("restart", name, include_tasks, only_failed))

    async def restart_task(self, name: str, task_id: int) -> None:
        if task_id not in (task.id for task in self.status(name).tasks):
            raise NotFound(f"Task {name}-{task_id} not found")
        self.calls.append(("restart_task", name, task_id))

    # -- test helpers ---------------------------------------------------------------------

    def add(self, name: str, config: dict[str, str]) -> None:
        """A connector as if created through the API."""
        self._store(name, {**config, "name": name})

    def fail_task(self, name: str, task_id: int, trace: str) -> None:
        self.task_states[name][task_id] = TaskStatus(
            task_id, ConnectorState.FAILED, WORKER_ID, trace
        )

    def _config(self, name: str) -> dict[str, str]:
        try:
            return self.configs[name]
        except KeyError:
            raise NotFound(f"Connector {name} not found") from None

    def _store(self, name: str, config: dict[str, str]) -> None:
        if "connector.class" not in config:
            raise ConnectorConfigError("connector.class", "Missing required configuration")
        tasks_max = config.get("tasks.max", "1")
        if not tasks_max.isdigit() or not 1 <= int(tasks_max) <= 8:
            raise ConnectorConfigError("tasks.max", f"Invalid value {tasks_max}: 1 to 8")
        self.configs[name] = dict(config)
        self.states.setdefault(name, ConnectorState.RUNNING)
        self.task_states[name] = [
            TaskStatus(i, self.states[name], WORKER_ID) for i in range(int(tasks_max))
        ]
        self.calls.append(("store", name))

    def _set_state(self, name: str, state: ConnectorState) -> None:
        self._config(name)
        self.states[name] = state
        for task in self.task_states[name]:
            task.state = state

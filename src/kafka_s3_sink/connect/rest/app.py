"""The Kafka Connect–compatible REST API (port REST_PORT, 8083 by default).

Scripts written for a Kafka Connect worker (``curl -X POST /connectors``, ``GET
/connectors/<name>/status`` ...) work unchanged: same paths, bodies, status codes and error
shape ``{"error_code": <status>, "message": ...}``. Where Kafka Connect answers 500 for a bad
request (malformed JSON, a body of the wrong shape) this API answers 400.

Built on Starlette with a hand-written OpenAPI document (openapi.py) rather than FastAPI:
the shapes are fixed by Kafka Connect, not derived from our types, and Starlette costs ~45 ms
and ~4.5 MiB at import against ~230 ms and ~19 MiB for FastAPI + pydantic.

The registry does the work; this module only translates HTTP to registry calls and back, and
masks secrets in every config it returns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from ..config.secrets_in_config import scrub
from ..config.validation import config_definitions
from ..registry import ConnectorRegistry, NotFound
from .guards import AccessGuard, AccessPolicy
from .health import HealthCheck, health_endpoint
from .loggers import InvalidLevel, LoggerLevels, UnknownLogger
from .metrics import metrics_endpoint
from .openapi import openapi_document
from .support import (
    ERROR_HANDLERS,
    ApiError,
    Config,
    IgnoreTrailingSlash,
    Json,
    check_name,
    config_map,
    is_plugin,
    json_body,
    parse_offsets,
    path_name,
    plugin_alias,
    query_flag,
    route,
    with_name,
)

# The Kafka Connect release whose REST API this one matches (GET / "version").
KAFKA_CONNECT_VERSION = "4.1.1"
SERVICE_VERSION_HEADER = "X-Kafka-S3-Sink-Version"
# What Kafka Connect puts in every task config of the Confluent S3 sink.
S3_SINK_TASK_CLASS = "io.confluent.connect.s3.S3SinkTask"


def create_app(
    registry: ConnectorRegistry,
    validate: Callable[[str, dict[str, str]], dict],
    plugins: list[dict],
    mask: Callable[[dict[str, str]], dict[str, str]],
    version: str,
    *,
    commit: str = "unknown",
    kafka_cluster_id: Callable[[], str | None] | None = None,
    access: AccessPolicy | None = None,
    health: HealthCheck | None = None,
    metrics: Callable[[], bytes] | None = None,
    console: Sequence[BaseRoute] = (),
) -> Starlette:
    """The ASGI app. ``validate(connector_class, config)`` answers the validate endpoint;
    ``mask`` hides secrets; ``kafka_cluster_id`` is asked on each ``GET /`` (None: unknown);
    ``access`` says who may call (default: anyone on any Host name, same-site, JSON bodies);
    ``console``: the web console's routes (/ui, connect/console/), behind the same guard."""
    api = _Api(registry, validate, plugins, mask, version, commit, kafka_cluster_id)
    document = openapi_document(version)

    async def openapi(_: Request) -> Response:
        return JSONResponse(document)

    routes = [
        route("/", GET=api.root),
        route("/openapi.json", GET=openapi),
        # KIP-1017 (``health``: () -> (status, message)) and Prometheus (``metrics``).
        route("/health", GET=health_endpoint(health)),
        route("/metrics", GET=metrics_endpoint(metrics)),
        route("/connectors", GET=api.list_connectors, POST=api.create),
        route("/connectors/{name}", GET=api.info, DELETE=api.delete),
        route(
            "/connectors/{name}/config",
            GET=api.get_config,
            PUT=api.put_config,
            PATCH=api.patch_config,
        ),
        route("/connectors/{name}/status", GET=api.status),
        route("/connectors/{name}/restart", POST=api.restart),
        route("/connectors/{name}/pause", PUT=api.pause),
        route("/connectors/{name}/resume", PUT=api.resume),
        route("/connectors/{name}/stop", PUT=api.stop),
        route("/connectors/{name}/tasks", GET=api.tasks),
        route("/connectors/{name}/tasks/{task:int}/status", GET=api.task_status),
        route("/connectors/{name}/tasks/{task:int}/restart", POST=api.restart_task),
        route("/connectors/{name}/topics", GET=api.topics),
        route("/connectors/{name}/topics/reset", PUT=api.reset_topics),
        route(
            "/connectors/{name}/offsets",
            GET=api.offsets,
            PATCH=api.alter_offsets,
            DELETE=api.reset_offsets,
        ),
        route("/admin/loggers", GET=api.list_loggers),
        route("/admin/loggers/{logger}", GET=api.get_logger, PUT=api.set_logger),
        route("/connector-plugins", GET=api.list_plugins),
        route("/connector-plugins/{plugin}/config", GET=api.plugin_config),
        route("/connector-plugins/{plugin}/config/validate", PUT=api.validate),
        *console,
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(AccessGuard, policy=access or AccessPolicy(allowed_hosts=None)),
            Middleware(IgnoreTrailingSlash),
        ],
        exception_handlers=ERROR_HANDLERS,
    )


# Kafka Connect's answer when the connector keeps no offsets of its own (ours keeps none).
_OFFSETS_OF_THIS_CONNECTOR = "The offsets for this connector have been"


class _Api:
    def __init__(
        self,
        registry: ConnectorRegistry,
        validate_config: Callable[[str, dict[str, str]], dict],
        plugins: list[dict],
        mask: Callable[[dict[str, str]], dict[str, str]],
        version: str,
        commit: str,
        kafka_cluster_id: Callable[[], str | None] | None,
    ) -> None:
        self.registry = registry
        self.validate_config = validate_config
        self.plugins = plugins
        # The S3 sink plugin's version, shown in status objects as Kafka Connect 4.1 does.
        self.plugin_version = str(plugins[0]["version"]) if plugins else "unknown"
        self.mask = mask
        self.version = version
        self.commit = commit
        self.kafka_cluster_id = kafka_cluster_id
        self.loggers = LoggerLevels()

    # -- views of one connector -------------------------------------------------------------

    def _info(self, name: str) -> Json:
        config = self.mask(self.registry.get_config(name))
        task_ids, kind = self._task_ids(name)
        return {
            "name": name,
            "config": config,
            "tasks": [{"connector": name, "task": task} for task in task_ids],
            "type": kind,
        }

    def _task_ids(self, name: str) -> tuple[list[int], str]:
        # A connector just created may have no status yet: no tasks to show, not a 404.
        try:
            status = self.registry.status(name)
        except NotFound:
            return [], "sink"
        return [task.id for task in status.tasks], status.type

    def _status(self, name: str) -> Json:
        status = self.registry.status(name)
        # "version": the plugin's, in every state object (Kafka Connect 4.1).
        connector: Json = {
            "state": status.state.value,
            "worker_id": status.worker_id,
            "version": self.plugin_version,
        }
        if status.trace:
            connector["trace"] = self._scrub(name, status.trace)
        tasks = []
        for task in status.tasks:
            entry: Json = {
                "id": task.id,
                "state": task.state.value,
                "worker_id": task.worker_id,
                "version": self.plugin_version,
            }
            if task.trace:
                entry["trace"] = self._scrub(name, task.trace)
            tasks.append(entry)
        return {"name": status.name, "connector": connector, "tasks": tasks, "type": status.type}

    def _scrub(self, name: str, trace: str) -> str:
        """A trace quotes what failed, which may be a URL with its password, or a key."""
        try:
            return scrub(trace, self.registry.get_config(name))
        except NotFound:
            return trace

    def _keep_masked_secrets(self, name: str, config: Config) -> Config:
        """A config read back from GET (secrets masked) and PUT again keeps the real secrets:
        a value equal to the masked form of the stored value means "unchanged"."""
        try:
            stored = self.registry.get_config(name)
        except NotFound:
            return config
        masked = self.mask(stored)
        return {
            key: stored[key] if key in stored and value == masked.get(key) else value
            for key, value in config.items()
        }

    # -- endpoints ----------------------------------------------------------------------

    async def root(self, _: Request) -> Response:
        cluster_id = self.kafka_cluster_id() if self.kafka_cluster_id else None
        # "version" is the Kafka Connect release whose REST API this implements: tools
        # such as kcctl gate features on it.  This service's own version is in a header.
        return JSONResponse(
            {
                "version": KAFKA_CONNECT_VERSION,
                "commit": self.commit,
                "kafka_cluster_id": cluster_id,
            },
            headers={SERVICE_VERSION_HEADER: f"kafka-s3-sink/{self.version}"},
        )

    async def list_connectors(self, request: Request) -> Response:
        names = self.registry.names()
        if "expand" not in request.query_params:
            return JSONResponse(names)
        wanted = set(request.query_params.getlist("expand"))  # unknown expansions: ignored
        expanded: Json = {}
        for name in names:
            with contextlib.suppress(NotFound):  # deleted while we list: leave it out
                entry: Json = {}
                if "status" in wanted:
                    entry["status"] = self._status(name)
                if "info" in wanted:
                    entry["info"] = self._info(name)
                expanded[name] = entry
        return JSONResponse(expanded)

    async def create(self, request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict):
            raise ApiError(400, 'Expected a JSON object {"name": ..., "config": {...}}')
        raw_name = body.get("name")
        if not isinstance(raw_name, str):
            raise ApiError(400, 'Missing connector name: the body needs "name": "<name>"')
        name = check_name(raw_name.strip())  # Kafka Connect trims the name too
        if "config" not in body:
            raise ApiError(400, 'Missing connector config: the body needs "config": {...}')
        config = with_name(name, config_map(body["config"]))
        initial_state = body.get("initial_state", "RUNNING")
        if initial_state not in ("RUNNING", "PAUSED", "STOPPED"):
            raise ApiError(400, "initial_state must be RUNNING, PAUSED or STOPPED")
        # Stored with its state (KIP-980): a STOPPED connector never runs a task before its
        # offsets are set, which is the point of creating it stopped.
        await self.registry.create(name, config, initial_state)
        return JSONResponse(self._info(name), status_code=201)

    async def info(self, request: Request) -> Response:
        return JSONResponse(self._info(path_name(request)))

    async def delete(self, request: Request) -> Response:
        await self.registry.delete(path_name(request))
        return Response(status_code=204)

    async def get_config(self, request: Request) -> Response:
        return JSONResponse(self.mask(self.registry.get_config(path_name(request))))

    async def put_config(self, request: Request) -> Response:
        name = check_name(path_name(request))
        config = with_name(name, config_map(await json_body(request)))
        config = self._keep_masked_secrets(name, config)
        created = await self.registry.put_config(name, config)
        return JSONResponse(self._info(name), status_code=201 if created else 200)

    async def patch_config(self, request: Request) -> Response:
        name = path_name(request)
        patch = config_map(await json_body(request), allow_null=True)
        if patch.get("name") not in (None, name):
            raise ApiError(
                400,
                f"Connector name in the config ({patch['name']}) doesn't "
                f"match the name in the URL ({name})",
            )
        stored = self.registry.get_config(name)  # 404 before we touch anything
        merged = dict(stored)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        merged = self._keep_masked_secrets(name, with_name(name, merged))
        await self.registry.put_config(name, merged)
        return JSONResponse(self._info(name))

    async def status(self, request: Request) -> Response:
        return JSONResponse(self._status(path_name(request)))

    async def restart(self, request: Request) -> Response:
        name = path_name(request)
        include_tasks = query_flag(request, "includeTasks")
        only_failed = query_flag(request, "onlyFailed")
        if not include_tasks and not only_failed:
            await self.registry.restart(name, include_tasks, only_failed)
            return Response(status_code=204)  # the pre-KIP-745 form: connector only, no body
        # KIP-745: the answer is the plan, each instance being restarted shown RESTARTING.
        plan = self._status(name)
        if not only_failed or plan["connector"]["state"] == "FAILED":
            plan["connector"]["state"] = "RESTARTING"
            plan["connector"].pop("trace", None)
        for task in plan["tasks"]:
            if include_tasks and (not only_failed or task["state"] == "FAILED"):
                task["state"] = "RESTARTING"
                task.pop("trace", None)
        await self.registry.restart(name, include_tasks, only_failed)
        return JSONResponse(plan, status_code=202)

    async def pause(self, request: Request) -> Response:
        await self.registry.pause(path_name(request))
        return Response(status_code=202)

    async def resume(self, request: Request) -> Response:
        await self.registry.resume(path_name(request))
        return Response(status_code=202)

    async def stop(self, request: Request) -> Response:
        await self.registry.stop(path_name(request))
        return Response(status_code=204)

    async def tasks(self, request: Request) -> Response:
        name = path_name(request)
        config = {**self.mask(self.registry.get_config(name)), "task.class": S3_SINK_TASK_CLASS}
        task_ids, _ = self._task_ids(name)
        return JSONResponse(
            [{"id": {"connector": name, "task": task}, "config": config} for task in task_ids]
        )

    async def task_status(self, request: Request) -> Response:
        name, task_id = path_name(request), int(request.path_params["task"])
        for task in self._status(name)["tasks"]:
            if task["id"] == task_id:
                return JSONResponse(task)
        raise ApiError(404, f"No status found for task {name}-{task_id}")

    async def restart_task(self, request: Request) -> Response:
        await self.registry.restart_task(path_name(request), int(request.path_params["task"]))
        return Response(status_code=204)

    async def topics(self, request: Request) -> Response:
        # Topics the connector has read records from since it was made or reset (KIP-558);
        # an unknown connector has read none, as Kafka Connect answers.
        name = path_name(request)
        return JSONResponse({name: {"topics": self.registry.topics(name)}})

    async def reset_topics(self, request: Request) -> Response:
        self.registry.reset_topics(path_name(request))
        return Response(status_code=202)

    async def offsets(self, request: Request) -> Response:
        committed = self.registry.offsets(path_name(request))
        return JSONResponse(
            {
                "offsets": [
                    {
                        "partition": {"kafka_topic": topic, "kafka_partition": partition},
                        "offset": {"kafka_offset": offset},
                    }
                    for (topic, partition), offset in sorted(committed.items())
                ]
            }
        )

    async def alter_offsets(self, request: Request) -> Response:
        name = path_name(request)
        offsets = parse_offsets(await json_body(request))
        await self.registry.alter_offsets(name, offsets)
        return JSONResponse({"message": f"{_OFFSETS_OF_THIS_CONNECTOR} altered successfully"})

    async def reset_offsets(self, request: Request) -> Response:
        await self.registry.reset_offsets(path_name(request))
        return JSONResponse({"message": f"{_OFFSETS_OF_THIS_CONNECTOR} reset successfully"})

    async def list_loggers(self, _: Request) -> Response:
        return JSONResponse(self.loggers.levels())

    async def get_logger(self, request: Request) -> Response:
        try:
            return JSONResponse(self.loggers.level(request.path_params["logger"]))
        except UnknownLogger as error:
            raise ApiError(404, str(error)) from None

    async def set_logger(self, request: Request) -> Response:
        scope = request.query_params.get("scope", "worker").lower()
        if scope not in ("worker", "cluster"):
            raise ApiError(400, f"Invalid scope '{scope}': expected worker or cluster")
        body = await json_body(request)
        level = body.get("level") if isinstance(body, dict) else None
        if not isinstance(level, str):
            raise ApiError(400, "Desired 'level' parameter was not specified in request.")
        try:
            changed = self.loggers.set_level(request.path_params["logger"], level)
        except InvalidLevel as error:  # Kafka Connect answers 404 to an unknown level
            raise ApiError(404, str(error)) from None
        if scope == "cluster":
            # As a one-worker Kafka Connect cluster answers: applied, 204 and no body.  Each
            # service keeps its own levels: other services on the config topic are not told.
            return Response(status_code=204)
        return JSONResponse(changed)

    async def plugin_config(self, request: Request) -> Response:
        plugin = request.path_params["plugin"]
        if not any(is_plugin(plugin, p["class"]) for p in self.plugins):
            raise ApiError(404, f"Unknown plugin {plugin}.")
        return JSONResponse(config_definitions())

    async def list_plugins(self, _: Request) -> Response:
        return JSONResponse(self.plugins)

    async def validate(self, request: Request) -> Response:
        plugin = request.path_params["plugin"]
        config = config_map(await json_body(request))
        included = config.get("connector.class")
        if included is None:
            raise ApiError(400, "Connector config contains no connector type: set connector.class")
        # As Kafka Connect: the body's class must be the path's, in full or alias form.
        if not plugin_alias(included).endswith(plugin_alias(plugin)):
            raise ApiError(
                400, f"Included connector type {included} does not match request type {plugin}"
            )
        if not any(is_plugin(included, p.get("class", "")) for p in self.plugins):
            known = ", ".join(str(p.get("class")) for p in self.plugins) or "none"
            raise ApiError(400, f"No connector plugin named {included} (installed: {known})")
        return JSONResponse(self.validate_config(included, config))

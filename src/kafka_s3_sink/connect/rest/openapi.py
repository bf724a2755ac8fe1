"""The OpenAPI 3.1 document of the Kafka Connect–compatible REST API (served at /openapi.json).

Written by hand rather than derived from the handlers because the API is small and its shapes
are fixed by Kafka Connect, not by our types: a literal document says exactly what a client may
rely on. The fuzz test (tests/unit/connect/test_openapi_fuzz.py) checks every response against
it, and test_rest.py checks that it lists exactly the routes the app serves, so it cannot drift.

Response objects are closed (``additionalProperties: false``) so that the fuzz test notices a
stray field; request bodies stay open because the API, like Kafka Connect, ignores extra fields.
"""

from __future__ import annotations

from typing import Any

from .loggers import LEVELS

JSONSchema = dict[str, Any]
_LEVEL_NAMES = [*LEVELS, *(name.lower() for name in LEVELS)]  # read case-insensitively

S3_SINK_CONNECTOR = "io.confluent.connect.s3.S3SinkConnector"
# Shown in the document as request examples (schemathesis also sends them).
EXAMPLE_CONFIG = {
    "connector.class": S3_SINK_CONNECTOR,
    "tasks.max": "1",
    "topics": "sinetstream.sensor",
    "s3.bucket.name": "mybucket",
    "s3.region": "us-east-1",
    "flush.size": "1",
    "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
    "storage.class": "io.confluent.connect.s3.storage.S3Storage",
}
BODY_EXAMPLES: dict[str, Any] = {
    "CreateConnectorRequest": {"name": "s3-sink-data", "config": EXAMPLE_CONFIG},
    "ConfigInput": EXAMPLE_CONFIG,
    "ConfigPatch": {"flush.size": "10", "s3.region": None},
    "LevelRequest": {"level": "DEBUG"},
    "AlterOffsetsRequest": {
        "offsets": [
            {
                "partition": {"kafka_topic": "sinetstream.sensor", "kafka_partition": 0},
                "offset": {"kafka_offset": 100},
            },
            {
                "partition": {"kafka_topic": "sinetstream.sensor", "kafka_partition": 1},
                "offset": None,  # back to where a new consumer group starts
            },
        ]
    },
}

STATES = ["RUNNING", "PAUSED", "STOPPED", "FAILED", "UNASSIGNED", "RESTARTING"]


def _ref(name: str) -> JSONSchema:
    return {"$ref": f"#/components/schemas/{name}"}


def _closed(required: list[str], **properties: JSONSchema) -> JSONSchema:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


_STR: JSONSchema = {"type": "string"}
_INT: JSONSchema = {"type": "integer"}

SCHEMAS: dict[str, JSONSchema] = {
    "Error": _closed(["error_code", "message"], error_code=_INT, message=_STR),
    # GET /health (KIP-1017).
    "WorkerStatus": _closed(
        ["status", "message"],
        status={"type": "string", "enum": ["healthy", "starting", "unhealthy"]},
        message=_STR,
    ),
    "ServerInfo": _closed(
        ["version", "commit", "kafka_cluster_id"],
        version=_STR,
        commit=_STR,
        kafka_cluster_id={"type": ["string", "null"]},
    ),
    # What the API returns: Kafka Connect configs are maps of strings.
    "ConfigMap": {"type": "object", "additionalProperties": _STR},
    # What the API accepts: like Kafka Connect (Jackson), numbers and booleans are taken as
    # their text, so {"tasks.max": 1} works as it does with the Java worker.
    "ConfigInput": {
        "type": "object",
        "additionalProperties": {"type": ["string", "number", "boolean"]},
    },
    # PATCH: null removes the key (KIP-477).
    "ConfigPatch": {
        "type": "object",
        "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
    },
    "CreateConnectorRequest": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "config": _ref("ConfigInput"),
            # KIP-980: the state the new connector starts in.
            "initial_state": {"type": "string", "enum": ["RUNNING", "PAUSED", "STOPPED"]},
        },
        "required": ["name", "config"],
    },
    "ConnectorType": {"type": "string", "enum": ["sink", "source"]},
    "TaskId": _closed(["connector", "task"], connector=_STR, task=_INT),
    "ConnectorInfo": _closed(
        ["name", "config", "tasks", "type"],
        name=_STR,
        config=_ref("ConfigMap"),
        tasks={"type": "array", "items": _ref("TaskId")},
        type=_ref("ConnectorType"),
    ),
    "State": {"type": "string", "enum": STATES},
    "ConnectorState": _closed(
        ["state", "worker_id", "version"],
        state=_ref("State"),
        worker_id=_STR,
        trace=_STR,
        version=_STR,
    ),
    "TaskState": _closed(
        ["id", "state", "worker_id", "version"],
        id=_INT,
        state=_ref("State"),
        worker_id=_STR,
        trace=_STR,
        version=_STR,
    ),
    "ConnectorStateInfo": _closed(
        ["name", "connector", "tasks", "type"],
        name=_STR,
        connector=_ref("ConnectorState"),
        tasks={"type": "array", "items": _ref("TaskState")},
        type=_ref("ConnectorType"),
    ),
    "ExpandedConnectors": {
        "type": "object",
        "additionalProperties": _closed(
            [], status=_ref("ConnectorStateInfo"), info=_ref("ConnectorInfo")
        ),
    },
    "TaskInfo": _closed(["id", "config"], id=_ref("TaskId"), config=_ref("ConfigMap")),
    "ActiveTopics": {
        "type": "object",
        "additionalProperties": _closed(["topics"], topics={"type": "array", "items": _STR}),
    },
    "ConnectorOffsets": _closed(
        ["offsets"],
        offsets={
            "type": "array",
            "items": _closed(
                ["partition", "offset"],
                partition=_closed(
                    ["kafka_topic", "kafka_partition"],
                    kafka_topic=_STR,
                    kafka_partition={"type": "integer", "minimum": 0},
                ),
                offset=_closed(["kafka_offset"], kafka_offset=_INT),
            ),
        },
    ),
    # PATCH .../offsets: a null offset resets that partition.
    "AlterOffsetsRequest": _closed(
        ["offsets"],
        offsets={
            "type": "array",
            "minItems": 1,
            "items": _closed(
                ["partition", "offset"],
                partition=_closed(
                    ["kafka_topic", "kafka_partition"],
                    kafka_topic={"type": "string", "minLength": 1},
                    kafka_partition={"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
                ),
                offset={
                    "oneOf": [
                        {"type": "null"},
                        _closed(
                            ["kafka_offset"],
                            kafka_offset={"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
                        ),
                    ]
                },
            ),
        },
    ),
    "Message": _closed(["message"], message=_STR),
    "LoggerLevel": _closed(
        ["level", "last_modified"],
        level={"type": "string", "enum": list(LEVELS)},  # answered in upper case
        last_modified={"type": ["integer", "null"]},
    ),
    "LoggerLevels": {"type": "object", "additionalProperties": _ref("LoggerLevel")},
    # Other keys are ignored, as Kafka Connect reads the body as a map.
    "LevelRequest": {
        "type": "object",
        "properties": {"level": {"type": "string", "enum": _LEVEL_NAMES}},
        "required": ["level"],
    },
    "LoggerNames": {"type": "array", "items": _STR},
    "PluginInfo": {
        "type": "object",
        "properties": {"class": _STR, "type": _STR, "version": _STR},
        "required": ["class", "type", "version"],
    },
    # The validation result comes from the config module; only its outline is fixed here.
    "ConfigInfos": {
        "type": "object",
        "properties": {
            "name": _STR,
            "error_count": {"type": "integer", "minimum": 0},
            "groups": {"type": "array", "items": _STR},
            "configs": {"type": "array", "items": {"type": "object"}},
        },
        "required": ["name", "error_count", "groups", "configs"],
    },
}

_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad request: malformed JSON, a wrong shape, or an invalid connector config",
    404: "No such connector or task",
    409: "A connector of that name exists already, or the worker is busy",
    401: "Credentials are required (REST_BASIC_AUTH_FILE, REST_BEARER_TOKEN_FILE) and were "
    "missing or wrong",
    403: "A cross-site request: its Origin is not the API's own",
    408: "The request body did not arrive in time",
    413: "The request body is larger than 1 MiB",
    415: "A request body that is not JSON (Content-Type must be application/json)",
    421: "The Host header names neither this machine nor REST_ALLOWED_HOSTS",
}
# Any request may be refused before it reaches its endpoint (connect/rest/guards.py).
_GUARD_ANSWERS: dict[int, str | None] = {401: None, 403: None, 421: None}
_BODY_ANSWERS: dict[int, str | None] = {408: None, 413: None, 415: None}

def _path_param(name: str, description: str, schema: JSONSchema, example: Any) -> JSONSchema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
        "example": example,
    }


_NON_EMPTY = {"type": "string", "minLength": 1}
NAME_PARAM = _path_param("name", "Connector name", _NON_EMPTY, "s3-sink-data")
TASK_PARAM = _path_param("task", "Task id", {"type": "integer", "minimum": 0}, 0)
PLUGIN_PARAM = _path_param(
    "plugin",
    "Connector class, simple class name, or alias (name without 'Connector')",
    _NON_EMPTY,
    S3_SINK_CONNECTOR,
)
LOGGER = _path_param(
    "logger",
    "Logger name (Python's, e.g. kafka_s3_sink.engine.sink_task), or root",
    _NON_EMPTY,
    "kafka_s3_sink",
)
SCOPE: JSONSchema = {
    "name": "scope",
    "in": "query",
    "required": False,
    "description": "worker (default), or cluster: answered as a one-worker cluster (204); "
    "other services on the same config topic keep their own levels",
    "schema": {"type": "string", "enum": ["worker", "cluster"]},
}


def _query_flag(name: str, description: str) -> JSONSchema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "boolean", "default": False},
    }


def _op(
    summary: str,
    responses: dict[int, str | None],
    *,
    params: list[JSONSchema] | None = None,
    body: str | None = None,
) -> JSONSchema:
    """One operation. ``responses`` maps a status to its body schema name (None: no body)."""
    operation: JSONSchema = {"summary": summary, "responses": {}}
    if params:
        operation["parameters"] = params
    if body is not None:
        media = {"schema": _ref(body), "example": BODY_EXAMPLES[body]}
        operation["requestBody"] = {"required": True, "content": {"application/json": media}}
    # A body-less POST/PUT/DELETE may still carry one, and is held to the same rules.
    responses = {**responses, **_GUARD_ANSWERS, **_BODY_ANSWERS}
    for status, schema in responses.items():
        if status >= 400:
            schema = "Error"
        response: JSONSchema = {"description": _REASONS[status]}
        if schema is not None:
            response["content"] = {"application/json": {"schema": _ref(schema)}}
        operation["responses"][str(status)] = response
    return operation


def _health_op() -> JSONSchema:
    """KIP-1017: 200 once started, 503 (same body shape) while starting or unhealthy."""
    operation = _op("Worker health (healthy, starting or unhealthy)", {200: "WorkerStatus"})
    operation["responses"]["503"] = {
        "description": "Starting, or unable to reach Kafka or the object store",
        "content": {"application/json": {"schema": _ref("WorkerStatus")}},
    }
    return operation


def _metrics_op() -> JSONSchema:
    operation = _op("Counters and states in the Prometheus text format", {200: None})
    operation["responses"]["200"]["content"] = {"text/plain": {"schema": _STR}}
    return operation


def _paths() -> dict[str, JSONSchema]:
    n = [NAME_PARAM]
    nt = [NAME_PARAM, TASK_PARAM]
    missing = {404: None}
    mutate = {404: None, 409: None}
    info_or_bad = {400: None, 404: None, 409: None}
    expand = {
        "name": "expand",
        "in": "query",
        "required": False,
        "description": "Return a map of connector name to its status and/or info",
        "schema": {"type": "array", "items": {"type": "string", "enum": ["status", "info"]}},
        "style": "form",
        "explode": True,
    }
    return {
        "/": {"get": _op("Worker version", {200: "ServerInfo"})},
        "/health": {"get": _health_op()},
        "/metrics": {"get": _metrics_op()},
        "/connectors": {
            "get": _op(
                "List connectors (names, or expanded with status and/or info)",
                {200: "ConnectorList"},
                params=[expand],
            ),
            "post": _op(
                "Create a connector",
                {201: "ConnectorInfo", 400: None, 409: None},
                body="CreateConnectorRequest",
            ),
        },
        "/connectors/{name}": {
            "get": _op("Connector info", {200: "ConnectorInfo", **missing}, params=n),
            "delete": _op("Delete a connector", {204: None, **mutate}, params=n),
        },
        "/connectors/{name}/config": {
            "get": _op(
                "Connector config (secrets masked)", {200: "ConfigMap", **missing}, params=n
            ),
            "put": _op(
                "Create or replace a connector's config",
                {200: "ConnectorInfo", 201: "ConnectorInfo", **info_or_bad},
                params=n,
                body="ConfigInput",
            ),
            "patch": _op(
                "Merge into a connector's config; null removes a key",
                {200: "ConnectorInfo", **info_or_bad},
                params=n,
                body="ConfigPatch",
            ),
        },
        "/connectors/{name}/status": {
            "get": _op(
                "Connector and task states", {200: "ConnectorStateInfo", **missing}, params=n
            ),
        },
        "/connectors/{name}/restart": {
            "post": _op(
                "Restart a connector (and, with includeTasks, its tasks)",
                {202: "ConnectorStateInfo", 204: None, **mutate},
                params=[
                    NAME_PARAM,
                    _query_flag("includeTasks", "Restart the tasks too"),
                    _query_flag("onlyFailed", "Restart only the FAILED instances"),
                ],
            ),
        },
        "/connectors/{name}/pause": {"put": _op("Pause", {202: None, **mutate}, params=n)},
        "/connectors/{name}/resume": {"put": _op("Resume", {202: None, **mutate}, params=n)},
        "/connectors/{name}/stop": {"put": _op("Stop", {204: None, **mutate}, params=n)},
        "/connectors/{name}/tasks": {
            "get": _op("Task configs (secrets masked)", {200: "TaskInfoList", **missing}, params=n),
        },
        "/connectors/{name}/tasks/{task}/status": {
            "get": _op("Task state", {200: "TaskState", **missing}, params=nt),
        },
        "/connectors/{name}/tasks/{task}/restart": {
            "post": _op("Restart a task", {204: None, **mutate}, params=nt),
        },
        "/connectors/{name}/topics": {
            "get": _op(
                "Topics the connector has read from since it was made or reset (KIP-558)",
                {200: "ActiveTopics"},
                params=n,
            ),
        },
        "/connectors/{name}/topics/reset": {
            "put": _op("Forget the connector's active topics", {202: None}, params=n),
        },
        "/connectors/{name}/offsets": {
            "get": _op("Committed offsets", {200: "ConnectorOffsets", **missing}, params=n),
            "patch": _op(
                "Set committed offsets (the connector must be STOPPED)",
                {200: "Message", **info_or_bad},
                params=n,
                body="AlterOffsetsRequest",
            ),
            "delete": _op(
                "Reset offsets: delete the consumer group (the connector must be STOPPED)",
                {200: "Message", **info_or_bad},
                params=n,
            ),
        },
        "/admin/loggers": {
            "get": _op("Loggers with a level of their own, and root", {200: "LoggerLevels"}),
        },
        "/admin/loggers/{logger}": {
            "get": _op("A logger's level", {200: "LoggerLevel", 404: None}, params=[LOGGER]),
            "put": _op(
                "Set a logger's level (and its descendants'); answers the loggers set",
                {200: "LoggerNames", 204: None, 400: None, 404: None},
                params=[LOGGER, SCOPE],
                body="LevelRequest",
            ),
        },
        "/connector-plugins": {
            "get": _op("Installed connector plugins", {200: "PluginInfoList"}),
        },
        "/connector-plugins/{plugin}/config": {
            "get": _op(
                "The plugin's config keys (KIP-769)",
                {200: "ConfigKeyInfoList", 404: None},
                params=[PLUGIN_PARAM],
            ),
        },
        "/connector-plugins/{plugin}/config/validate": {
            "put": _op(
                "Validate a connector config without creating the connector",
                {200: "ConfigInfos", 400: None},
                params=[PLUGIN_PARAM],
                body="ConfigInput",
            ),
        },
        "/openapi.json": {"get": _op("This document", {200: "OpenAPI"})},
    }


def openapi_document(version: str) -> JSONSchema:
    """The whole document; ``version`` is the service's version."""
    schemas = dict(SCHEMAS)
    schemas["ConnectorList"] = {
        "oneOf": [{"type": "array", "items": _STR}, _ref("ExpandedConnectors")]
    }
    schemas["TaskInfoList"] = {"type": "array", "items": _ref("TaskInfo")}
    schemas["PluginInfoList"] = {"type": "array", "items": _ref("PluginInfo")}
    schemas["ConfigKeyInfoList"] = {"type": "array", "items": {"type": "object"}}
    schemas["OpenAPI"] = {"type": "object", "required": ["openapi", "paths"]}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kafka-s3-sink Kafka Connect REST API",
            "version": version,
            "description": (
                "A subset of the Kafka Connect REST API, compatible in request and response "
                'shapes. Every error is {"error_code": <HTTP status>, "message": ...}.'
            ),
        },
        "paths": _paths(),
        "components": {
            "schemas": schemas,
            # Required only when the service is configured with credentials (README).
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }

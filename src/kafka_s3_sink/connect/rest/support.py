"""HTTP plumbing of the REST API: request parsing, Kafka Connect's error shape, routing.

Kept apart from app.py so that the endpoints there read as the API itself.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ...pipeline.spec import ConnectorConfigError
from ..registry import Conflict, NotFound, NotStopped
from ..state.group_offsets import OffsetChangeError

log = logging.getLogger(__name__)

Json = Any
Config = dict[str, str]
Handler = Callable[[Request], Awaitable[Response]]


class ApiError(Exception):
    """A request the API refuses: becomes {"error_code": status, "message": message}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def route(path: str, **handlers: Handler) -> Route:
    """One route per path, so that a wrong method gets a 405 listing every allowed one."""

    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return Route(path, dispatch, methods=list(handlers))


class IgnoreTrailingSlash:
    """``/connectors/`` is ``/connectors`` (as in Kafka Connect), not a 307 redirect that
    ``curl -X POST`` would not follow."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            scope = {**scope, "path": path.rstrip("/") or "/"}
        await self.app(scope, receive, send)


# -- request parsing ------------------------------------------------------------------------


# Connector configs are a few KiB; the cap stops one request from eating the service's memory.
MAX_BODY_BYTES = 1 << 20


async def json_body(request: Request) -> Json:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, f"The request body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise ApiError(400, "The request body is empty: expected JSON")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ApiError(400, f"The request body is not valid JSON: {exc}") from None


def parse_offsets(body: Json) -> dict[tuple[str, int], int | None]:
    """A ``PATCH .../offsets`` body -> {(topic, partition): offset or None (reset)}.

    Kafka Connect's shape for sink connectors: ``{"offsets": [{"partition": {"kafka_topic":
    t, "kafka_partition": p}, "offset": {"kafka_offset": n} or null}]}``.
    """
    entries = body.get("offsets") if isinstance(body, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ApiError(400, "Partitions / offsets need to be provided for an alter offsets request")
    offsets: dict[tuple[str, int], int | None] = {}
    for entry in entries:
        partition = entry.get("partition") if isinstance(entry, dict) else None
        if not isinstance(partition, dict):
            raise ApiError(400, "Every offset needs a partition object")
        topic, number = partition.get("kafka_topic"), partition.get("kafka_partition")
        if not isinstance(topic, str) or not topic:
            raise ApiError(
                400, "Kafka partitions must have a valid topic key-value pair: kafka_topic"
            )
        if not _is_count(number, 2**31 - 1):
            raise ApiError(
                400, "Kafka partitions must have a valid partition key-value pair: kafka_partition"
            )
        offset = entry.get("offset")
        if offset is not None:
            if not isinstance(offset, dict) or not _is_count(offset.get("kafka_offset"), 2**63 - 1):
                raise ApiError(
                    400, "Kafka offsets must be a non-negative integer under the key kafka_offset"
                )
            offset = offset["kafka_offset"]
        offsets[(topic, number)] = offset
    return offsets


def _is_count(value: Any, maximum: int) -> bool:
    """A non-negative integer that fits Kafka's field (int32 partitions, int64 offsets)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= maximum


def config_map(value: Json, *, allow_null: bool = False) -> dict[str, Any]:
    """A JSON object -> a config map of strings (None kept only where a PATCH allows it).

    Numbers and booleans become their text, as Jackson does for a Java worker."""
    if not isinstance(value, dict):
        raise ApiError(400, "The connector config must be a JSON object of string values")
    config: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, str) or (item is None and allow_null):
            config[key] = item
        elif isinstance(item, bool):
            config[key] = "true" if item else "false"
        elif isinstance(item, int) or (isinstance(item, float) and math.isfinite(item)):
            config[key] = str(item)
        else:
            kind = "null" if item is None else type(item).__name__
            raise ApiError(
                400, f"Invalid value for config key '{key}': expected a string, got {kind}"
            )
    return config


def with_name(name: str, config: Config) -> Config:
    """Kafka Connect keeps the connector name in its config; a different one is an error."""
    included = config.get("name")
    if included is not None and included != name:
        raise ApiError(
            400,
            f"Connector name configuration ({included}) doesn't match "
            f"connector name in the URL ({name})",
        )
    return {**config, "name": name}


def check_name(name: str) -> str:
    # A name the URL cannot address ("a/b", "..") would make a connector nobody can delete.
    if not name or name in (".", "..") or "/" in name or any(ord(c) < 32 for c in name):
        raise ApiError(
            400,
            f"Invalid connector name {name!r}: it must be non-empty, without "
            "'/' or control characters",
        )
    return name


def path_name(request: Request) -> str:
    return str(request.path_params["name"])


def query_flag(request: Request, key: str) -> bool:
    # Java's Boolean.valueOf: "true" in any case is true, anything else false.
    return request.query_params.get(key, "false").lower() == "true"


def plugin_alias(class_name: str) -> str:
    """Kafka Connect's normalisation: a trailing "Connector" is dropped (S3SinkConnector ->
    S3Sink), so a full class name ends with the alias of its simple name."""
    suffix = "Connector"
    return (
        class_name[: -len(suffix)]
        if class_name.endswith(suffix) and class_name != suffix
        else class_name
    )


def is_plugin(name: str, plugin_class: str) -> bool:
    simple = plugin_class.rsplit(".", 1)[-1]
    return name in (plugin_class, simple, plugin_alias(simple))


# -- errors -------------------------------------------------------------------------------


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error_code": status, "message": message}, status, headers=headers)


# The handlers are async: Starlette would run plain functions in a thread pool.


async def _api_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _error(exc.status, exc.message)


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    # Jersey's wording, which Kafka Connect clients may match on: "HTTP 404 Not Found".
    return _error(exc.status_code, f"HTTP {exc.status_code} {exc.detail}", exc.headers)


async def _not_found(request: Request, exc: Exception) -> Response:
    name = request.path_params.get("name", "")
    return _error(404, str(exc) or f"Connector {name} not found")


async def _conflict(request: Request, exc: Exception) -> Response:
    name = request.path_params.get("name", "")
    return _error(409, str(exc) or f"Connector {name} already exists or is busy")


async def _config_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConnectorConfigError)
    message = str(exc)
    if exc.key not in message:
        message = f"{exc.key}: {message}"
    return _error(400, f"Connector configuration is invalid: {message}")


async def _bad_request(_: Request, exc: Exception) -> Response:
    return _error(400, str(exc))


async def _internal_error(request: Request, exc: Exception) -> Response:
    # The traceback goes to the log (uvicorn logs the re-raised exception), not to the client:
    # an exception message may quote a config, secrets included.
    log.error("REST %s %s failed: %s", request.method, request.url.path, type(exc).__name__)
    return _error(500, f"Internal error ({type(exc).__name__}); see the service log")


ERROR_HANDLERS: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
    ApiError: _api_error,
    HTTPException: _http_error,  # unknown route (404), wrong method (405)
    NotFound: _not_found,
    Conflict: _conflict,
    ConnectorConfigError: _config_error,
    NotStopped: _bad_request,
    OffsetChangeError: _bad_request,
    Exception: _internal_error,
}

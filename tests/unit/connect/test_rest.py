"""The Kafka Connect–compatible REST API: every endpoint, its shapes and its errors."""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Iterator

import httpx2
import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from kafka_s3_sink.connect.registry import ConnectorState
from kafka_s3_sink.connect.rest.app import create_app
from kafka_s3_sink.connect.rest.server import listen_socket, serve

from .fake_registry import (
    MASK,
    PLUGINS,
    S3_SINK,
    WORKER_ID,
    FakeRegistry,
    FakeValidator,
    mask,
    sink_config,
)

VERSION = PLUGINS[0]["version"]  # the plugin's, in every status object


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture
def validator() -> FakeValidator:
    return FakeValidator()


@pytest.fixture
def client(registry: FakeRegistry, validator: FakeValidator) -> Iterator[TestClient]:
    app = create_app(
        registry,
        validator,
        PLUGINS,
        mask,
        "0.1.0",
        commit="abc123",
        kafka_cluster_id=lambda: "cluster-1",
    )
    with TestClient(app) as test_client:
        yield test_client


def create(client: TestClient, name: str = "s3-sink-data", **overrides: str) -> httpx2.Response:
    return client.post("/connectors", json={"name": name, "config": sink_config(**overrides)})


def assert_error(response: httpx2.Response, status: int, *words: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert body["error_code"] == status
    assert set(body) == {"error_code", "message"}
    for word in words:
        assert word in body["message"]


# -- GET / --------------------------------------------------------------------------------


def test_root_reports_the_kafka_connect_version_and_ours_in_a_header(client: TestClient) -> None:
    answer = client.get("/")
    assert answer.json() == {
        "version": "4.1.1",  # tools such as kcctl gate features on this
        "commit": "abc123",
        "kafka_cluster_id": "cluster-1",
    }
    assert answer.headers["X-Kafka-S3-Sink-Version"] == "kafka-s3-sink/0.1.0"


def test_root_without_cluster_id_reports_null(registry: FakeRegistry) -> None:
    app = create_app(registry, FakeValidator(), PLUGINS, mask, "0.1.0")
    assert TestClient(app).get("/").json()["kafka_cluster_id"] is None


# -- POST /connectors ---------------------------------------------------------------------


def test_create_returns_201_with_info_name_in_config_and_secret_masked(
    client: TestClient, registry: FakeRegistry
) -> None:
    response = create(client)
    assert response.status_code == 201
    assert response.json() == {
        "name": "s3-sink-data",
        "config": {**sink_config(), "name": "s3-sink-data", "aws.secret.access.key": MASK},
        "tasks": [{"connector": "s3-sink-data", "task": 0}],
        "type": "sink",
    }
    assert registry.configs["s3-sink-data"]["aws.secret.access.key"] == "s3cr3t"


def test_create_takes_numbers_and_booleans_as_text(
    client: TestClient, registry: FakeRegistry
) -> None:
    config = {**sink_config(), "tasks.max": 2, "flush.size": 1000, "s3.path.style.access": True}
    assert client.post("/connectors", json={"name": "c", "config": config}).status_code == 201
    stored = registry.configs["c"]
    assert (stored["tasks.max"], stored["flush.size"]) == ("2", "1000")
    assert stored["s3.path.style.access"] == "true"


def test_create_trims_the_name(client: TestClient, registry: FakeRegistry) -> None:
    assert create(client, name="  padded ").json()["name"] == "padded"
    assert registry.names() == ["padded"]


def test_create_duplicate_is_409(client: TestClient) -> None:
    create(client)
    assert_error(create(client), 409, "s3-sink-data", "already exists")


def test_create_invalid_config_is_400_naming_the_key(client: TestClient) -> None:
    assert_error(create(client, **{"tasks.max": "many"}), 400, "tasks.max")


@pytest.mark.parametrize("state", ["PAUSED", "STOPPED"])
def test_create_with_an_initial_state(
    client: TestClient, registry: FakeRegistry, state: str
) -> None:
    body = {"name": "c", "config": sink_config(), "initial_state": state}
    assert client.post("/connectors", json=body).status_code == 201
    assert registry.states["c"] is ConnectorState(state)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('{"name": "c", "config": {', ["not valid JSON"]),
        ("", ["empty"]),
        ('["c"]', ["JSON object"]),
        ('{"config": {}}', ["name"]),
        ('{"name": 5, "config": {}}', ["name"]),
        ('{"name": "   ", "config": {}}', ["name"]),
        ('{"name": "a/b", "config": {}}', ["a/b"]),
        ('{"name": "c"}', ["config"]),
        ('{"name": "c", "config": []}', ["config"]),
        ('{"name": "c", "config": {"topics": {"a": 1}}}', ["topics"]),
        ('{"name": "c", "config": {"topics": null}}', ["topics"]),
        ('{"name": "c", "config": {"name": "other"}}', ["other", "c"]),
        ('{"name": "c", "config": {}, "initial_state": "ON"}', ["initial_state"]),
    ],
)
def test_create_bad_body_is_400(client: TestClient, body: str, words: list[str]) -> None:
    response = client.post(
        "/connectors", content=body, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, *words)


def test_oversized_body_is_413(client: TestClient) -> None:
    config = {f"key.{i}": "x" * 1000 for i in range(1100)}
    response = client.post("/connectors", json={"name": "c", "config": config})
    assert_error(response, 413, "larger than")


# -- GET /connectors ----------------------------------------------------------------------


def test_list_names(client: TestClient) -> None:
    assert client.get("/connectors").json() == []
    create(client, "s3-sink-timestamp")
    create(client, "s3-sink-data")
    assert client.get("/connectors").json() == ["s3-sink-timestamp", "s3-sink-data"]


def test_list_expand_status_and_info(client: TestClient) -> None:
    create(client)
    expanded = client.get("/connectors?expand=status&expand=info").json()
    entry = expanded["s3-sink-data"]
    assert set(entry) == {"status", "info"}
    assert entry["status"]["connector"]["state"] == "RUNNING"
    assert entry["info"]["config"]["aws.secret.access.key"] == MASK


def test_list_expand_one_or_unknown(client: TestClient) -> None:
    create(client)
    assert set(client.get("/connectors?expand=status").json()["s3-sink-data"]) == {"status"}
    assert set(client.get("/connectors?expand=info").json()["s3-sink-data"]) == {"info"}
    assert client.get("/connectors?expand=bogus").json() == {"s3-sink-data": {}}


# -- one connector: info, config ----------------------------------------------------------


def test_info_and_config_are_masked(client: TestClient) -> None:
    create(client)
    assert client.get("/connectors/s3-sink-data").json()["config"]["aws.secret.access.key"] == MASK
    config = client.get("/connectors/s3-sink-data/config").json()
    assert config == {**sink_config(), "name": "s3-sink-data", "aws.secret.access.key": MASK}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("GET", "/config"),
        ("GET", "/status"),
        ("GET", "/tasks"),
        ("GET", "/offsets"),
        ("GET", "/tasks/0/status"),
        ("POST", "/tasks/0/restart"),
        ("POST", "/restart"),
        ("PUT", "/pause"),
        ("PUT", "/resume"),
        ("PUT", "/stop"),
        ("DELETE", ""),
    ],
)
def test_unknown_connector_is_404(client: TestClient, method: str, path: str) -> None:
    assert_error(client.request(method, f"/connectors/nope{path}"), 404, "nope")


def test_put_config_creates_then_updates(client: TestClient, registry: FakeRegistry) -> None:
    first = client.put("/connectors/c/config", json=sink_config())
    assert first.status_code == 201
    assert first.json()["name"] == "c"
    second = client.put("/connectors/c/config", json=sink_config(**{"flush.size": "10"}))
    assert second.status_code == 200
    assert second.json()["config"]["flush.size"] == "10"
    assert registry.configs["c"]["name"] == "c"


def test_put_config_name_mismatch_is_400(client: TestClient) -> None:
    response = client.put("/connectors/c/config", json=sink_config(name="d"))
    assert_error(response, 400, "(d)", "(c)")


def test_put_config_invalid_is_400_naming_the_key(client: TestClient) -> None:
    config = sink_config()
    del config["connector.class"]
    assert_error(client.put("/connectors/c/config", json=config), 400, "connector.class")


def test_put_back_a_masked_config_keeps_the_secret(
    client: TestClient, registry: FakeRegistry
) -> None:
    create(client)
    config = client.get("/connectors/s3-sink-data/config").json()
    config["flush.size"] = "5"
    assert client.put("/connectors/s3-sink-data/config", json=config).status_code == 200
    stored = registry.configs["s3-sink-data"]
    assert (stored["aws.secret.access.key"], stored["flush.size"]) == ("s3cr3t", "5")


def test_put_a_new_secret_replaces_it(client: TestClient, registry: FakeRegistry) -> None:
    create(client)
    client.put(
        "/connectors/s3-sink-data/config", json=sink_config(**{"aws.secret.access.key": "new"})
    )
    assert registry.configs["s3-sink-data"]["aws.secret.access.key"] == "new"


def test_patch_merges_and_null_removes(client: TestClient, registry: FakeRegistry) -> None:
    create(client)
    response = client.patch(
        "/connectors/s3-sink-data/config", json={"flush.size": 3, "topics": None, "x.y": "z"}
    )
    assert response.status_code == 200
    stored = registry.configs["s3-sink-data"]
    assert (stored["flush.size"], stored["x.y"]) == ("3", "z")
    assert "topics" not in stored
    assert stored["aws.secret.access.key"] == "s3cr3t"
    assert response.json()["config"]["aws.secret.access.key"] == MASK


def test_patch_errors(client: TestClient) -> None:
    assert_error(client.patch("/connectors/nope/config", json={"a": "b"}), 404, "nope")
    create(client)
    path = "/connectors/s3-sink-data/config"
    assert_error(client.patch(path, json={"name": "other"}), 400, "other")
    assert_error(client.patch(path, json={"tasks.max": "0"}), 400, "tasks.max")
    assert_error(client.patch(path, json=["x"]), 400, "JSON object")


# -- status, tasks ------------------------------------------------------------------------


def test_status_shape(client: TestClient) -> None:
    create(client)
    assert client.get("/connectors/s3-sink-data/status").json() == {
        "name": "s3-sink-data",
        "connector": {"state": "RUNNING", "worker_id": WORKER_ID, "version": VERSION},
        "tasks": [{"id": 0, "state": "RUNNING", "worker_id": WORKER_ID, "version": VERSION}],
        "type": "sink",
    }


def test_status_of_failed_task_carries_the_trace(
    client: TestClient, registry: FakeRegistry
) -> None:
    create(client, **{"tasks.max": "2"})
    registry.fail_task("s3-sink-data", 1, "UndecodableMessage: not SINETStream")
    tasks = client.get("/connectors/s3-sink-data/status").json()["tasks"]
    assert tasks[0] == {"id": 0, "state": "RUNNING", "worker_id": WORKER_ID, "version": VERSION}
    assert tasks[1]["state"] == "FAILED"
    assert tasks[1]["trace"] == "UndecodableMessage: not SINETStream"


def test_task_status_is_the_seed_guide_shape(client: TestClient) -> None:
    """The guide's shape, plus the plugin version Kafka Connect 4.1 adds."""
    create(client)
    response = client.get("/connectors/s3-sink-data/tasks/0/status")
    assert response.json() == {
        "id": 0,
        "state": "RUNNING",
        "worker_id": "kafka-connect:8083",
        "version": VERSION,
    }


def test_task_status_unknown_task_is_404(client: TestClient) -> None:
    create(client)
    assert_error(client.get("/connectors/s3-sink-data/tasks/7/status"), 404, "s3-sink-data-7")
    assert_error(client.get("/connectors/s3-sink-data/tasks/x/status"), 404)


def test_tasks_lists_masked_task_configs(client: TestClient) -> None:
    create(client, **{"tasks.max": "2"})
    tasks = client.get("/connectors/s3-sink-data/tasks").json()
    assert [task["id"] for task in tasks] == [
        {"connector": "s3-sink-data", "task": 0},
        {"connector": "s3-sink-data", "task": 1},
    ]
    assert tasks[0]["config"]["aws.secret.access.key"] == MASK
    assert tasks[0]["config"]["task.class"] == "io.confluent.connect.s3.S3SinkTask"


# -- lifecycle ------------------------------------------------------------------------------


def test_restart_task(client: TestClient, registry: FakeRegistry) -> None:
    create(client)
    response = client.post("/connectors/s3-sink-data/tasks/0/restart")
    assert (response.status_code, response.content) == (204, b"")
    assert registry.calls[-1] == ("restart_task", "s3-sink-data", 0)
    assert_error(client.post("/connectors/s3-sink-data/tasks/3/restart"), 404)


def test_restart_connector_only_is_204(client: TestClient, registry: FakeRegistry) -> None:
    create(client)
    response = client.post("/connectors/s3-sink-data/restart")
    assert (response.status_code, response.content) == (204, b"")
    assert registry.calls[-1] == ("restart", "s3-sink-data", False, False)


def test_restart_with_tasks_is_202_with_what_restarts(
    client: TestClient, registry: FakeRegistry
) -> None:
    create(client)
    response = client.post("/connectors/s3-sink-data/restart?includeTasks=true")
    assert response.status_code == 202
    answer = response.json()
    assert answer["connector"]["state"] == "RESTARTING"
    assert [task["state"] for task in answer["tasks"]] == ["RESTARTING"]
    assert registry.calls[-1] == ("restart", "s3-sink-data", True, False)


def test_restart_only_failed_shows_only_the_failed_restarting(
    client: TestClient, registry: FakeRegistry
) -> None:
    create(client)
    response = client.post("/connectors/s3-sink-data/restart?includeTasks=true&onlyFailed=TRUE")
    assert response.status_code == 202
    assert response.json()["connector"]["state"] == "RUNNING"  # not FAILED: left alone
    assert registry.calls[-1] == ("restart", "s3-sink-data", True, True)


def test_status_objects_carry_the_plugin_version(client: TestClient) -> None:
    create(client)
    status = client.get("/connectors/s3-sink-data/status").json()
    assert status["connector"]["version"] == PLUGINS[0]["version"]
    assert {task["version"] for task in status["tasks"]} == {PLUGINS[0]["version"]}


def test_pause_resume_stop(client: TestClient, registry: FakeRegistry) -> None:
    create(client)
    assert client.put("/connectors/s3-sink-data/pause").status_code == 202
    assert registry.states["s3-sink-data"] is ConnectorState.PAUSED
    assert client.put("/connectors/s3-sink-data/resume").status_code == 202
    assert registry.states["s3-sink-data"] is ConnectorState.RUNNING
    response = client.put("/connectors/s3-sink-data/stop")
    assert (response.status_code, response.content) == (204, b"")
    status = client.get("/connectors/s3-sink-data/status").json()
    assert status["connector"]["state"] == "STOPPED"


def test_delete(client: TestClient) -> None:
    create(client)
    response = client.delete("/connectors/s3-sink-data")
    assert (response.status_code, response.content) == (204, b"")
    assert_error(client.get("/connectors/s3-sink-data"), 404)
    assert client.get("/connectors").json() == []


# -- topics, offsets -----------------------------------------------------------------------


def test_topics(client: TestClient) -> None:
    create(client, topics="a, b")
    assert client.get("/connectors/s3-sink-data/topics").json() == {
        "s3-sink-data": {"topics": ["a", "b"]}
    }
    assert client.put("/connectors/s3-sink-data/topics/reset").status_code == 202
    assert client.get("/connectors/s3-sink-data/topics").json() == {
        "s3-sink-data": {"topics": []}
    }


def test_topics_of_an_unknown_connector_are_none(client: TestClient) -> None:
    """As Kafka Connect answers: 200 and an empty list, not 404."""
    assert client.get("/connectors/nope/topics").json() == {"nope": {"topics": []}}


def test_plugin_config_lists_the_config_keys(client: TestClient) -> None:
    keys = client.get("/connector-plugins/S3SinkConnector/config").json()
    names = [key["name"] for key in keys]
    assert "flush.size" in names and "s3.bucket.name" in names
    assert set(keys[0]) >= {"name", "type", "required", "default_value", "documentation"}
    assert_error(client.get("/connector-plugins/NoSuchConnector/config"), 404)


def test_offsets_sorted_by_topic_and_partition(client: TestClient, registry: FakeRegistry) -> None:
    create(client)
    registry.committed["s3-sink-data"] = {("t", 1): 7, ("t", 0): 12}
    assert client.get("/connectors/s3-sink-data/offsets").json() == {
        "offsets": [
            {
                "partition": {"kafka_topic": "t", "kafka_partition": 0},
                "offset": {"kafka_offset": 12},
            },
            {
                "partition": {"kafka_topic": "t", "kafka_partition": 1},
                "offset": {"kafka_offset": 7},
            },
        ]
    }


def offsets_body(*entries: tuple[str, int, int | None]) -> dict:
    return {"offsets": [
        {"partition": {"kafka_topic": t, "kafka_partition": p},
         "offset": None if o is None else {"kafka_offset": o}}
        for t, p, o in entries
    ]}


def test_offsets_change_only_when_stopped(client: TestClient, registry: FakeRegistry) -> None:
    create(client)
    registry.committed["s3-sink-data"] = {("t", 0): 12, ("t", 1): 7}
    body = offsets_body(("t", 0, 3), ("t", 1, None))
    answer = client.patch("/connectors/s3-sink-data/offsets", json=body)
    assert answer.status_code == 400
    assert "STOPPED state" in answer.json()["message"]
    assert client.delete("/connectors/s3-sink-data/offsets").status_code == 400
    assert registry.committed["s3-sink-data"] == {("t", 0): 12, ("t", 1): 7}

    assert client.put("/connectors/s3-sink-data/stop").status_code == 204
    answer = client.patch("/connectors/s3-sink-data/offsets", json=body)
    assert answer.status_code == 200, answer.json()
    assert answer.json() == {
        "message": "The offsets for this connector have been altered successfully"
    }
    assert registry.committed["s3-sink-data"] == {("t", 0): 3}  # null reset partition 1
    answer = client.delete("/connectors/s3-sink-data/offsets")
    assert answer.json() == {
        "message": "The offsets for this connector have been reset successfully"
    }
    assert client.get("/connectors/s3-sink-data/offsets").json() == {"offsets": []}
    assert client.delete("/connectors/nope/offsets").status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Partitions / offsets need to be provided"),
        ({"offsets": []}, "Partitions / offsets need to be provided"),
        ({"offsets": [{"offset": None}]}, "needs a partition object"),
        (offsets_body(("", 0, 1)), "kafka_topic"),
        (offsets_body(("t", -1, 1)), "kafka_partition"),
        (offsets_body(("t", 0, -5)), "non-negative integer under the key kafka_offset"),
        ({"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": 0},
                       "offset": {"offset": 1}}]}, "kafka_offset"),
    ],
)
def test_bad_offsets_bodies_are_400_with_the_reason(
    client: TestClient, body: dict, message: str
) -> None:
    create(client)
    client.put("/connectors/s3-sink-data/stop")
    answer = client.patch("/connectors/s3-sink-data/offsets", json=body)
    assert answer.status_code == 400
    assert message in answer.json()["message"]


# -- connector plugins ---------------------------------------------------------------------


def test_list_plugins(client: TestClient) -> None:
    assert client.get("/connector-plugins").json() == PLUGINS


@pytest.mark.parametrize("plugin", [S3_SINK, "S3SinkConnector", "S3Sink"])
def test_validate_accepts_class_or_alias(
    client: TestClient, validator: FakeValidator, plugin: str
) -> None:
    response = client.put(f"/connector-plugins/{plugin}/config/validate", json=sink_config())
    assert response.status_code == 200
    assert response.json()["error_count"] == 0
    assert validator.calls == [(S3_SINK, sink_config())]


def test_validate_reports_errors_in_the_body(client: TestClient) -> None:
    config = sink_config()
    del config["s3.bucket.name"]
    response = client.put(f"/connector-plugins/{S3_SINK}/config/validate", json=config)
    assert (response.status_code, response.json()["error_count"]) == (200, 1)


def test_validate_refuses_missing_mismatched_or_unknown_class(client: TestClient) -> None:
    path = f"/connector-plugins/{S3_SINK}/config/validate"
    config = sink_config()
    del config["connector.class"]
    assert_error(client.put(path, json=config), 400, "connector.class")
    mismatch = sink_config(**{"connector.class": "x.FileStreamSinkConnector"})
    assert_error(client.put(path, json=mismatch), 400, "does not match")
    unknown = sink_config(**{"connector.class": "x.Other"})
    response = client.put("/connector-plugins/x.Other/config/validate", json=unknown)
    assert_error(response, 400, "x.Other")


def test_validate_config_error_is_400_naming_the_key(
    client: TestClient, validator: FakeValidator
) -> None:
    validator.raise_for = "format.class"
    response = client.put(f"/connector-plugins/{S3_SINK}/config/validate", json=sink_config())
    assert_error(response, 400, "format.class")


# -- HTTP plumbing ---------------------------------------------------------------------------


def test_unknown_route_is_404_json(client: TestClient) -> None:
    assert_error(client.get("/nope"), 404, "HTTP 404 Not Found")
    assert_error(client.get("/connectors/a/b/c"), 404)


def test_wrong_method_is_405_json_with_allow(client: TestClient) -> None:
    response = client.delete("/connectors")
    assert_error(response, 405, "Method Not Allowed")
    assert set(response.headers["allow"].split(", ")) >= {"GET", "POST"}


def test_trailing_slash_is_the_same_resource(client: TestClient) -> None:
    response = client.post("/connectors/", json={"name": "c", "config": sink_config()})
    assert response.status_code == 201
    assert client.get("/connectors/c/status/").json()["name"] == "c"


def test_unexpected_error_is_500_json_without_details(registry: FakeRegistry) -> None:
    def broken() -> list[str]:
        raise RuntimeError("secret=s3cr3t")

    registry.names = broken  # type: ignore[method-assign]
    app = create_app(registry, FakeValidator(), PLUGINS, mask, "0.1.0")
    response = TestClient(app, raise_server_exceptions=False).get("/connectors")
    assert_error(response, 500, "RuntimeError")
    assert "s3cr3t" not in response.text


def test_openapi_lists_exactly_the_served_routes(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    documented = {
        (path, method.upper()) for path, ops in document["paths"].items() for method in ops
    }
    app = client.app
    served = {
        (route.path.replace(":int}", "}"), method)
        for route in app.routes  # type: ignore[attr-defined]
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert documented == served


# -- serve() -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_until_cancelled_and_leaves_signals_alone(
    registry: FakeRegistry,
) -> None:
    app = create_app(registry, FakeValidator(), PLUGINS, mask, "0.1.0")
    port = free_port()

    async def scenario() -> tuple[int, bool]:
        before = signal.getsignal(signal.SIGTERM)
        ready = asyncio.Event()
        server = asyncio.create_task(serve(app, "127.0.0.1", port, ready))
        await asyncio.wait_for(ready.wait(), 10)
        async with httpx2.AsyncClient() as http:
            status = (await http.get(f"http://127.0.0.1:{port}/connectors")).status_code
        untouched = signal.getsignal(signal.SIGTERM) is before
        server.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(server, 10)
        return status, untouched

    assert asyncio.run(scenario()) == (200, True)
    with socket.create_server(("127.0.0.1", port)):  # the port is free again
        pass


def test_serve_on_a_busy_port_raises_oserror(registry: FakeRegistry) -> None:
    app = create_app(registry, FakeValidator(), PLUGINS, mask, "0.1.0")
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        with pytest.raises(OSError, match=f"127.0.0.1:{port}"):
            asyncio.run(serve(app, "127.0.0.1", port))


def test_listening_socket_says_tcp_so_asyncio_disables_nagle() -> None:
    # With proto 0 asyncio skips TCP_NODELAY and each keep-alive request waits ~40 ms.
    with listen_socket("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP


# -- log levels ----------------------------------------------------------------------------


def test_logger_levels_change_at_run_time(client: TestClient) -> None:
    import logging

    child = logging.getLogger("kafka_s3_sink.engine.sink_task")
    child.setLevel(logging.WARNING)
    answer = client.put("/admin/loggers/kafka_s3_sink", json={"level": "debug"})
    assert answer.status_code == 200
    assert answer.json() == ["kafka_s3_sink", "kafka_s3_sink.engine.sink_task"]
    assert child.getEffectiveLevel() == logging.DEBUG
    listed = client.get("/admin/loggers").json()
    assert listed["kafka_s3_sink"]["level"] == "DEBUG"
    assert isinstance(listed["kafka_s3_sink"]["last_modified"], int)
    assert set(listed["root"]) == {"level", "last_modified"}
    assert client.get("/admin/loggers/kafka_s3_sink.engine.sink_task").json()["level"] == "DEBUG"
    client.put("/admin/loggers/kafka_s3_sink", json={"level": "WARN"})
    assert not logging.getLogger("kafka_s3_sink.engine.sink_task").isEnabledFor(logging.INFO)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("GET", "/admin/loggers/no.such.logger", None, 404, "Logger no.such.logger not found"),
        ("PUT", "/admin/loggers/root", {"level": "LOUD"}, 404, "invalid log level 'LOUD'"),
        ("PUT", "/admin/loggers/root", {"lvl": "INFO"}, 400, "'level' parameter"),
        ("PUT", "/admin/loggers/root?scope=galaxy", {"level": "INFO"}, 400, "Invalid scope"),
    ],
)
def test_logger_errors(
    client: TestClient, method: str, path: str, body: object, status: int, message: str
) -> None:
    answer = client.request(method, path, json=body)
    assert answer.status_code == status
    assert message in answer.json()["message"]


def test_logger_scope_cluster_answers_as_a_one_worker_cluster(client: TestClient) -> None:
    answer = client.put("/admin/loggers/kafka_s3_sink?scope=cluster", json={"level": "WARN"})
    assert (answer.status_code, answer.content) == (204, b"")
    assert client.get("/admin/loggers/kafka_s3_sink").json()["level"] == "WARN"

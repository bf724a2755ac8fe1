""""Lock the control plane", against the real service, a real broker and a real S3 server.

One test per finding of the issue:

1. the REST API refuses unauthenticated, cross-site and rebound requests, bounded bodies;
2. a connector cannot write outside the operator's stores (checked on disk, and on a
   listener that must receive nothing) nor archive an internal topic;
3. every number and the name have a ceiling, answered with a 400 naming the key;
4. no secret in the config topic, the standalone file (0600), the REST answers or the log.
"""

from __future__ import annotations

import base64
import json
import socket
import stat
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from harness import (
    Service,
    env_value,
    local_env,
    rest,
    wait_for_api,
    wait_until,
    write_env,
)
from helpers import make_topic, produce_sinetstream

from kafka_s3_sink.devtools.kafka_broker import LocalKafkaBroker

pytestmark = [pytest.mark.integration, pytest.mark.slow]

S3_SINK = "io.confluent.connect.s3.S3SinkConnector"
PASSWORD = f"pw-{uuid.uuid4().hex}"
# The issue's default: only the .env store, no secrets without a key.
LOCKED = {"CONNECTOR_STORES": "", "CONNECTOR_BUCKETS": "", "CONFIG_ENCRYPTION_KEY_FILE": ""}


def connector(topic: str, store_url: str, **overrides: str) -> dict[str, str]:
    config = {
        "store.url": store_url,
        "connector.class": S3_SINK,
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
        "flush.size": "1",
        "tasks.max": "1",
        "topics": topic,
        "s3.bucket.name": "mybucket",
    }
    config.update(overrides)
    return {k: v for k, v in config.items() if v != ""}


def call(
    env_file: Path,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    url = f"http://127.0.0.1:{env_value(env_file, 'REST_PORT')}{path}"
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def stalled_bodies(port: int, admin: dict[str, str], count: int) -> list[bytes]:
    """Open ``count`` connections that each promise a body and send one byte of it; return
    the status each is answered with, all within 30 s."""
    stalled = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(
            b"POST /connectors HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
            + b"\r\nAuthorization: " + admin["Authorization"].encode()
            + b"\r\nContent-Length: 1000\r\n\r\n{"
        )
        stalled.append(sock)
    started = time.monotonic()
    answers = []
    for sock in stalled:
        sock.settimeout(max(30 - (time.monotonic() - started), 0.1))
        try:
            answers.append(sock.recv(64).split(b" ")[1])
        finally:
            sock.close()
    assert time.monotonic() - started < 30
    return answers


# --- 1 ---------------------------------------------------------------------------------------


def test_1_the_rest_api_refuses_strangers_cross_site_requests_and_slow_bodies(
    tmp_path: Path, kafka_broker: LocalKafkaBroker
) -> None:
    topic = make_topic(kafka_broker, 1)
    users = tmp_path / "users.properties"
    users.write_text(f"admin: {PASSWORD}\n")
    env_file = local_env(
        tmp_path, kafka_broker.bootstrap, topic, REGISTER_DEFAULTS="false",
        REST_BASIC_AUTH_FILE=str(users), **LOCKED,
    )
    store = f"file://{tmp_path / 'data'}"  # the .env store
    admin = basic("admin", PASSWORD)
    body = json.dumps({"name": "c", "config": connector(topic, store)}).encode()
    with Service(env_file, tmp_path / "service.log") as service:
        def answering() -> bool:
            assert service.running, service.log()
            try:
                return call(env_file, "GET", "/", headers=admin)[0] == 200
            except OSError:
                return False

        wait_until(answering, 60, "the API")
        # No credentials, wrong ones: nothing is created, nothing is listed, no level changes.
        assert call(env_file, "GET", "/connectors")[0] == 401
        json_type = {"Content-Type": "application/json"}
        assert call(env_file, "POST", "/connectors", body, json_type)[0] == 401
        wrong = {**json_type, **basic("admin", "guess")}
        assert call(env_file, "POST", "/connectors", body, wrong)[0] == 401
        off = json.dumps({"level": "OFF"}).encode()
        assert call(env_file, "PUT", "/admin/loggers/root", off, json_type)[0] == 401
        # A page of another site, even with the user's credentials cached by the browser.
        cross = {"Content-Type": "text/plain", "Origin": "http://evil.example", **admin}
        assert call(env_file, "POST", "/connectors", body, cross)[0] == 403
        plain = {"Content-Type": "text/plain", **admin}
        assert call(env_file, "POST", "/connectors", body, plain)[0] == 415
        rebound = {"Host": f"evil.example:{env_value(env_file, 'REST_PORT')}", **admin}
        assert call(env_file, "GET", "/connectors", headers=rebound)[0] == 421
        status, listed = call(env_file, "GET", "/connectors", headers=admin)
        assert (status, json.loads(listed)) == (200, [])
        with socket.create_connection(("127.0.0.1", int(env_value(env_file, "REST_PORT")))) as raw:
            raw.settimeout(10)
            raw.sendall(
                b"PUT /connectors/c/config HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nAuthorization: "
                + admin["Authorization"].encode()
                + f"\r\nContent-Length: {2 << 20}\r\n\r\n{{".encode()
            )
            assert raw.recv(64).split(b" ")[1] == b"413"  # answered before the body is read
        # Bodies promised and never sent: every connection is answered and closed soon. Under
        # the concurrency limit each one waits for its body and gets 408; past it the server
        # may answer 503 at once (which connections count first depends on how the event
        # loop batches its accepts, so the second round only asks that each is answered).
        port = int(env_value(env_file, "REST_PORT"))
        assert set(stalled_bodies(port, admin, 40)) == {b"408"}
        assert set(stalled_bodies(port, admin, 100)) <= {b"408", b"503"}
        assert call(env_file, "GET", "/", headers=admin)[0] == 200
        assert PASSWORD not in service.log()


def test_1_a_non_loopback_rest_host_without_credentials_does_not_start(
    tmp_path: Path, kafka_broker: LocalKafkaBroker
) -> None:
    env_file = local_env(tmp_path, kafka_broker.bootstrap, "t", REST_HOST="0.0.0.0")
    with Service(env_file, tmp_path / "service.log") as service:
        assert service.wait(30) == 2
        assert "REST_ALLOW_UNAUTHENTICATED" in service.log()


# --- 2 ---------------------------------------------------------------------------------------


def test_2_a_connector_writes_only_where_the_operator_allows(
    tmp_path: Path, kafka_broker: LocalKafkaBroker
) -> None:
    topic = make_topic(kafka_broker, 1)
    env_file = local_env(
        tmp_path, kafka_broker.bootstrap, topic, REGISTER_DEFAULTS="false", **LOCKED
    )
    store = f"file://{tmp_path / 'data'}"  # the .env store
    outside = tmp_path / "home" / "user"
    outside.mkdir(parents=True)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
    refused = {
        "store.url": [
            {"store.url": f"file://{outside}", "s3.bucket.name": ".ssh"},
            {"store.url": f"file://{tmp_path / 'data'}/../home", "s3.bucket.name": "user"},
            {"store.url": endpoint},
            {"store.url": endpoint, "aws.access.key.id": "k", "aws.secret.access.key": "s"},
        ],
        "s3.bucket.name": [
            {"s3.bucket.name": ".."},
            {"s3.bucket.name": "."},
            {"s3.bucket.name": "other-bucket"},
        ],
    }
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        produce_sinetstream(kafka_broker.bootstrap, topic, [b"payload"])
        for key, cases in refused.items():
            for case in cases:
                body = {"name": "c", "config": connector(topic, store, **case)}
                status, answer = rest(env_file, "POST", "/connectors", body)
                assert status == 400, (case, answer)
                assert key in answer["message"], (case, answer)
        assert rest(env_file, "GET", "/connectors") == (200, [])
        time.sleep(3)  # what a running connector would have written by now
        with pytest.raises(TimeoutError):
            listener.accept()  # no request ever reached the foreign endpoint
        assert files_under(tmp_path / "home") == []
        assert not (tmp_path / "data").exists() or files_under(tmp_path / "data") == []
    listener.close()


def test_2_topics_regex_matches_no_internal_topic(
    tmp_path: Path, kafka_broker_private: LocalKafkaBroker
) -> None:
    broker = kafka_broker_private
    topic = make_topic(broker, 1, prefix="sensor")
    env_file = local_env(tmp_path, broker.bootstrap, topic, REGISTER_DEFAULTS="false", **LOCKED)
    store = f"file://{tmp_path / 'data'}"  # the .env store
    config_topic = env_value(env_file, "CONFIG_STORAGE_TOPIC")
    # Offsets committed before: __consumer_offsets has records to archive.
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "other-group"})
    consumer.commit(offsets=[TopicPartition(topic, 0, 0)], asynchronous=False)
    consumer.close()
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        regex = connector("", store, **{"topics.regex": ".*"})
        status, answer = rest(env_file, "POST", "/connectors", {"name": "all", "config": regex})
        assert status == 201, answer
        produce_sinetstream(broker.bootstrap, topic, [b"one", b"two"])
        root = tmp_path / "data"
        wait_until(
            lambda: sum(1 for p in files_under(root) if f"/{topic}/" in p.as_posix()) >= 2,
            60,
            "the topic's objects",
        )
        time.sleep(5)  # the internal topics, if subscribed, have been read by now
        written = {p.relative_to(root).as_posix() for p in files_under(root)}
        assert written, written
        assert not [k for k in written if "/__" in k or f"/{config_topic}/" in k], written


# --- 3 ---------------------------------------------------------------------------------------


def test_3_every_limit_is_answered_with_a_400_naming_the_key(
    tmp_path: Path, kafka_broker: LocalKafkaBroker
) -> None:
    topic = make_topic(kafka_broker, 1)
    env_file = local_env(
        tmp_path, kafka_broker.bootstrap, topic, REGISTER_DEFAULTS="false", **LOCKED
    )
    store = f"file://{tmp_path / 'data'}"  # the .env store
    too_much = {
        "flush.size": "100000",
        "tasks.max": "60",
        "rotate.interval.ms": str(365 * 86_400_000),
        "rotate.schedule.interval.ms": str(365 * 86_400_000),  # with a timezone, below
        "filename.offset.zero.pad.width": "1000",
        "s3.part.size": str(2**40),
        "consumer.override.fetch.max.bytes": str(2**31),
        "errors.deadletterqueue.topic.replication.factor": "1000",
    }
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        for key, value in too_much.items():
            config = connector(topic, store, **{key: value})
            if key == "rotate.schedule.interval.ms":
                config["timezone"] = "UTC"
            status, answer = rest(env_file, "POST", "/connectors", {"name": "c", "config": config})
            assert status == 400 and key in answer["message"], (key, answer)
        long_name = "n" * 40_000
        status, answer = rest(
            env_file, "POST", "/connectors", {"name": long_name, "config": connector(topic, store)}
        )
        assert status == 400 and "name" in answer["message"], answer
        assert len(json.dumps(answer)) < 2000
        assert rest(env_file, "GET", "/connectors") == (200, [])


# --- 4 ---------------------------------------------------------------------------------------


def config_topic_bytes(bootstrap: str, topic: str) -> bytes:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"scan-{uuid.uuid4().hex}",
         "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    _, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    seen = b""
    deadline = time.monotonic() + 30
    position = 0
    try:
        while position < high and time.monotonic() < deadline:
            message = consumer.poll(1)
            if message is not None and message.error() is None:
                seen += (message.key() or b"") + (message.value() or b"")
                position = message.offset() + 1
    finally:
        consumer.close()
    assert position >= high, "the config topic was not read to its end"
    return seen


def test_4_secrets_are_stored_encrypted_and_shown_nowhere(
    tmp_path: Path, kafka_broker: LocalKafkaBroker, s3_endpoint: str
) -> None:
    topic = make_topic(kafka_broker, 1)
    secret_key = f"sk-{uuid.uuid4().hex}"
    url_password = f"up-{uuid.uuid4().hex}"
    endpoint_with_user = s3_endpoint.replace("://", f"://test:{url_password}@")
    config = connector(
        topic,
        endpoint_with_user,
        **{
            "aws.access.key.id": "test",
            "aws.secret.access.key": secret_key,
            "s3.region": "us-east-1",
        },
    )
    # Without a key: refused, saying how to configure one.
    locked_env = write_env(
        tmp_path / "locked.env", BROKER_HOSTNAME=kafka_broker.bootstrap, KAFKA_TOPIC=topic,
        S3_BUCKET_NAME="mybucket", S3_ENDPOINT_URL=s3_endpoint, AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_KEY="test", REGISTER_DEFAULTS="false", **LOCKED,
    )
    with Service(locked_env, tmp_path / "locked.log") as service:
        wait_for_api(locked_env, service)
        status, answer = rest(locked_env, "POST", "/connectors", {"name": "c", "config": config})
        assert status == 400 and "CONFIG_ENCRYPTION_KEY_FILE" in answer["message"], answer
        assert secret_key not in json.dumps(answer) and url_password not in json.dumps(answer)
    # With a key (the harness writes one): stored encrypted, in the topic and in the file.
    common = {
        "BROKER_HOSTNAME": kafka_broker.bootstrap, "KAFKA_TOPIC": topic,
        "S3_BUCKET_NAME": "mybucket", "S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_KEY": "test", "REGISTER_DEFAULTS": "false",
        "LOG_LEVEL": "DEBUG",
    }
    topic_env = write_env(tmp_path / "topic.env", **common)
    file_path = tmp_path / "state" / "connectors.json"
    file_env = write_env(tmp_path / "file.env", **common, CONFIG_STORAGE_FILE=str(file_path))
    answers: list[object] = []
    for env_file in (topic_env, file_env):
        log_path = tmp_path / f"{env_file.stem}.log"
        with Service(env_file, log_path) as service:
            wait_for_api(env_file, service)
            created = rest(env_file, "POST", "/connectors", {"name": "c", "config": config})
            assert created[0] == 201, created
            answers.append(created)
            time.sleep(3)  # the task starts (or fails, with a trace)
            for path in ("/connectors/c", "/connectors/c/config", "/connectors/c/status",
                         "/connectors/c/tasks", "/connectors?expand=info&expand=status"):
                answers.append(rest(env_file, "GET", path))
            assert service.stop(60) == 0
        log = log_path.read_text()
        assert secret_key not in log and url_password not in log
    shown = json.dumps(answers)
    assert secret_key not in shown and url_password not in shown
    config_topic = env_value(topic_env, "CONFIG_STORAGE_TOPIC")
    stored = config_topic_bytes(kafka_broker.bootstrap, config_topic)
    assert b'"c"' in stored or b"connector.class" in stored
    assert secret_key.encode() not in stored and url_password.encode() not in stored
    assert stat.S_IMODE(file_path.stat().st_mode) == 0o600
    text = file_path.read_text()
    assert "connector.class" in text
    assert secret_key not in text and url_password not in text

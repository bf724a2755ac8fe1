"""The control plane's locks, one group per finding of "Lock the control plane":

1. who may call the REST API (credentials, loopback default, cross-site, Host, body limits);
2. where a connector may write and which topics it may read;
3. the ceilings of every number and of names;
4. secrets: encrypted at rest, masked in answers and traces.

The same findings against the real service, broker and S3 server: tests/faults/
test_control_plane.py.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from starlette.testclient import TestClient

from kafka_s3_sink.connect.config.internal_topics import topic_blacklist
from kafka_s3_sink.connect.config.parser import parse_connector_config
from kafka_s3_sink.connect.config.policy import ConnectorPolicy
from kafka_s3_sink.connect.config.secrets_in_config import scrub
from kafka_s3_sink.connect.config.validation import mask_secrets
from kafka_s3_sink.connect.rest.app import create_app
from kafka_s3_sink.connect.rest.credentials import Credentials, read_users
from kafka_s3_sink.connect.rest.guards import AccessGuard, AccessPolicy
from kafka_s3_sink.connect.state.config_file import ConfigFile
from kafka_s3_sink.connect.state.config_topic import StoredConnector
from kafka_s3_sink.connect.state.secret_box import SecretBox
from kafka_s3_sink.pipeline.spec import ConnectorConfigError
from kafka_s3_sink.settings.variables import ConfigError, parse_settings
from kafka_s3_sink.store.spec import StoreSpec

from ..reference_data import reference_common
from .fake_registry import PLUGINS, FakeRegistry, FakeValidator, mask, sink_config

ENV = {"BROKER_HOSTNAME": "b", "KAFKA_TOPIC": "t", "S3_BUCKET_NAME": "archive"}
SECRET = "s3cr3t-Pa55word-xyzzy"
TOKEN = "token-0123456789abcdef"


# --- 1. REST access -------------------------------------------------------------------------


def test_rest_api_binds_loopback_by_default_and_needs_credentials_elsewhere() -> None:
    settings = parse_settings({**ENV, "STORE_URL": "file:///tmp/x"})
    assert settings["REST_HOST"] == "127.0.0.1"
    with pytest.raises(ConfigError, match="REST_ALLOW_UNAUTHENTICATED"):
        parse_settings({**ENV, "STORE_URL": "file:///tmp/x", "REST_HOST": "0.0.0.0"})
    opted_out = {"REST_HOST": "0.0.0.0", "REST_ALLOW_UNAUTHENTICATED": "true"}
    assert parse_settings({**ENV, "STORE_URL": "file:///tmp/x", **opted_out})
    with_users = {"REST_HOST": "0.0.0.0", "REST_BASIC_AUTH_FILE": "/etc/users.properties"}
    assert parse_settings({**ENV, "STORE_URL": "file:///tmp/x", **with_users})


def test_users_file_reads_as_kafka_connects_property_file(tmp_path: Path) -> None:
    path = tmp_path / "users.properties"
    path.write_text("# admins\nalice: wonder land\nbob=builder:2\n! comment\n")
    assert read_users(path) == {"alice": "wonder land", "bob": "builder:2"}


def _app(policy: AccessPolicy) -> TestClient:
    app = create_app(FakeRegistry(), FakeValidator(), PLUGINS, mask, "0.1.0", access=policy)
    return TestClient(app, base_url="http://127.0.0.1:8083")


@pytest.fixture
def locked() -> Iterator[TestClient]:
    credentials = Credentials({"admin": SECRET}, (TOKEN,))
    with _app(AccessPolicy(credentials=credentials)) as client:
        yield client


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_requests_without_the_right_credentials_are_refused(locked: TestClient) -> None:
    body = {"name": "c", "config": sink_config()}
    wrong = ({}, _basic("admin", "wrong"), _basic("eve", SECRET), {"Authorization": "Bearer x"})
    for headers in wrong:
        for method, path in (("GET", "/connectors"), ("POST", "/connectors")):
            response = locked.request(method, path, json=body, headers=headers)
            assert response.status_code == 401, (headers, method)
            assert response.json()["error_code"] == 401
            assert "www-authenticate" in response.headers
    assert locked.get("/connectors", headers=_basic("admin", SECRET)).status_code == 200
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert locked.post("/connectors", json=body, headers=bearer).status_code == 201


def test_cross_site_requests_are_refused() -> None:
    with _app(AccessPolicy()) as client:
        # A page of another site may POST text/plain without a preflight: refused twice over.
        form = client.post(
            "/connectors",
            content=json.dumps({"name": "c", "config": sink_config()}),
            headers={"Content-Type": "text/plain", "Origin": "http://evil.example"},
        )
        assert form.status_code == 403
        plain = client.post(
            "/connectors",
            content=json.dumps({"name": "c", "config": sink_config()}),
            headers={"Content-Type": "text/plain"},
        )
        assert plain.status_code == 415
        empty_form = client.post(
            "/connectors/c/restart", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert empty_form.status_code == 415
        fetch = client.put(
            "/admin/loggers/root",
            json={"level": "ERROR"},
            headers={"Sec-Fetch-Site": "cross-site"},
        )
        assert fetch.status_code == 403
        own = client.put(
            "/admin/loggers/root",
            json={"level": "INFO"},
            headers={"Origin": "http://127.0.0.1:8083"},
        )
        assert own.status_code == 200


def test_a_rebound_host_name_is_refused() -> None:
    with _app(AccessPolicy(allowed_hosts=frozenset({"localhost"}))) as client:
        assert client.get("/", headers={"Host": "attacker.example:8083"}).status_code == 421
        assert client.get("/", headers={"Host": "localhost:8083"}).status_code == 200
        assert client.get("/", headers={"Host": "127.0.0.1:8083"}).status_code == 200
        assert client.get("/", headers={"Host": "[::1]:8083"}).status_code == 200


def test_a_body_too_large_is_refused_before_it_is_read() -> None:
    with _app(AccessPolicy()) as client:
        response = client.put(
            "/connectors/c/config",
            content=b"{" + b" " * (2 << 20) + b"}",
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 413


def test_a_body_sent_too_slowly_is_given_up() -> None:
    """A client that sends headers then stalls holds the request for body_timeout_s only."""
    sent: list[dict[str, Any]] = []
    reached = False

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal reached
        reached = True

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)
        return {}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    guard = AccessGuard(app, AccessPolicy(allowed_hosts=None, body_timeout_s=0.2))
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/connectors",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
    }
    asyncio.run(asyncio.wait_for(guard(scope, receive, send), 5))
    assert not reached
    assert sent[0]["status"] == 408


# --- 2. where a connector may write, what it may read -----------------------------------------


ENV_STORE = StoreSpec(
    bucket="archive",
    endpoint_url="http://127.0.0.1:9000",
    access_key_id="service-key",
    secret_access_key="service-secret",
)
POLICY = ConnectorPolicy(store=ENV_STORE, reserved_topics=frozenset({"connect-configs"}))


def connector(**overrides: str | None) -> dict[str, str]:
    """A reference connector writing to the .env store; None removes a key."""
    config = {**reference_common("sensor", ENV_STORE.endpoint_url), **overrides}
    return {key: value for key, value in config.items() if value is not None}


def _error(config: dict[str, str], policy: ConnectorPolicy = POLICY) -> ConnectorConfigError:
    with pytest.raises(ConnectorConfigError) as caught:
        parse_connector_config("c", {"name": "c", **config}, policy)
    return caught.value


def _keys(config: dict[str, str], policy: ConnectorPolicy = POLICY) -> set[str]:
    error = _error(config, policy)
    return {key for key, _ in getattr(error, "errors", [(error.key, str(error))])}


def test_only_the_env_store_is_allowed_by_default(tmp_path: Path) -> None:
    own = connector(**{"store.url": "http://127.0.0.1:9000/", "s3.bucket.name": "archive"})
    assert parse_connector_config("c", {"name": "c", **own}, POLICY).store == ENV_STORE
    elsewhere = [
        {"store.url": f"file://{tmp_path}/.ssh"},
        {"store.url": "http://attacker.example:9000"},
        {"store.url": "http://127.0.0.1:9001"},
        {"store.url": None},  # AWS
    ]
    for extra in elsewhere:
        assert "store.url" in _keys(connector(**extra)), extra
    for bucket in ("other", "..", ".", "a/b"):
        config = connector(**{"store.url": ENV_STORE.endpoint_url, "s3.bucket.name": bucket})
        assert "s3.bucket.name" in _keys(config), bucket


def test_allowed_roots_cover_only_what_is_below_them(tmp_path: Path) -> None:
    root = tmp_path / "archives"
    (tmp_path / "elsewhere").mkdir()
    (root / "link").mkdir(parents=True)
    policy = ConnectorPolicy(store=ENV_STORE, places=(f"file://{root}",), buckets=None)
    below = connector(**{"store.url": f"file://{root}/x", "s3.bucket.name": "any"})
    assert parse_connector_config("c", {"name": "c", **below}, policy).store.local_root
    escaping = connector(**{"store.url": f"file://{root}/../elsewhere"})
    assert "store.url" in _keys(escaping, policy)


def test_the_service_keys_are_sent_to_its_own_endpoint_only() -> None:
    policy = ConnectorPolicy(
        store=ENV_STORE, places=("http://other:9000",), buckets=None, secrets_allowed=True
    )
    config = connector(**{"store.url": "http://other:9000"})
    assert "aws.access.key.id" in _keys(config, policy)
    config.update({"aws.access.key.id": "k", "aws.secret.access.key": "s"})
    spec = parse_connector_config("c", {"name": "c", **config}, policy)
    assert spec.store.access_key_id == "k"


def test_internal_topics_are_never_read() -> None:
    for topics in ("__consumer_offsets", "a,__transaction_state", "connect-configs"):
        assert "topics" in _keys(connector(topics=topics, **{"store.url": "http://127.0.0.1:9000"}))
    dlq = connector(
        **{
            "errors.tolerance": "all",
            "errors.deadletterqueue.topic.name": "__consumer_offsets",
            "store.url": "http://127.0.0.1:9000",
        }
    )
    assert "errors.deadletterqueue.topic.name" in _keys(dlq)
    # Every consumer of a connector ignores these topics, whatever topics.regex matches.
    patterns = topic_blacklist({"connect.configs"}).split(",")
    for internal in ("__consumer_offsets", "__transaction_state", "__x", "connect.configs"):
        assert any(re.search(pattern, internal) for pattern in patterns), internal
    for other in ("sensor", "connect.configs-2", "connectXconfigs", "_single"):
        assert not any(re.search(pattern, other) for pattern in patterns), other


# --- 3. limits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("flush.size", "100000"),
        ("tasks.max", "60"),
        ("rotate.interval.ms", str(30 * 86_400_000)),
        ("rotate.schedule.interval.ms", str(30 * 86_400_000)),
        ("filename.offset.zero.pad.width", "100000"),
        ("s3.part.size", str(2**40)),
        ("consumer.override.fetch.max.bytes", str(2**30)),
        ("errors.deadletterqueue.topic.replication.factor", "5000"),
        ("schema.cache.size", str(2**40)),  # accepted-ignored, still an INT
        ("partition.duration.ms", str(2**62)),
    ],
)
def test_every_number_has_a_ceiling_named_in_the_answer(key: str, value: str) -> None:
    config = connector(**{"store.url": "http://127.0.0.1:9000", key: value})
    assert key in _keys(config)


def test_a_name_too_long_for_a_group_id_is_refused() -> None:
    config = connector(**{"store.url": "http://127.0.0.1:9000"})
    with pytest.raises(ConnectorConfigError) as caught:
        parse_connector_config("n" * 40_000, config, POLICY)
    assert caught.value.key == "name"
    assert len(str(caught.value)) < 1000  # the answer does not echo 40,000 characters


# --- 4. secrets ------------------------------------------------------------------------------


def test_secrets_are_refused_without_a_key_and_kept_encrypted_with_one(tmp_path: Path) -> None:
    config = connector(
        **{
            "store.url": "http://127.0.0.1:9000",
            "aws.access.key.id": "id",
            "aws.secret.access.key": SECRET,
        }
    )
    error = _error(config)
    assert "CONFIG_ENCRYPTION_KEY_FILE" in str(error) and SECRET not in str(error)
    box = SecretBox(Fernet.generate_key())
    allowed = ConnectorPolicy(store=ENV_STORE, secrets_allowed=True)
    parse_connector_config("c", {"name": "c", **config}, allowed)
    path = tmp_path / "connectors.json"
    store = ConfigFile(path, box)
    store.write("c", StoredConnector({"name": "c", **config}, "RUNNING"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SECRET not in path.read_text()
    assert ConfigFile(path, box).load()["c"].config["aws.secret.access.key"] == SECRET
    other_key = ConfigFile(path, SecretBox(Fernet.generate_key())).load()["c"]
    assert other_key.error is not None and "decrypted" in other_key.error
    assert SECRET not in other_key.error


def test_credentials_in_store_url_are_masked_and_scrubbed() -> None:
    config = {"store.url": f"http://user:{SECRET}@minio:9000", "aws.secret.access.key": "k3y-s"}
    masked = mask_secrets(config)
    assert SECRET not in json.dumps(masked)
    assert masked["store.url"] == "http://user:[hidden]@minio:9000"
    trace = f"ConnectError: http://user:{SECRET}@minio:9000 refused (k3y-s)"
    assert SECRET not in scrub(trace, config) and "k3y-s" not in scrub(trace, config)
    url_error = _error(connector(**{"store.url": f"ftp://u:{SECRET}@h"}))
    assert SECRET not in str(url_error)

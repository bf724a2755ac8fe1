"""Transport security end to end: TLS and SASL to Kafka, HTTPS, a proxy and server-side
encryption to S3 (issue #14, points 3 and 4).

A real broker with a SASL_SSL listener (certificate from a CA made here, a client
certificate of the same CA required, SCRAM users made when its storage is formatted, PLAIN
users in its JAAS config) and the real moto S3 server
behind an HTTPS front (same CA) and an authenticating HTTP proxy that records what goes
through it.  Every secret used is then looked for in the service's log, the REST answers
and the config topic: none may appear.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer
from harness import (
    Service,
    env_value,
    local_env,
    rest,
    s3_objects,
    wait_for_api,
    wait_until,
    write_env,
)
from helpers import consume_all, make_bucket, produce_sinetstream, unique_name
from tls_material import (
    ClientCertificate,
    ServerCertificate,
    make_client_certificate,
    make_server_certificate,
)
from transport_proxies import RecordingProxy, TlsFront

from kafka_s3_sink.devtools.kafka_broker import LocalKafkaBroker, SaslSslListener

SCRAM_USER, SCRAM_PASSWORD = "archiver", "scram-Pw-7f3a9c1e"
PLAIN_USER, PLAIN_PASSWORD = "plainuser", "plain-Pw-2b8d4e6f"
PROXY_USER, PROXY_PASSWORD = "proxyuser", "proxy-Pw-5c1e9a3d"


@pytest.fixture(scope="module")
def kafka_tls(tmp_path_factory: pytest.TempPathFactory) -> ServerCertificate:
    return make_server_certificate(tmp_path_factory.mktemp("kafka-tls"), "kafka")


@pytest.fixture(scope="module")
def client_certificate(
    tmp_path_factory: pytest.TempPathFactory, kafka_tls: ServerCertificate
) -> ClientCertificate:
    return make_client_certificate(kafka_tls, tmp_path_factory.mktemp("client-tls"), "archiver")


@pytest.fixture(scope="module")
def secure_broker(
    tmp_path_factory: pytest.TempPathFactory, kafka_tls: ServerCertificate
) -> Iterator[LocalKafkaBroker]:
    """A broker with a SASL_SSL listener (PLAIN, SCRAM-SHA-256/512) beside PLAINTEXT, which
    the test itself uses to produce and to read the config topic."""
    listener = SaslSslListener(
        kafka_tls.cert_file,
        kafka_tls.key_file,
        {SCRAM_USER: SCRAM_PASSWORD, PLAIN_USER: PLAIN_PASSWORD},
        client_ca_file=kafka_tls.ca_file,  # clients must show a certificate it signed
    )
    broker = LocalKafkaBroker(tmp_path_factory.mktemp("secure-kafka"), sasl_ssl=listener)
    broker.start(timeout=120)
    yield broker
    broker.stop()


def _sasl_env(
    directory: Path, broker: LocalKafkaBroker, topic: str, ca: Path, mechanism: str,
    user: str, password: str, client: ClientCertificate | None,
) -> Path:
    """A .env reaching ``broker`` over SASL_SSL, showing ``client`` (which the broker
    requires) unless None."""
    files = {} if client is None else {
        "KAFKA_TLS_CERT_FILE": str(client.cert_file), "KAFKA_TLS_KEY_FILE": str(client.key_file)}
    return local_env(
        directory, broker.sasl_ssl_bootstrap, topic,
        KAFKA_SECURITY_PROTOCOL="SASL_SSL", KAFKA_SASL_MECHANISM=mechanism,
        KAFKA_SASL_USERNAME=user, KAFKA_SASL_PASSWORD=password, KAFKA_TLS_CA_FILE=str(ca),
        **files,
    )


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _config_topic_text(bootstrap: str, topic: str) -> str:
    """Every record of the config topic (keys and values), read over PLAINTEXT."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique_name("scan"),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    parts: list[str] = []
    idle_until = time.monotonic() + 15  # the first fetch waits for the group's assignment
    try:
        while time.monotonic() < idle_until:
            for message in consumer.consume(100, timeout=0.5):
                if message.error() is None:
                    parts.append(repr(message.key()) + repr(message.value()))
                    idle_until = time.monotonic() + 1.5  # the topic is read to its end
    finally:
        consumer.close()
    assert parts, f"nothing read from the config topic {topic}"
    return "\n".join(parts)


def _assert_hidden(secrets: list[str], places: dict[str, str]) -> None:
    for secret in secrets:
        for name, text in places.items():
            assert secret not in text, f"a secret appears in {name}"


def test_archives_through_sasl_ssl_with_scram_and_rest_connectors_inherit_it(
    tmp_path: Path, secure_broker: LocalKafkaBroker, kafka_tls: ServerCertificate,
    client_certificate: ClientCertificate,
) -> None:
    """Every Kafka client of the service goes through the SASL_SSL listener only: the
    reference connectors' consumers, the config topic's producer and consumer, the admin
    clients (start-up, /health, the offsets endpoint), and a REST connector's consumer,
    dead-letter topic creation and dead-letter producer."""
    topic = secure_broker.create_topic(unique_name("secure"), partitions=2)
    payloads = [f"reading {i}".encode() for i in range(5)]
    produce_sinetstream(secure_broker.bootstrap, topic, payloads)
    raw_topic = secure_broker.create_topic(unique_name("raw"), partitions=1)
    producer = Producer({"bootstrap.servers": secure_broker.bootstrap})
    producer.produce(raw_topic, b"not a SINETStream message")
    assert producer.flush(30) == 0
    env_file = _sasl_env(tmp_path, secure_broker, topic, kafka_tls.ca_file,
                         "SCRAM-SHA-512", SCRAM_USER, SCRAM_PASSWORD, client_certificate)
    data = tmp_path / "data"
    answers: list[str] = []
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        wait_until(lambda: len(_files(data / "mybucket")) == 10, 60, "the reference objects")
        bodies = [b for k, b in _files(data / "mybucket").items() if k.endswith(".bin")]
        assert sorted(bodies) == sorted(p + b"\n" for p in payloads)
        # A connector made through the REST API connects the way the service does.
        config = {
            "connector.class": "io.confluent.connect.s3.S3SinkConnector",
            "storage.class": "io.confluent.connect.s3.storage.S3Storage",
            "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
            "flush.size": "1", "topics": topic, "s3.bucket.name": "via-rest",
            "store.url": f"file://{data}",
        }
        created = rest(env_file, "POST", "/connectors", {"name": "via-rest", "config": config})
        assert created[0] == 201, created
        wait_until(lambda: len(_files(data / "via-rest")) == 5, 60, "the REST connector's objects")
        # The offsets endpoint asks the broker with an admin client: through SASL_SSL too.
        def offsets_committed() -> bool:
            status, answer = rest(env_file, "GET", "/connectors/via-rest/offsets")
            answers.append(repr(answer))
            offsets = answer.get("offsets", []) if isinstance(answer, dict) else []
            return status == 200 and sum(o["offset"]["kafka_offset"] for o in offsets) == 5
        wait_until(offsets_committed, 30, "the committed offsets of via-rest")
        # The dead-letter queue's admin client and producer connect the same way too.
        dlq = unique_name("dlq")
        created = rest(env_file, "POST", "/connectors", {"name": "with-dlq", "config": {
            **config, "topics": raw_topic, "s3.bucket.name": "with-dlq",
            "value.converter": "jp.ad.sinet.sinetstream.connect.converters.SinetStreamConverter",
            "errors.tolerance": "all", "errors.deadletterqueue.topic.name": dlq,
            "errors.deadletterqueue.topic.replication.factor": "1"}})
        assert created[0] == 201, created
        wait_until(lambda: dlq in secure_broker.admin().list_topics(timeout=5).topics, 60,
                   "the dead-letter topic, created by the task")
        [dead] = consume_all(secure_broker.bootstrap, dlq, 1, timeout=60)
        assert dead.value() == b"not a SINETStream message"
        for path in ("/connectors?expand=status&expand=info", "/connectors/s3-sink-data/config",
                     "/connectors/via-rest/status", "/connectors/with-dlq/status"):
            answers.append(repr(rest(env_file, "GET", path)))
        assert service.stop() == 0
    log = service.log()
    assert "archiving topic" in log
    config_topic = env_value(env_file, "CONFIG_STORAGE_TOPIC")
    _assert_hidden([SCRAM_PASSWORD], {
        "the log": log, "the REST answers": "\n".join(answers),
        "the config topic": _config_topic_text(secure_broker.bootstrap, config_topic),
    })


@pytest.mark.parametrize(("mechanism", "user", "password"), [
    ("PLAIN", PLAIN_USER, PLAIN_PASSWORD),
    ("SCRAM-SHA-256", SCRAM_USER, SCRAM_PASSWORD),
])
def test_archives_through_sasl_ssl_with_each_mechanism(
    tmp_path: Path, secure_broker: LocalKafkaBroker, kafka_tls: ServerCertificate,
    client_certificate: ClientCertificate, mechanism: str, user: str, password: str,
) -> None:
    topic = secure_broker.create_topic(unique_name("secure"), partitions=1)
    produce_sinetstream(secure_broker.bootstrap, topic, [b"one", b"two", b"three"])
    env_file = _sasl_env(tmp_path, secure_broker, topic, kafka_tls.ca_file, mechanism,
                         user, password, client_certificate)
    with Service(env_file, tmp_path / "service.log") as service:
        wait_until(lambda: len(_files(tmp_path / "data" / "mybucket")) == 6, 60, "the objects")
        assert service.stop() == 0
    assert password not in service.log()


def test_a_wrong_password_stops_start_up_with_one_clear_line(
    tmp_path: Path, secure_broker: LocalKafkaBroker, kafka_tls: ServerCertificate,
    client_certificate: ClientCertificate,
) -> None:
    wrong = "wrong-Pw-0d9e8f7a"
    env_file = _sasl_env(tmp_path, secure_broker, "any-topic", kafka_tls.ca_file,
                         "SCRAM-SHA-512", SCRAM_USER, wrong, client_certificate)
    with Service(env_file, tmp_path / "service.log") as service:
        assert service.wait(60) == 1
    log = service.log()
    lines = [line for line in log.splitlines() if "refused the login" in line]
    assert len(lines) == 1, log
    assert "cannot start" in lines[0] and "KAFKA_SASL_PASSWORD" in lines[0], lines[0]
    assert wrong not in log


def test_a_broker_certificate_from_an_unknown_ca_is_named(
    tmp_path: Path, secure_broker: LocalKafkaBroker, client_certificate: ClientCertificate
) -> None:
    other = make_server_certificate(tmp_path / "other", "other")  # not the broker's CA
    env_file = _sasl_env(tmp_path, secure_broker, "any-topic", other.ca_file,
                         "SCRAM-SHA-512", SCRAM_USER, SCRAM_PASSWORD, client_certificate)
    with Service(env_file, tmp_path / "service.log") as service:
        assert service.wait(60) == 1
    assert "KAFKA_TLS_CA_FILE" in service.log()


def test_without_its_client_certificate_the_service_is_refused(
    tmp_path: Path, secure_broker: LocalKafkaBroker, kafka_tls: ServerCertificate
) -> None:
    """The listener requires a client certificate: every other test here gets in with
    KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE; without them the handshake fails."""
    env_file = _sasl_env(tmp_path, secure_broker, "any-topic", kafka_tls.ca_file,
                         "SCRAM-SHA-512", SCRAM_USER, SCRAM_PASSWORD, client=None)
    with Service(env_file, tmp_path / "service.log") as service:
        assert service.wait(60) == 1
    lines = [line for line in service.log().splitlines() if "cannot start" in line]
    assert len(lines) == 1 and "the TLS connection to the Kafka broker" in lines[0], lines


@pytest.fixture
def https_s3(s3_endpoint: str, tmp_path: Path) -> Iterator[tuple[TlsFront, ServerCertificate]]:
    certificate = make_server_certificate(tmp_path / "s3-tls", "s3")
    port = int(s3_endpoint.rsplit(":", 1)[1])
    front = TlsFront(("127.0.0.1", port), certificate.cert_file, certificate.key_file)
    yield front, certificate
    front.close()


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    recording = RecordingProxy(PROXY_USER, PROXY_PASSWORD)
    yield recording
    recording.close()


def _s3_env(directory: Path, bootstrap: str, topic: str, bucket: str, endpoint: str,
            **extra: str) -> Path:
    return write_env(
        directory / ".env", BROKER_HOSTNAME=bootstrap, KAFKA_TOPIC=topic, S3_BUCKET_NAME=bucket,
        S3_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_KEY="testing",
        PROGRESS_INTERVAL_S="1", STARTUP_WAIT_S="30", **extra,
    )


def test_s3_over_https_with_a_private_ca_through_an_authenticating_proxy(
    tmp_path: Path, kafka_broker: LocalKafkaBroker, topic: str, s3_endpoint: str,
    https_s3: tuple[TlsFront, ServerCertificate], proxy: RecordingProxy,
) -> None:
    front, certificate = https_s3
    bucket = make_bucket(s3_endpoint)
    produce_sinetstream(kafka_broker.bootstrap, topic, [b"a", b"b", b"c"])
    env_file = _s3_env(tmp_path, kafka_broker.bootstrap, topic, bucket, front.url,
                       S3_CA_FILE=str(certificate.ca_file), S3_PROXY_URL=proxy.url,
                       S3_PROXY_USER=PROXY_USER, S3_PROXY_PASSWORD=PROXY_PASSWORD)
    with Service(env_file, tmp_path / "service.log") as service:
        wait_until(lambda: len(s3_objects(s3_endpoint, bucket)) == 6, 60, "the objects")
        status, config = rest(env_file, "GET", "/connectors/s3-sink-data/config")
        assert service.stop() == 0
    assert status == 200 and config["s3.proxy.url"] == proxy.url  # type: ignore[index]
    assert f"127.0.0.1:{front.port}" in proxy.seen.tunnels  # HTTPS went through the proxy
    assert front.handshake_failures == 0
    _assert_hidden([PROXY_PASSWORD], {"the log": service.log(), "the REST answer": repr(config)})

    # The same without the CA: one line naming the setting, at once.
    (tmp_path / "no-ca").mkdir()
    env_file = _s3_env(tmp_path / "no-ca", kafka_broker.bootstrap, topic, bucket, front.url)
    with Service(env_file, tmp_path / "no-ca.log") as service:
        assert service.wait(60) == 1
    lines = [line for line in service.log().splitlines() if "cannot start" in line]
    assert len(lines) == 1 and "S3_CA_FILE" in lines[0], service.log()


def _object_puts(
    proxy: RecordingProxy, bucket: str, topics_dir: str = "topics"
) -> list[dict[str, str]]:
    return [headers for method, target, headers in proxy.seen.forwarded
            if method == "PUT" and f"/{bucket}/{topics_dir}/" in target]


def test_sse_kms_headers_on_every_put(
    tmp_path: Path, kafka_broker: LocalKafkaBroker, topic: str, s3_endpoint: str,
    proxy: RecordingProxy,
) -> None:
    bucket = make_bucket(s3_endpoint)
    produce_sinetstream(kafka_broker.bootstrap, topic, [b"a", b"b"])
    key_id = "arn:aws:kms:us-east-1:123456789012:key/test-key"
    env_file = _s3_env(tmp_path, kafka_broker.bootstrap, topic, bucket, s3_endpoint,
                       S3_SSE_ALGORITHM="aws:kms", S3_SSE_KMS_KEY_ID=key_id,
                       S3_PROXY_URL=proxy.url, S3_PROXY_USER=PROXY_USER,
                       S3_PROXY_PASSWORD=PROXY_PASSWORD)
    # A connector made through the REST API chooses its own encryption (SSE-S3 here); it
    # reaches the .env store through the .env's proxy.
    rest_config = {
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
        "flush.size": "1", "topics": topic, "s3.bucket.name": bucket, "store.url": s3_endpoint,
        "topics.dir": "via-rest", "s3.ssea.name": "AES256",
    }
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        created = rest(env_file, "POST", "/connectors", {"name": "sse-s3", "config": rest_config})
        assert created[0] == 201, created
        wait_until(lambda: len(_object_puts(proxy, bucket)) >= 4, 60, "the PUTs")
        wait_until(lambda: len(_object_puts(proxy, bucket, "via-rest")) >= 2, 60, "its PUTs")
        assert service.stop() == 0
    puts = _object_puts(proxy, bucket)
    assert all(h.get("x-amz-server-side-encryption") == "aws:kms" for h in puts), puts
    assert all(h.get("x-amz-server-side-encryption-aws-kms-key-id") == key_id for h in puts)
    rest_puts = _object_puts(proxy, bucket, "via-rest")
    assert all(h.get("x-amz-server-side-encryption") == "AES256" for h in rest_puts), rest_puts
    assert not any("x-amz-server-side-encryption-aws-kms-key-id" in h for h in rest_puts)
    assert proxy.seen.refused == 0
    assert PROXY_PASSWORD not in service.log()


def test_sse_c_headers_on_every_put_and_the_key_kept_out_of_sight(
    tmp_path: Path, kafka_broker: LocalKafkaBroker, topic: str, s3_endpoint: str,
    proxy: RecordingProxy,
) -> None:
    bucket = make_bucket(s3_endpoint)
    produce_sinetstream(kafka_broker.bootstrap, topic, [b"a", b"b"])
    raw_key = os.urandom(32)
    customer_key = base64.b64encode(raw_key).decode()
    env_file = _s3_env(tmp_path, kafka_broker.bootstrap, topic, bucket, s3_endpoint,
                       S3_SSE_ALGORITHM="AES256", S3_SSE_CUSTOMER_KEY=customer_key,
                       S3_PROXY_URL=proxy.url, S3_PROXY_USER=PROXY_USER,
                       S3_PROXY_PASSWORD=PROXY_PASSWORD)
    with Service(env_file, tmp_path / "service.log") as service:
        wait_until(lambda: len(_object_puts(proxy, bucket)) >= 4, 60, "the PUTs")
        answers = [repr(rest(env_file, "GET", path)) for path in (
            "/connectors/s3-sink-data/config", "/connectors/s3-sink-timestamp",
            "/connectors?expand=info")]
        assert service.stop() == 0
    digest = base64.b64encode(hashlib.md5(raw_key).digest()).decode()
    for headers in _object_puts(proxy, bucket):
        assert headers.get("x-amz-server-side-encryption-customer-algorithm") == "AES256"
        assert headers.get("x-amz-server-side-encryption-customer-key-md5") == digest
    assert "'s3.ssea.name': 'AES256'" in answers[0]
    config_topic = env_value(env_file, "CONFIG_STORAGE_TOPIC")
    _assert_hidden([customer_key, PROXY_PASSWORD], {
        "the log": service.log(), "the REST answers": "\n".join(answers),
        "the config topic": _config_topic_text(kafka_broker.bootstrap, config_topic),
    })

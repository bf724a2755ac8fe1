"""End to end: messages the real SINETStream writer encrypted and compressed, through a real
broker, archived in plain by the real service; what cannot be decrypted becomes a dead letter
with its reason; no password or key shows anywhere the service writes or answers."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from harness import (
    Service,
    expected_objects,
    read_topic,
    rest,
    s3_env,
    s3_objects,
    wait_until,
)
from helpers import produce_sinetstream, unique_name

pytestmark = pytest.mark.integration

WRITER_TIME = 1650243600.123456
TSTAMP_US = 1650243600123456
PASSWORD = "Yaml-Pa55word-for-sensors-91c2"  # in the SINETStream config file (.env path)
REST_PASSWORD = "Rest-Pa55word-for-modes-4e7a"  # behind a ${file:...} reference (REST path)
KEY_2 = os.urandom(32)  # key version 2, as a SINETStream config server hands keys out
KEY_3 = os.urandom(32)  # key version 3: unknown to the service
GCM = {"algorithm": "AES", "mode": "GCM", "key_length": 256}
ZSTD = {"data_compression": True, "compression": {"algorithm": "zstd"}}

# One REST-created connector per writer setting (crypto settings are per service, not per
# message, in SINETStream): mode, key length, padding, KDF, compression.
REST_WRITERS: dict[str, dict[str, Any]] = {
    "cbc": {
        "crypto": {
            "mode": "CBC",
            "padding": "pkcs7",
            "key_length": 192,
            "key_derivation": {"prf": "HMAC-SHA384", "iteration": 1000},
        }
    },
    "cfb": {"crypto": {"mode": "CFB"}},
    "ofb": {"crypto": {"mode": "OFB", "key_length": 256}},
    "ctr": {"crypto": {"mode": "CTR", "key_derivation": {"prf": "HMAC-SHA512"}}},
    "openpgp": {"crypto": {"mode": "OPENPGP"}},
    "eax-gzip": {
        "crypto": {"mode": "EAX", "key_derivation": {"salt_bytes": 16}},
        "compression": {"algorithm": "gzip"},
    },
    "gzip": {"compression": {"algorithm": "gzip", "level": 9}},
    "zstd": {"compression": {"algorithm": "zstd", "level": 19}},
}

SINETSTREAM_YAML = f"""\
header:
  version: 3
config:
  sensors:
    type: kafka
    value_type: byte_array
    data_encryption: true
    crypto:
      algorithm: AES
      key_length: 256
      mode: GCM
      password: {PASSWORD}
      _keys:
        2: !!binary {base64.b64encode(KEY_2).decode()}
    data_compression: true
    compression:
      algorithm: zstd
"""


def writer_params(setting: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if "crypto" in setting:
        params["data_encryption"] = True
        params["crypto"] = {"algorithm": "AES", "password": REST_PASSWORD, **setting["crypto"]}
    if "compression" in setting:
        params["data_compression"] = True
        params["compression"] = setting["compression"]
    return params


def dotted(tree: dict[str, Any], prefix: str = "value.converter.") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(dotted(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def rest_connector(
    topic: str, setting: dict[str, Any], secrets: Path, endpoint: str, bucket: str
) -> dict[str, str]:
    """A JsonFormat connector: each object holds the decoded {tstamp, msg}."""
    params = writer_params(setting)
    params.get("crypto", {}).pop("password", None)
    config = {
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "value.converter": "jp.ad.sinet.sinetstream.connect.converters.SinetStreamConverter",
        "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "flush.size": "1",
        "topics": topic,
        "s3.bucket.name": bucket,
        "store.url": endpoint,  # the .env's store, written with its keys
        **dotted(params),
    }
    if "crypto" in setting:
        config["value.converter.crypto.password"] = (
            f"${{file:{secrets}/sinetstream.properties:password}}"
        )
    return config


def flipped(value: bytes) -> bytes:
    """The value with one ciphertext byte changed (v3 header 6 + salt 8 + nonce 16)."""
    out = bytearray(value)
    out[6 + 8 + 16 + 1] ^= 0x20
    return bytes(out)


def all_records(bootstrap: str, topic: str) -> list[bytes]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": unique_name("scan"),
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    out: list[bytes] = []
    idle_since = time.monotonic()
    try:
        while time.monotonic() - idle_since < 3:
            for message in consumer.consume(100, 0.5):
                if message.error() is None:
                    out.append((message.key() or b"") + (message.value() or b""))
                    idle_since = time.monotonic()
    finally:
        consumer.close()
    return out


def test_encrypted_and_compressed_messages_are_archived_in_plain(
    tmp_path, kafka_broker, s3_endpoint, topic_factory
):
    bootstrap = kafka_broker.bootstrap
    bucket = unique_name("encrypted")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "sinetstream.properties").write_text(f"password={REST_PASSWORD}\n")
    config_file = secrets / ".sinetstream_config.yml"
    config_file.write_text(SINETSTREAM_YAML)

    # The .env topic: key version 1 (password) and 2 (a versioned key), all GCM + zstd; then
    # a key version the service does not have, and a GCM message with a flipped byte.
    main = topic_factory(partitions=1, prefix="encrypted")
    send = {"timestamp": WRITER_TIME, **ZSTD, "data_encryption": True}
    produce_sinetstream(
        bootstrap, main, [b"v1 a", b"v1 b"], crypto={**GCM, "password": PASSWORD}, **send
    )
    produce_sinetstream(
        bootstrap, main, [b"v2 c", b"v2 d"], crypto={**GCM, "_keys": {2: KEY_2}}, **send
    )
    produce_sinetstream(bootstrap, main, [b"v3 e"], crypto={**GCM, "_keys": {3: KEY_3}}, **send)
    genuine = read_topic(bootstrap, main, 5)[0].value
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(main, flipped(genuine))
    producer.flush(10)
    main_payloads = [b"v1 a", b"v1 b", b"v2 c", b"v2 d"]

    topics = {name: topic_factory(partitions=1, prefix=name) for name in REST_WRITERS}
    payloads = {name: [f"{name} 0".encode(), os.urandom(300)] for name in REST_WRITERS}
    for name, setting in REST_WRITERS.items():
        produce_sinetstream(
            bootstrap, topics[name], payloads[name], timestamp=WRITER_TIME, **writer_params(setting)
        )

    env_file = s3_env(
        tmp_path, bootstrap, main, s3_endpoint, bucket,
        SINETSTREAM_CONFIG=str(config_file),
        SINETSTREAM_SERVICE="sensors",
        CONFIG_PROVIDERS="file",
        CONFIG_PROVIDERS_ALLOWED_PATHS=str(secrets),
    )
    answers: list[Any] = []
    with Service(env_file, tmp_path / "service.log") as service:
        wait_until(lambda: _answers(env_file) is not None, 60, "the REST API")
        for name in REST_WRITERS:
            status, body = rest(
                env_file,
                "PUT",
                f"/connectors/{name}/config",
                rest_connector(topics[name], REST_WRITERS[name], secrets, s3_endpoint, bucket),
            )
            assert status in (200, 201), body
            answers.append(body)
        # errors.tolerance=none on the .env topic, naming the same file: it fails at offset 4.
        strict = rest_connector(main, {}, secrets, s3_endpoint, bucket)
        strict.update(
            {
                "errors.tolerance": "none",
                "value.converter.sinetstream.config.file": str(config_file),
                "value.converter.sinetstream.service": "sensors",
            }
        )
        status, body = rest(env_file, "PUT", "/connectors/strict/config", strict)
        assert status in (200, 201), body
        answers.append(body)

        def done() -> bool:
            objects = s3_objects(s3_endpoint, bucket)
            json_objects = [k for k in objects if k.endswith(".json")]
            return (
                len([k for k in objects if k.startswith(f"topics/{main}/")]) >= 2 * 4 + 4
                and len([k for k in objects if k.startswith("dead-letter/")]) >= 4
                and len(json_objects) >= 2 * len(REST_WRITERS) + 4
            )

        wait_until(done, 60, "every object and dead letter")
        wait_until(lambda: _task_state(env_file, "strict") == "FAILED", 30, "strict to fail")
        answers.append(_answers(env_file))
        for name in [*REST_WRITERS, "strict", "s3-sink-data", "s3-sink-timestamp"]:
            for path in (
                f"/connectors/{name}/config",
                f"/connectors/{name}/status",
                f"/connectors/{name}/tasks/0/status",
            ):
                answers.append(rest(env_file, "GET", path)[1])
        strict_trace = rest(env_file, "GET", "/connectors/strict/tasks/0/status")[1]["trace"]
        assert service.stop() == 0, service.log()

    objects = s3_objects(s3_endpoint, bucket)
    # The .env connectors: plaintext msg and tstamp of key versions 1 and 2.
    records = read_topic(bootstrap, main, 6)
    expected = expected_objects(
        main, records[:4], lambda r: main_payloads[r.offset], lambda r: TSTAMP_US
    )
    archived = {
        k: v
        for k, v in objects.items()
        if k.startswith(f"topics/{main}/") and not k.endswith(".json")
    }
    assert archived == expected
    # The undecryptable ones: dead letters, kept raw, with their reasons.
    for offset, words in ((4, "unknown key version 3"), (5, "GCM authentication tag")):
        stem = f"dead-letter/{main}/{main}+0+{offset:010d}"
        assert objects[f"{stem}.bin"] == records[offset].value
        assert words in json.loads(objects[f"{stem}.reason.json"])["reason"]
    # errors.tolerance=none: archived up to the first one, then FAILED with the reason.
    strict_objects = sorted(
        k for k in objects if k.startswith(f"topics/{main}/") and k.endswith(".json")
    )
    assert len(strict_objects) == 4
    assert "unknown key version 3" in strict_trace
    # Every mode and compression of the REST connectors: msg and tstamp.
    for name, topic in topics.items():
        found = sorted((k, v) for k, v in objects.items() if k.startswith(f"topics/{topic}/"))
        decoded = [json.loads(v) for _, v in found]
        assert [base64.b64decode(d["msg"]) for d in decoded] == payloads[name], name
        assert {d["tstamp"] for d in decoded} == {TSTAMP_US}, name

    # No password or key anywhere: log, REST answers, archive and dead letters, config topic.
    log = service.log()
    config_topic = [
        line.split("=", 1)[1]
        for line in env_file.read_text().splitlines()
        if line.startswith("CONFIG_STORAGE_TOPIC=")
    ][0]
    haystacks = {
        "log": log.encode(),
        "REST answers": json.dumps(answers).encode(),
        "objects": b"\n".join(objects.values()),
        "config topic": b"\n".join(all_records(bootstrap, config_topic)),
    }
    secrets_used = [PASSWORD, REST_PASSWORD, base64.b64encode(KEY_2).decode(), KEY_2.hex()]
    for where, haystack in haystacks.items():
        for secret in secrets_used:
            assert secret.encode() not in haystack, f"a secret in the {where}"
        assert KEY_2 not in haystack, where
    assert "dead letter" in log


def _answers(env_file: Path) -> Any:
    try:
        status, body = rest(env_file, "GET", "/connectors?expand=status&expand=info")
    except OSError:
        return None
    return body if status == 200 else None


def _task_state(env_file: Path, name: str) -> str | None:
    status, body = rest(env_file, "GET", f"/connectors/{name}/tasks/0/status")
    return body.get("state") if status == 200 and isinstance(body, dict) else None

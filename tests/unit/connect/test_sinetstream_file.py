"""A SINETStream config file named by a connector (or by SINETSTREAM_CONFIG in .env):
read into the converter's settings at parse time, never stored, never shown."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from kafka_s3_sink.connect.config.parser import parse_connector_config
from kafka_s3_sink.connect.config.policy import ConnectorPolicy
from kafka_s3_sink.connect.config.providers import ConfigProviders
from kafka_s3_sink.connect.config.secrets_in_config import mask_config
from kafka_s3_sink.pipeline.spec import ConnectorConfigError
from kafka_s3_sink.settings.reference_connectors import reference_connector_configs
from kafka_s3_sink.settings.variables import parse_settings
from kafka_s3_sink.store.spec import StoreSpec

from ..pipeline.sinetstream_writer import encode, record
from ..reference_data import reference_data_config

PASSWORD = "yaml-Pa55word-0451"
STORE = StoreSpec(bucket="archive", endpoint_url="http://minio:9000")
WRITER_CRYPTO = {
    "algorithm": "AES",
    "key_length": 256,
    "mode": "GCM",
    "key_derivation": {"iteration": 2000, "prf": "HMAC-SHA512", "salt_bytes": 16},
    "password": PASSWORD,
}
SENSOR_YAML = f"""\
header:
  version: 3
config:
  sensors:
    type: kafka
    brokers: kafka:9092
    topic: sensors
    value_type: byte_array
    data_encryption: true
    crypto:
      algorithm: AES
      key_length: 256
      mode: GCM
      key_derivation:
        iteration: 2000
        prf: HMAC-SHA512
        salt_bytes: 16
      password:
        value: {PASSWORD}
    data_compression: true
    compression:
      algorithm: zstd
      level: 3
  other:
    type: kafka
"""


def data_config(path: Path, service: str | None = "sensors") -> dict[str, Any]:
    config = reference_data_config("sensors")
    config["value.converter.sinetstream.config.file"] = str(path)
    if service:
        config["value.converter.sinetstream.service"] = service
    return config


def writer_value(payload: bytes, **params: Any) -> bytes:
    params = params or {
        "data_encryption": True,
        "crypto": WRITER_CRYPTO,
        "data_compression": True,
        "compression": {"algorithm": "zstd", "level": 3},
    }
    return encode([payload], **params)[0]


def test_a_v3_config_file_decrypts_and_decompresses(tmp_path: Path) -> None:
    path = tmp_path / ".sinetstream_config.yml"
    path.write_text(SENSOR_YAML)
    spec = parse_connector_config("s3-sink-data", data_config(path), STORE)
    assert bytes(spec.convert(record(writer_value(b"21.5 C")))) == b"21.5 C"


def test_a_v1_file_with_its_only_service_and_a_password_file(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text(PASSWORD + "\n")
    path = tmp_path / "c.yml"
    path.write_text(
        "sensors:\n  data_encryption: true\n  crypto:\n    algorithm: AES\n    mode: CBC\n"
        f"    padding: pkcs7\n    password:\n      path: {tmp_path / 'pw'}\n"
    )
    crypto = {
        "algorithm": "AES",
        "mode": "CBC",
        "padding": "pkcs7",
        "password": {"path": str(tmp_path / "pw")},
    }
    value = writer_value(b"x", data_encryption=True, crypto=crypto)
    spec = parse_connector_config("d", data_config(path, service=None), STORE)
    assert bytes(spec.convert(record(value))) == b"x"


def test_versioned_binary_keys_as_a_config_server_gives_them(tmp_path: Path) -> None:
    k1, k2 = os.urandom(16), os.urandom(16)
    path = tmp_path / "c.yml"
    path.write_text(
        "sensors:\n  data_encryption: true\n  crypto:\n    algorithm: AES\n    mode: EAX\n"
        f"    _keys:\n      1: !!binary {base64.b64encode(k1).decode()}\n"
        f"      2: !!binary {base64.b64encode(k2).decode()}\n"
    )
    spec = parse_connector_config("d", data_config(path), STORE)
    for keys, payload in (({1: k1}, b"one"), ({1: k1, 2: k2}, b"two")):
        crypto = {"algorithm": "AES", "mode": "EAX", "_keys": keys}
        value = writer_value(payload, data_encryption=True, crypto=crypto)
        assert bytes(spec.convert(record(value))) == payload


def test_keys_of_the_connector_win_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text(SENSOR_YAML)
    config = data_config(path)
    config["value.converter.data_compression"] = "false"
    spec = parse_connector_config("d", config, STORE)
    value = writer_value(b"raw", data_encryption=True, crypto=WRITER_CRYPTO)
    assert bytes(spec.convert(record(value))) == b"raw"


@pytest.mark.parametrize(
    ("text", "service", "words"),
    [
        (SENSOR_YAML, None, "several services (other, sensors)"),
        (SENSOR_YAML, "nope", "no service 'nope'"),
        (f"sensors:\n  crypto: {{password: {PASSWORD}\n", "sensors", "not valid YAML at line"),
        (
            "sensors:\n  data_encryption: true\n  crypto:\n    mode: GCM\n"
            "    password: !sinetstream/encrypted AAAA\n",
            "sensors",
            "!sinetstream/encrypted",
        ),
        ("[]\n", None, "defines no service"),
    ],
)
def test_file_errors_name_the_problem_and_never_a_value(
    tmp_path: Path, text: str, service: str | None, words: str
) -> None:
    path = tmp_path / "c.yml"
    path.write_text(text)
    with pytest.raises(ConnectorConfigError) as caught:
        parse_connector_config("d", data_config(path, service), STORE)
    assert words in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConnectorConfigError, match="cannot read the SINETStream config"):
        parse_connector_config("d", data_config(tmp_path / "none.yml"), STORE)


def test_a_rest_connector_may_name_only_allowed_files(tmp_path: Path) -> None:
    allowed, elsewhere = tmp_path / "allowed", tmp_path / "elsewhere"
    allowed.mkdir()
    elsewhere.mkdir()
    for folder in (allowed, elsewhere):
        (folder / "c.yml").write_text(SENSOR_YAML)
    policy = ConnectorPolicy(
        store=STORE, providers=ConfigProviders(frozenset({"file"}), (allowed,))
    )
    parse_connector_config("d", data_config(allowed / "c.yml"), policy)
    with pytest.raises(ConnectorConfigError, match="not below CONFIG_PROVIDERS_ALLOWED_PATHS"):
        parse_connector_config("d", data_config(elsewhere / "c.yml"), policy)
    with pytest.raises(ConnectorConfigError, match="not below"):
        parse_connector_config("d", data_config(allowed / ".." / "elsewhere" / "c.yml"), policy)
    own = ConnectorPolicy(store=STORE, sinetstream_config=elsewhere / "c.yml")
    parse_connector_config("d", data_config(elsewhere / "c.yml"), own)


def test_env_names_the_file_and_the_password_stays_out_of_the_stored_config(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.yml"
    path.write_text(SENSOR_YAML)
    settings = parse_settings(
        {
            "BROKER_HOSTNAME": "b",
            "KAFKA_TOPIC": "sensors",
            "S3_BUCKET_NAME": "archive",
            "STORE_URL": f"file://{tmp_path}/store",
            "SINETSTREAM_CONFIG": str(path),
            "SINETSTREAM_SERVICE": "sensors",
        }
    )
    configs = reference_connector_configs(settings)
    for config in configs.values():
        assert config["value.converter.sinetstream.config.file"] == str(path)
        assert config["value.converter.sinetstream.service"] == "sensors"
        assert PASSWORD not in repr(config)
        parse_connector_config("x", config, STORE)


def test_inline_password_and_keys_are_masked() -> None:
    config = {
        "value.converter.crypto.password": PASSWORD,
        "value.converter.crypto.password.2": PASSWORD + "2",
        "value.converter.crypto.secret_key.3": "c2VjcmV0LWtleS0xMjM0NQ==",
        "value.converter.crypto.mode": "GCM",
    }
    masked = mask_config(config)
    assert PASSWORD not in repr(masked) and "c2VjcmV0" not in repr(masked)
    assert masked["value.converter.crypto.mode"] == "GCM"


def test_a_bad_file_stops_start_up_with_one_line_naming_the_variable(tmp_path: Path) -> None:
    from kafka_s3_sink.service import reference_specs
    from kafka_s3_sink.settings.variables import ConfigError

    path = tmp_path / "c.yml"
    path.write_text(
        f"s:\n  data_encryption: true\n  crypto:\n    mode: XTS\n    password: {PASSWORD}\n"
    )
    env = {
        "BROKER_HOSTNAME": "b",
        "KAFKA_TOPIC": "t",
        "S3_BUCKET_NAME": "archive",
        "STORE_URL": f"file://{tmp_path}/store",
        "SINETSTREAM_CONFIG": str(path),
    }
    with pytest.raises(ConfigError, match="^SINETSTREAM_CONFIG: Invalid value XTS") as caught:
        reference_specs(parse_settings(env))
    assert PASSWORD not in str(caught.value)
    del env["SINETSTREAM_CONFIG"]
    with pytest.raises(ConfigError, match="SINETSTREAM_SERVICE"):
        parse_settings({**env, "SINETSTREAM_SERVICE": "s"})


def test_the_readme_example_reads_what_its_writer_writes(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[3] / "README.md").read_text()
    start = readme.index("# /etc/kafka-s3-sink/.sinetstream_config.yml")
    text = readme[start : readme.index("```", start)]
    (tmp_path / "sensors.password").write_text(PASSWORD)
    path = tmp_path / "c.yml"
    path.write_text(
        text.replace("/etc/kafka-s3-sink/sensors.password", str(tmp_path / "sensors.password"))
    )
    spec = parse_connector_config("d", data_config(path), STORE)
    service = yaml.safe_load(path.read_text())["config"]["sensors"]
    writer = {
        k: service[k] for k in ("data_encryption", "crypto", "data_compression", "compression")
    }
    writer["crypto"]["key_derivation"]["iteration"] = 10000
    for keys in ({}, {"_keys": service["crypto"]["_keys"]}):
        crypto = {k: v for k, v in writer["crypto"].items() if k != "_keys"}
        if keys:
            crypto = {**{k: v for k, v in crypto.items() if k != "password"}, **keys}
        value = encode([b"reading"], **{**writer, "crypto": crypto})[0]
        assert value[4:6] == (b"\x00\x02" if keys else b"\x00\x01")
        assert bytes(spec.convert(record(value))) == b"reading"


def test_a_raw_key_of_version_1(tmp_path: Path) -> None:
    key = os.urandom(24)
    path = tmp_path / "c.yml"
    path.write_text(
        "s:\n  data_encryption: true\n  crypto:\n    algorithm: AES\n    mode: OFB\n"
        f"    key_length: 192\n    key: !!binary {base64.b64encode(key).decode()}\n"
    )
    crypto = {"algorithm": "AES", "mode": "OFB", "key_length": 192, "key": key}
    value = writer_value(b"k", data_encryption=True, crypto=crypto)
    spec = parse_connector_config("d", data_config(path, service=None), STORE)
    assert bytes(spec.convert(record(value))) == b"k"


def test_an_env_reference_for_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENSORS_PASSWORD", PASSWORD)
    config = reference_data_config("sensors")
    config.update(
        {
            "value.converter.data_encryption": "true",
            "value.converter.crypto.mode": "CTR",
            "value.converter.crypto.password": "${env:SENSORS_PASSWORD}",
        }
    )
    policy = ConnectorPolicy(store=STORE, providers=ConfigProviders(frozenset({"env"})))
    spec = parse_connector_config("d", config, policy)
    value = writer_value(
        b"e", data_encryption=True, crypto={"algorithm": "AES", "mode": "CTR", "password": PASSWORD}
    )
    assert bytes(spec.convert(record(value))) == b"e"
    assert mask_config(config)["value.converter.crypto.password"] == "${env:SENSORS_PASSWORD}"

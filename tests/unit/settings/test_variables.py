"""Settings: the reference .env, defaults, overrides and errors that name the key."""

from pathlib import Path

import pytest

from kafka_s3_sink.settings.variables import ConfigError, brokers, load_settings, parse_settings

REQUIRED = {
    "BROKER_HOSTNAME": "kafka.example.org",
    "KAFKA_TOPIC": "sinetstream.sensor",
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "S3_BUCKET_NAME": "mybucket",
}


def test_reference_defaults() -> None:
    s = parse_settings(REQUIRED)
    assert s["BROKER_HOSTNAME"] == "kafka.example.org:9092"
    assert s["S3_REGION"] == "us-east-1"
    assert s["S3_OBJECT_EXTENSION"] == ".bin"
    assert s["REST_PORT"] == 8083
    assert s["TIMEZONE"] == "Asia/Tokyo"
    assert s["LINE_SEPARATOR"] == b"\n"
    assert s.local_root is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kafka", "kafka:9092"),
        ("kafka:19092", "kafka:19092"),
        ("a, b:9093", "a:9092,b:9093"),
        ("[::1]", "[::1]:9092"),
        ("[::1]:9093", "[::1]:9093"),
    ],
)
def test_broker_hostname_forms(text: str, expected: str) -> None:
    assert brokers(text) == expected


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_missing_required_key_is_named(missing: str) -> None:
    raw = {k: v for k, v in REQUIRED.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        parse_settings(raw)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("REST_PORT", "eighty", "a TCP port"),
        ("TIMEZONE", "Mars/Olympus", "IANA time zone"),
        ("PATH_FORMAT", "'year'=YYYY/'hour'=HHQ", "Joda-Time pattern"),
        ("ERRORS_TOLERANCE", "some", "all or none"),
        ("MAX_INFLIGHT_BYTES", "-1", "positive integer"),
        ("BROKER_HOSTNAME", "host:port", "host, host:port"),
        ("STORE_URL", "ftp://x", "file:///"),
        ("CONFIG_STORAGE_FILE", "connectors.json", "/absolute/path"),
    ],
)
def test_wrong_value_names_key_and_expectation(key: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=key) as error:
        parse_settings({**REQUIRED, key: value})
    assert expected in str(error.value)


def test_local_store_needs_no_credentials() -> None:
    raw = {k: v for k, v in REQUIRED.items() if not k.startswith("AWS")}
    s = parse_settings({**raw, "STORE_URL": "file:///srv/archive"})
    assert s.local_root == Path("/srv/archive")


def test_env_file_then_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    lines = [f"{k}={v}" for k, v in REQUIRED.items()]
    env_file.write_text("\n".join(["# comment", *lines, "S3_OBJECT_EXTENSION=.json  # inline"]))
    s = load_settings(env_file, environ={"KAFKA_TOPIC": "other", "UNRELATED": "x"})
    assert s["KAFKA_TOPIC"] == "other"
    assert s["S3_OBJECT_EXTENSION"] == ".json"


def test_secret_is_not_echoed_in_errors() -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings({**REQUIRED, "DATA_CONNECTOR": "x", "TIMESTAMP_CONNECTOR": "x"})
    assert REQUIRED["AWS_SECRET_KEY"] not in str(error.value)

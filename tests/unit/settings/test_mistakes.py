"""The settings mistakes a new user makes: each gets one line naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafka_s3_sink.settings.variables import (
    ConfigError,
    load_settings,
    parse_settings,
    unknown_variable_warnings,
)

S3 = {
    "BROKER_HOSTNAME": "kafka",
    "KAFKA_TOPIC": "sensors",
    "S3_BUCKET_NAME": "archive",
    "AWS_ACCESS_KEY_ID": "minio",
    "AWS_SECRET_KEY": "minio123",
}


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("minio:9000", "the scheme is missing (did you mean http://minio:9000?)"),
        ("ftp://minio:9000", "the scheme must be http or https, not 'ftp'"),
        ("http://minio:port", "the port is not a number"),
        ("http://minio:9000/archive", "give the server only, without a path"),
    ],
)
def test_endpoint_url_needs_a_scheme_and_names_the_variable(value: str, why: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_settings({**S3, "S3_ENDPOINT_URL": value})
    message = str(raised.value)
    assert message.startswith(f"S3_ENDPOINT_URL={value!r} is not valid: expected http(s)://")
    assert why in message and "\n" not in message and "store.url" not in message


@pytest.mark.parametrize("value", ["http://minio:9000", "https://s3.example.org", "http://[::1]:9000/"])
def test_good_endpoints_pass(value: str) -> None:
    assert parse_settings({**S3, "S3_ENDPOINT_URL": value})["S3_ENDPOINT_URL"] == value


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("KAFKA_TOPIC", "sensor data"),
        ("CONFIG_STORAGE_TOPIC", "a/b"),
        ("S3_BUCKET_NAME", "a/b"),
        ("STARTUP_WAIT_S", "soon"),
        ("LOG_FORMAT", "xml"),
    ],
)
def test_every_variable_is_checked_when_read(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{key}="):
        parse_settings({**S3, key: value})


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("S3_ENDPOINT", "S3_ENDPOINT_URL"),
        ("KAFKA_TOPICS", "KAFKA_TOPIC"),
        ("BROKER_HOST", "BROKER_HOSTNAME"),
        ("REST_PROT", "REST_PORT"),
        ("S3_BUCKET", "S3_BUCKET_NAME"),
    ],
)
def test_a_misspelt_variable_is_named_with_the_likely_one(
    tmp_path: Path, typo: str, meant: str
) -> None:
    env = tmp_path / ".env"
    env.write_text("".join(f"{k}={v}\n" for k, v in {**S3, typo: "x"}.items()))
    settings = load_settings(env, environ={})
    assert settings.warnings == (
        f"{typo} in {env} is not a setting of kafka-s3-sink and is ignored; "
        f"did you mean {meant}?",
    )


def test_the_usual_aws_name_for_the_secret_is_named_in_the_error(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    values = {**S3, "AWS_SECRET_ACCESS_KEY": "minio123"}
    del values["AWS_SECRET_KEY"]
    env.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    with pytest.raises(ConfigError) as raised:
        load_settings(env, environ={})
    assert str(raised.value).startswith("AWS_SECRET_KEY is not set")
    assert "AWS_SECRET_ACCESS_KEY in" in str(raised.value)
    assert "did you mean AWS_SECRET_KEY?" in str(raised.value)


def test_other_tools_variables_are_not_reported() -> None:
    variables = {"MINIO_ROOT_USER": "x", "COMPOSE_PROJECT_NAME": "x", "TZ": "x"}
    assert unknown_variable_warnings(variables, Path(".env")) == []
    environment = {"SSL_CERT_FILE": "x", "AWS_PROFILE": "x", "KAFKA_HOME": "x", "PATH": "x"}
    assert unknown_variable_warnings(environment, None) == []


def test_an_unknown_name_with_our_prefix_is_reported_without_a_guess() -> None:
    assert unknown_variable_warnings({"S3_SOMETHING_ELSE": "x"}, Path(".env")) == [
        "S3_SOMETHING_ELSE in .env is not a setting of kafka-s3-sink and is ignored"
    ]


def test_no_env_file_says_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as raised:
        load_settings(None, environ={})
    message = str(raised.value)
    assert message.startswith(f"no .env file found at {tmp_path / '.env'}")
    assert "BROKER_HOSTNAME is not set" in message


def test_no_env_file_is_fine_when_the_environment_has_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(None, environ=S3)["KAFKA_TOPIC"] == "sensors"

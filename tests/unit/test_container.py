"""Dockerfile and compose.yaml: no container engine runs here, so what can be checked
without one is: the files parse, and they agree with the settings table."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from kafka_s3_sink.settings.variables import OPTIONS_BY_KEY, ConfigError, parse_settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
SERVICE = COMPOSE["services"]["kafka-s3-sink"]
REFERENCE_ENV = {
    "BROKER_HOSTNAME": "kafka.example.org",
    "KAFKA_TOPIC": "sensors",
    "AWS_ACCESS_KEY_ID": "minio",
    "AWS_SECRET_KEY": "minio123",
    "S3_BUCKET_NAME": "archive",
    "S3_ENDPOINT_URL": "http://minio:9000",
}


def test_the_service_reads_env_and_sets_only_known_variables() -> None:
    assert SERVICE["env_file"] == ".env"
    assert set(SERVICE["environment"]) <= set(OPTIONS_BY_KEY)


def test_the_published_port_is_rest_port_with_its_default() -> None:
    (mapping,) = SERVICE["ports"]
    match = re.fullmatch(r"127\.0\.0\.1:\$\{REST_PORT:-(\d+)\}:(\d+)", mapping)
    assert match, mapping
    assert match.group(1) == OPTIONS_BY_KEY["REST_PORT"].default
    assert match.group(2) == SERVICE["environment"]["REST_PORT"]
    assert f"EXPOSE {match.group(2)}" in DOCKERFILE


def test_inside_the_container_the_api_needs_credentials_or_an_explicit_opt_out() -> None:
    environment = {**REFERENCE_ENV, **SERVICE["environment"]}
    assert environment["REST_HOST"] == "0.0.0.0"
    with pytest.raises(ConfigError, match="REST_ALLOW_UNAUTHENTICATED"):
        parse_settings(environment)
    assert parse_settings({**environment, "REST_ALLOW_UNAUTHENTICATED": "true"})


def test_the_minio_profile_uses_the_reference_variables() -> None:
    minio = COMPOSE["services"]["minio"]
    bucket = COMPOSE["services"]["create-bucket"]
    assert minio["profiles"] == ["minio"] == bucket["profiles"]
    referenced = set(re.findall(r"(?<!\$)\$\{(\w+)", yaml.safe_dump(COMPOSE)))
    assert referenced <= set(OPTIONS_BY_KEY)
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_KEY", "S3_BUCKET_NAME"} <= referenced
    assert minio["volumes"] == ["./data:/data"]  # objects on disk as data/<bucket>/<key>
    assert bucket["depends_on"]["minio"]["condition"] == "service_healthy"


def test_the_image_runs_the_console_script_as_a_user_with_a_health_check() -> None:
    assert re.search(r"^USER (?!root)\w+", DOCKERFILE, re.M)
    assert 'ENTRYPOINT ["kafka-s3-sink"]' in DOCKERFILE
    assert re.search(r'HEALTHCHECK .*\n?.*CMD \["kafka-s3-sink", "health"\]', DOCKERFILE)


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose absent")
def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("".join(f"{k}={v}\n" for k, v in REFERENCE_ENV.items()))
    (tmp_path / "compose.yaml").write_text((ROOT / "compose.yaml").read_text())
    for profile in ([], ["--profile", "minio"]):
        done = subprocess.run(
            ["docker-compose", *profile, "config"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr

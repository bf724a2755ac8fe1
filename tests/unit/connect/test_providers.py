"""Config providers: ${env:...}, ${file:...}, ${directory:...} references in connector configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafka_s3_sink.connect.config.parser import parse_connector_config
from kafka_s3_sink.connect.config.policy import ConnectorPolicy
from kafka_s3_sink.connect.config.providers import ConfigProviders, is_reference
from kafka_s3_sink.connect.config.secrets_in_config import mask_config
from kafka_s3_sink.pipeline.spec import ConnectorConfigError
from kafka_s3_sink.store.spec import StoreSpec

from ..reference_data import reference_common

ENV_STORE = StoreSpec(bucket="archive", endpoint_url="http://127.0.0.1:9000")


@pytest.fixture
def secrets_dir(tmp_path: Path) -> Path:
    (tmp_path / "s3.properties").write_text("# S3 keys\nkey = AKIA123\nsecret: s3cr3t\n")
    (tmp_path / "password").write_text("from-a-file")
    return tmp_path


def providers(root: Path, *enabled: str) -> ConfigProviders:
    return ConfigProviders(
        enabled=frozenset(enabled or ("env", "file", "directory")),
        allowed_paths=(root,),
        reserved_env=frozenset({"AWS_SECRET_KEY"}),
    )


def test_each_provider_resolves(secrets_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITE_TOKEN", "t0k3n")
    config = {
        "a": f"${{file:{secrets_dir}/s3.properties:secret}}",
        "b": f"${{directory:{secrets_dir}:password}}",
        "c": "${env:SITE_TOKEN}",
        "d": "prefix-${env:SITE_TOKEN}-suffix",
        "e": "plain",
    }
    assert providers(secrets_dir).resolve(config) == {
        "a": "s3cr3t",
        "b": "from-a-file",
        "c": "t0k3n",
        "d": "prefix-t0k3n-suffix",
        "e": "plain",
    }


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("${vault:secret/x:key}", "not enabled"),
        ("${file:/etc/passwd:root}", "not below CONFIG_PROVIDERS_ALLOWED_PATHS"),
        ("${directory:{root}/../..:etc/passwd}", "not below"),
        ("${file:{root}/s3.properties:nope}", "has no key 'nope'"),
        ("${file:{root}/missing.properties:key}", "cannot read"),
        ("${env:NOT_SET_ANYWHERE_42}", "is not set"),
        ("${env:AWS_SECRET_KEY}", "the service's own settings"),
        ("${file:key-without-path}", "needs a path"),
    ],
)
def test_a_reference_that_cannot_be_resolved_names_its_key(
    secrets_dir: Path, value: str, words: str
) -> None:
    with pytest.raises(ConnectorConfigError) as error:
        providers(secrets_dir).resolve(
            {"aws.secret.access.key": value.replace("{root}", str(secrets_dir))}
        )
    assert error.value.key == "aws.secret.access.key"
    assert words in str(error.value)


def test_a_connector_takes_its_secret_through_a_reference(secrets_dir: Path) -> None:
    """No encryption key is needed: what is stored is the reference, not the secret."""
    policy = ConnectorPolicy(store=ENV_STORE, providers=providers(secrets_dir, "file"))
    config = {
        **reference_common("sensor", ENV_STORE.endpoint_url),
        "aws.access.key.id": f"${{file:{secrets_dir}/s3.properties:key}}",
        "aws.secret.access.key": f"${{file:{secrets_dir}/s3.properties:secret}}",
    }
    spec = parse_connector_config("c", {"name": "c", **config}, policy)
    assert (spec.store.access_key_id, spec.store.secret_access_key) == ("AKIA123", "s3cr3t")
    assert mask_config(config)["aws.secret.access.key"] == config["aws.secret.access.key"]


def test_a_masked_secret_sent_back_is_refused(secrets_dir: Path) -> None:
    policy = ConnectorPolicy(store=ENV_STORE, secrets_allowed=True)
    config = {
        **reference_common("sensor", ENV_STORE.endpoint_url),
        "aws.access.key.id": "AKIA123",
        "aws.secret.access.key": "[hidden]",
    }
    with pytest.raises(ConnectorConfigError) as error:
        parse_connector_config("clone", {"name": "clone", **config}, policy)
    assert error.value.key == "aws.secret.access.key"
    assert "send the real value or a ${provider:...} reference" in str(error.value)


def test_references_are_recognised_whole() -> None:
    assert is_reference("${env:X}") and is_reference("${file:/a/b:c}")
    assert not is_reference("x${env:X}") and not is_reference("plain")

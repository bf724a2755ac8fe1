"""Secrets masking, the validate endpoint's response, and the README's table of keys."""

from __future__ import annotations

import pytest

from kafka_s3_sink.connect.config.parser import CONFIG_KEYS, config_errors, markdown_config_table
from kafka_s3_sink.connect.config.validation import mask_secrets, validate_connector_config
from kafka_s3_sink.pipeline.spec import ConnectorConfigError

from ..reference_data import reference_data_config

TOPIC = "sensor-data"


def test_mask_secrets_hides_secret_values_as_kafka_connect_does() -> None:
    config = {"aws.secret.access.key": "s", "aws.access.key.id": "k",
              "consumer.override.ssl.key.password": "p",
              "consumer.override.sasl.jaas.config": "x required password='p';",
              "s3.proxy.password": "p", "topics": "t"}
    assert mask_secrets(config) == {
        "aws.secret.access.key": "[hidden]", "aws.access.key.id": "k",
        "consumer.override.ssl.key.password": "[hidden]",
        "consumer.override.sasl.jaas.config": "[hidden]",
        "s3.proxy.password": "[hidden]", "topics": "t",
    }


def test_validate_reference_config_has_no_errors() -> None:
    config = {"name": "s3-sink-data", **reference_data_config(TOPIC),
              "aws.secret.access.key": "secret", "aws.access.key.id": "key"}
    response = validate_connector_config("S3SinkConnector", config)
    assert response["name"] == "io.confluent.connect.s3.S3SinkConnector"
    assert response["error_count"] == 0
    assert "Common" in response["groups"]
    by_name = {item["value"]["name"]: item for item in response["configs"]}
    assert by_name["flush.size"]["value"]["value"] == "1"
    assert by_name["flush.size"]["definition"]["required"] is True
    assert by_name["aws.secret.access.key"]["value"]["value"] == "[hidden]"
    assert by_name["transforms.ExtractField.field"]["definition"]["group"] == (
        "Transforms: ExtractField"
    )
    assert set(by_name["tasks.max"]) == {"definition", "value"}
    assert set(by_name["tasks.max"]["value"]) == {
        "name", "value", "recommended_values", "errors", "visible"
    }


def test_validate_lists_each_error_under_its_key() -> None:
    config = {"name": "c", **reference_data_config(TOPIC), "flush.size": "x", "bogus": "1"}
    response = validate_connector_config("S3Sink", config)
    assert response["error_count"] == 2
    errors = {c["value"]["name"]: c["value"]["errors"] for c in response["configs"]
              if c["value"]["errors"]}
    assert set(errors) == {"flush.size", "bogus"}
    assert "Not a number" in errors["flush.size"][0]


def test_validate_refuses_other_plugins() -> None:
    with pytest.raises(ConnectorConfigError):
        validate_connector_config("FileStreamSinkConnector", {})


def test_config_errors_take_the_name_from_the_config() -> None:
    assert config_errors({"name": "c", **reference_data_config(TOPIC)}) == []
    assert [k for k, _ in config_errors(reference_data_config(TOPIC))] == ["name"]


def test_markdown_table_has_a_row_per_key() -> None:
    table = markdown_config_table()
    assert table.startswith("| key | status | default | meaning |\n|---|")
    assert len(table.strip().splitlines()) == len(CONFIG_KEYS) + 2
    assert "| `flush.size` | supported | `(required)` |" in table

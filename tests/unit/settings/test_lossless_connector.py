"""LOSSLESS_CONNECTOR: a third connector from .env, next to the two reference ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafka_s3_sink.connect.config.parser import parse_connector_config
from kafka_s3_sink.settings.reference_connectors import (
    reference_connector_configs,
    store_spec,
)
from kafka_s3_sink.settings.variables import ConfigError, parse_settings

from .test_variables import REQUIRED


def test_no_third_connector_by_default() -> None:
    configs = reference_connector_configs(parse_settings(REQUIRED))
    assert list(configs) == ["s3-sink-data", "s3-sink-timestamp"]


def test_the_lossless_connector_archives_whole_records_in_the_same_hours(tmp_path: Path) -> None:
    sinetstream_config = tmp_path / "sinetstream.yml"
    sinetstream_config.write_text("sensors:\n  type: kafka\n  brokers: k:9092\n")
    settings = parse_settings({
        **REQUIRED, "LOSSLESS_CONNECTOR": "s3-sink-lossless", "LOSSLESS_FLUSH_SIZE": "500",
        "SINETSTREAM_CONFIG": str(sinetstream_config),
    })
    configs = reference_connector_configs(settings)
    lossless = configs["s3-sink-lossless"]
    assert lossless["format.class"] == "io.kafkas3sink.format.LosslessJsonLinesFormat"
    assert lossless["flush.size"] == "500"
    assert lossless["rotate.schedule.interval.ms"] == "60000"
    assert lossless["path.format"] == configs["s3-sink-data"]["path.format"]
    # The record goes as it came: no SINETStream converter (or its file) to apply.
    assert not any(key.startswith("value.converter") for key in lossless)
    spec = parse_connector_config("s3-sink-lossless", lossless, store_spec(settings))
    assert spec.rotation.flush_size == 500


@pytest.mark.parametrize("name", ["s3-sink-data", "s3-sink-timestamp"])
def test_the_lossless_connector_needs_a_name_of_its_own(name: str) -> None:
    with pytest.raises(ConfigError, match="LOSSLESS_CONNECTOR must differ"):
        parse_settings({**REQUIRED, "LOSSLESS_CONNECTOR": name})

"""Messages made offline by the real SINETStream writer, and the connector keys that read them."""

from __future__ import annotations

from typing import Any

from sinetstream import SINETStreamMessageEncoder

from kafka_s3_sink.pipeline.converters import build_value_converter
from kafka_s3_sink.pipeline.params import Params
from kafka_s3_sink.pipeline.records import Record

TSTAMP = 1650243600.123456
TSTAMP_US = 1650243600123456


def encode(payloads: list[bytes], timestamp: float = TSTAMP, **params: Any) -> list[bytes]:
    """One writer (one salt, one key) for all ``payloads``, as a real producer."""
    with SINETStreamMessageEncoder(value_type="byte_array", **params) as encoder:
        return [encoder.encode(payload, timestamp=timestamp) for payload in payloads]


def dotted(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """A SINETStream params tree as value.converter.* keys (crypto.key_derivation.prf...)."""
    out: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(dotted(value, f"{prefix}{key}."))
        elif value is not None:
            out[f"{prefix}{key}"] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def converter(options: dict[str, str]) -> Any:
    config = {"value.converter": "SinetStreamConverter"}
    config.update({f"value.converter.{key}": value for key, value in options.items()})
    return build_value_converter(Params(config)).convert


def record(value: bytes | None, offset: int = 0) -> Record:
    return Record("sensors", 0, offset, 1_650_243_600_000, None, value)

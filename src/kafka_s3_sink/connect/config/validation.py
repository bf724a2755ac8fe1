"""The response of ``PUT /connector-plugins/{class}/config/validate``, shaped as Kafka Connect's.

``{name, error_count, groups, configs: [{definition: {...}, value: {...}}]}``: one entry per
key kafka-s3-sink knows, then one per other key of the submitted config (transform
parameters, overrides, unknown keys, the latter with their error).  Secret values show as
``[hidden]``, as Kafka Connect shows PASSWORD values; ``mask_secrets`` hides them in every
other answer (GET config, info).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...pipeline.converters import CONVERTERS
from ...pipeline.formats.catalog import BYTE_ARRAY_FORMAT, JSON_FORMAT
from ...pipeline.params import invalid, is_secret_key
from ...pipeline.partitioners import EXTRACTORS, PARTITIONERS
from .keys import CONFIG_KEYS, CONFIG_KEYS_BY_NAME, ConfigKey, lookup
from .parser import CONNECTOR_ALIASES, S3_SINK_CONNECTOR, Defaults, config_errors
from .secrets_in_config import HIDDEN, URL_KEYS, mask_config, mask_url

_CLIENT_OVERRIDES = ("consumer.override.", "producer.override.", "admin.override.")

_RECOMMENDED: dict[str, list[str]] = {
    "connector.class": ["io.confluent.connect.s3.S3SinkConnector"],
    "storage.class": ["io.confluent.connect.s3.storage.S3Storage"],
    "format.class": [BYTE_ARRAY_FORMAT, JSON_FORMAT],
    "partitioner.class": list(PARTITIONERS),
    "value.converter": list(CONVERTERS),
    "errors.tolerance": ["none", "all"],
    "behavior.on.null.values": ["fail", "ignore"],
    "s3.compression.type": ["none", "gzip"],
    "timestamp.extractor": list(EXTRACTORS),
    "json.decimal.format": ["BASE64", "NUMERIC"],
}


def validation_response(
    connector_class: str, config: Mapping[str, Any], errors: list[tuple[str, str]]
) -> dict[str, Any]:
    by_key: dict[str, list[str]] = {}
    for key, message in errors:
        by_key.setdefault(key, []).append(message)
    known = [entry.key for entry in CONFIG_KEYS if not entry.is_prefix]
    others = [key for key in dict.fromkeys([*config, *by_key]) if key not in CONFIG_KEYS_BY_NAME]
    configs = [
        {
            # Client overrides are checked against the worker's override policy, not the
            # plugin's keys: Kafka Connect gives them no definition, and neither does this.
            "definition": None
            if key.startswith(_CLIENT_OVERRIDES)
            else _definition(key, lookup(key), order),
            "value": _value(key, lookup(key), config, by_key.get(key, [])),
        }
        for order, key in enumerate([*known, *others], start=1)
    ]
    groups = (item["definition"]["group"] for item in configs if item["definition"])
    return {
        "name": connector_class,
        "error_count": sum(len(messages) for messages in by_key.values()),
        "groups": list(dict.fromkeys(groups)),
        "configs": configs,
    }


def config_definitions() -> list[dict[str, Any]]:
    """``GET /connector-plugins/{plugin}/config`` (KIP-769): every key's definition."""
    known = [entry for entry in CONFIG_KEYS if not entry.is_prefix]
    return [_definition(entry.key, entry, order) for order, entry in enumerate(known, start=1)]


def _definition(key: str, entry: ConfigKey | None, order: int) -> dict[str, Any]:
    group = entry.group if entry else "Common"
    if key.startswith("transforms.") and key.count(".") >= 2:
        group = f"Transforms: {key.split('.')[1]}"
    required = bool(entry and entry.required and not entry.is_prefix)
    return {
        "name": key,
        "type": "PASSWORD" if is_secret_key(key) else (entry.type if entry else "STRING"),
        "required": required,
        "default_value": None if required or entry is None or entry.is_prefix else entry.default,
        "importance": "HIGH" if required else "MEDIUM" if entry else "LOW",
        "documentation": f"{entry.meaning} [{entry.status}]"
        if entry
        else "unknown to kafka-s3-sink",
        "group": group,
        "width": "NONE",
        "display_name": key,
        "dependents": [],
        "order": order,
    }


def _value(
    key: str, entry: ConfigKey | None, config: Mapping[str, Any], errors: list[str]
) -> dict[str, Any]:
    if key in config and config[key] is not None:
        raw = config[key]
        value: str | None = str(raw).lower() if isinstance(raw, bool) else str(raw)
        if is_secret_key(key) or (entry is not None and entry.type == "PASSWORD"):
            value = HIDDEN
        elif value is not None:
            value = mask_url(value) if key in URL_KEYS else value
    else:
        value = None if entry is None or entry.is_prefix or entry.required else entry.default
    return {
        "name": key,
        "value": value,
        "recommended_values": _RECOMMENDED.get(key, []),
        "errors": errors,
        "visible": True,
    }


def mask_secrets(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with every secret value (passwords, secret keys, JAAS logins, the password
    of a store.url) hidden."""
    return mask_config(config)


def validate_connector_config(
    plugin_class: str, config: Mapping[str, Any], defaults: Defaults = None
) -> dict[str, Any]:
    """The body of ``PUT /connector-plugins/{class}/config/validate``, as Kafka Connect has it."""
    if plugin_class not in CONNECTOR_ALIASES:
        raise invalid(
            "connector.class",
            plugin_class,
            f"not a connector of kafka-s3-sink; supported: {S3_SINK_CONNECTOR}",
        )
    return validation_response(S3_SINK_CONNECTOR, config, config_errors(config, defaults))

"""A Kafka Connect connector config (the map POSTed to /connectors) -> a ``ConnectorSpec``.

The keys are those of Kafka Connect and of Confluent's S3 sink, read with their meanings and
defaults (keys.py lists them all).  The differences are deliberate and few:

* a key nothing here understands is refused (Kafka Connect ignores it silently), and so is
  a feature that does not exist here (``rejected`` keys with a non-default value);
* ``store.url`` may also be ``file:///path``: objects go to ``<path>/<bucket>/<key>``;
* missing ``aws.*`` credentials (and ``s3.region``) come from the service's own settings,
  the role the AWS default credential chain plays for Kafka Connect, but only for the
  service's own store: elsewhere a connector must bring its own;
* what a config may ask for is bounded: the stores the operator allows (policy.py), no
  internal topic, numbers within limits.py.

Every section is read even after one fails, so that ``validate_connector_config`` reports
all the errors at once, as Kafka Connect's validate endpoint does.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ...pipeline.conversion import compose_conversion, compose_value_conversion
from ...pipeline.converters import build_value_converter
from ...pipeline.formats.catalog import build_format
from ...pipeline.naming import InvalidObjectKey, KeyLayout, check_key_part
from ...pipeline.params import Params, alias_table, invalid, normalize_config
from ...pipeline.partitioners import Partitioning, build_partitioner, require_timezone
from ...pipeline.spec import ConnectorConfigError, ConnectorSpec, RotationSpec
from ...pipeline.transforms import build_transforms
from ...store.spec import StoreSpec
from .consumer_overrides import consumer_overrides
from .internal_topics import is_internal_topic
from .keys import (
    CONFIG_KEYS,
    CONFIG_KEYS_BY_NAME,
    ConfigKey,
    lookup,
    markdown_config_table,
)
from .limits import check_limits, check_name_length
from .policy import ConnectorPolicy, is_same_place
from .s3_transport_keys import read_s3_transport
from .secrets_in_config import HIDDEN, secret_values
from .sinetstream_file import expand as expand_sinetstream_file

__all__ = [
    "CONFIG_KEYS",
    "ConnectorConfigErrors",
    "config_errors",
    "markdown_config_table",
    "parse_connector_config",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

S3_SINK_CONNECTOR = "io.confluent.connect.s3.S3SinkConnector"
S3_STORAGE = "io.confluent.connect.s3.storage.S3Storage"
CONNECTOR_ALIASES = alias_table({S3_SINK_CONNECTOR: None}, ("Connector",))
STORAGE_ALIASES = alias_table({S3_STORAGE: None})
CONFLUENT_DEFAULT_REGION = "us-west-2"
_TOPIC = re.compile(r"[a-zA-Z0-9._-]{1,249}")
MAX_OFFSET_PAD_WIDTH = 64
_SUPPORTED_KEYS = ", ".join(k.key for k in CONFIG_KEYS if k.status == "supported")


class ConnectorConfigErrors(ConnectorConfigError):
    """All the errors of a config; ``key`` and the message lead with the first one."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        key, message = errors[0]
        more = f" (and {len(errors) - 1} more error(s))" if len(errors) > 1 else ""
        super().__init__(key, message + more)
        self.errors = errors


Defaults = StoreSpec | ConnectorPolicy | None


def parse_connector_config(
    name: str, config: Mapping[str, Any], defaults: Defaults = None
) -> ConnectorSpec:
    """The spec of connector ``name``; ConnectorConfigErrors (a ConnectorConfigError) if invalid."""
    builder = _Builder(normalize_config(config), defaults)
    spec = builder.build(name)
    if spec is None:
        raise ConnectorConfigErrors(builder.errors)
    return spec


def config_errors(
    config: Mapping[str, Any], defaults: Defaults = None
) -> list[tuple[str, str]]:
    """Every (key, message) wrong with ``config`` (its name taken from its ``name`` key)."""
    try:
        normalized = normalize_config(config)
    except ConnectorConfigError as error:
        return [(error.key, str(error))]
    builder = _Builder(normalized, defaults)
    builder.build(None)
    return builder.errors


class _Builder:
    def __init__(self, config: dict[str, str], defaults: Defaults) -> None:
        # A bare StoreSpec (library use, tests): its defaults, no allow-list.
        self.policy = defaults if isinstance(defaults, ConnectorPolicy) else None
        self.defaults = defaults.store if isinstance(defaults, ConnectorPolicy) else defaults
        self.errors: list[tuple[str, str]] = []
        # As stored (${provider:...} references unresolved), and as read: resolved.
        self.stored = config
        self.config = config
        policy = self.policy
        if policy is not None:
            resolved = self.run(lambda: policy.providers.resolve(config))
            self.config = config if resolved is None else resolved
        # A named SINETStream config file adds its reader settings (sinetstream_file.py).
        allowed = None if policy is None else policy.sinetstream_files_allowed()
        expanded = self.run(lambda: expand_sinetstream_file(self.config, allowed))
        self.config = self.config if expanded is None else expanded
        self.params = Params(self.config)

    def run(self, section: Callable[[], T]) -> T | None:
        try:
            return section()
        except ConnectorConfigErrors as error:
            self.errors.extend(error.errors)
        except ConnectorConfigError as error:
            self.errors.append((error.key, str(error)))
        return None

    def build(self, name: str | None) -> ConnectorSpec | None:
        p = self.params
        self.run(lambda: p.get_plugin("connector.class", CONNECTOR_ALIASES, "connector"))
        self.run(lambda: p.get_plugin("storage.class", STORAGE_ALIASES, "storage"))
        self.run(lambda: p.get_int("tasks.max", 1, minimum=1))
        connector_name = self.run(lambda: self._name(name))
        topics = self.run(self._topics)
        store = self.run(self._store)
        built_format = self.run(lambda: build_format(p))
        converter = self.run(lambda: build_value_converter(p))
        chain = self.run(lambda: build_transforms(p))
        layout = self.run(self._layout)
        delim = layout.directory_delim if layout else "/"
        partitioning = self.run(lambda: build_partitioner(p, delim))
        rotation = self.run(lambda: self._rotation(partitioning))
        null_values = self.run(self._null_values)
        policy = self.run(lambda: self._errors(topics[0] if topics else ()))
        overrides = self.run(lambda: consumer_overrides(self.config))
        self.run(self._remaining)
        self.run(self._limits)
        self.run(self._secrets)
        if (
            self.errors
            or connector_name is None
            or topics is None
            or store is None
            or built_format is None
            or converter is None
            or chain is None
            or layout is None
            or partitioning is None
            or rotation is None
            or null_values is None
            or policy is None
            or overrides is None
        ):
            return None
        _, record_format, compression, level = built_format
        if converter.parsed_json and not chain and hasattr(record_format, "for_documents"):
            record_format = record_format.for_documents()
        return ConnectorSpec(
            name=connector_name,
            topics=topics[0],
            topics_regex=topics[1],
            tasks_max=p.get_int("tasks.max", 1),
            convert=compose_conversion(converter, chain, null_values, record_format),
            convert_value=compose_value_conversion(converter, chain, null_values, record_format),
            by_kafka_partition=partitioning.by_kafka_partition,
            encode_partition=partitioning.encode_partition,
            record_time=partitioning.record_time,
            format=record_format,
            compression=compression,
            compression_level=level,
            key_layout=layout,
            rotation=rotation,
            store=store,
            tolerate_errors=policy[0] == "all",
            dead_letter_topic=policy[1],
            dead_letter_replication_factor=policy[2],
            dead_letter_context_headers=policy[3],
            consumer_overrides=overrides[0],
            null_values=null_values,
        )

    # --- sections -------------------------------------------------------------------------

    def _name(self, name: str | None) -> str:
        p = self.params
        given = p.get_optional("name")
        if name is None:
            name = p.get_str("name")
        elif given is not None and given != name:
            raise invalid("name", given, f"does not match the connector name {name!r}")
        if not name.strip() or any(ord(c) < 32 or ord(c) == 127 for c in name):
            raise invalid("name", name, "a connector name is non-empty, without control characters")
        check_name_length(name)
        return name

    def _reserved(self) -> frozenset[str]:
        return self.policy.reserved_topics if self.policy else frozenset()

    def _limits(self) -> None:
        already = {key for key, _ in self.errors}
        errors = [(k, m) for k, m in check_limits(self.config) if k not in already]
        if errors:
            raise ConnectorConfigErrors(errors)

    def _secrets(self) -> None:
        """Secret values are stored encrypted, which needs the worker's key; a masked value
        sent back (a GET copied into a new connector) is no secret at all."""
        masked = [key for key, value in secret_values(self.stored) if value == HIDDEN]
        if masked:
            raise ConnectorConfigErrors(
                [
                    (
                        key,
                        f"{key} is {HIDDEN}, the masked form GET shows: send the real value "
                        "or a ${provider:...} reference (see CONFIG_PROVIDERS)",
                    )
                    for key in masked
                ]
            )
        if self.policy is None or self.policy.secrets_allowed:
            return
        keys = [key for key, _ in secret_values(self.stored)]
        if keys:
            raise ConnectorConfigErrors(
                [
                    (
                        key,
                        f"{key} holds a secret, and secrets are kept only encrypted: set "
                        "CONFIG_ENCRYPTION_KEY_FILE on every worker (kafka-s3-sink keygen "
                        "writes a key), or leave the key unset (the .env store is then "
                        "written with the service's own credentials)",
                    )
                    for key in keys
                ]
            )

    def _topics(self) -> tuple[tuple[str, ...], str | None]:
        p = self.params
        topics = p.get_list("topics")
        regex = p.get_optional("topics.regex")
        if bool(topics) == bool(regex):
            message = (
                "Must configure one of topics or topics.regex"
                if not topics
                else "topics and topics.regex are mutually exclusive options, but both are set"
            )
            raise ConnectorConfigErrors([("topics", message), ("topics.regex", message)])
        for topic in topics:
            if not _TOPIC.fullmatch(topic) or topic in (".", ".."):
                raise invalid(
                    "topics",
                    p.get_str("topics"),
                    f"{topic!r} is not a legal topic "
                    "name (letters, digits, '.', '_', '-'; at most 249)",
                )
            if is_internal_topic(topic, self._reserved()):
                raise invalid(
                    "topics",
                    p.get_str("topics"),
                    f"{topic!r} is an internal topic (Kafka's, or this service's config "
                    "topic): it is never archived",
                )
        duplicates = sorted({t for t in topics if topics.count(t) > 1})
        if duplicates:
            raise invalid(
                "topics", p.get_str("topics"), f"duplicate topics: {', '.join(duplicates)}"
            )
        if regex is not None:
            try:
                re.compile(regex)
            except re.error as error:
                raise invalid("topics.regex", regex, f"not a regular expression: {error}") from None
        return tuple(topics), regex

    def _store(self) -> StoreSpec:
        p, defaults = self.params, self.defaults
        bucket = p.get_str("s3.bucket.name")
        if (
            not bucket
            or bucket in (".", "..")
            or "/" in bucket
            or "\\" in bucket
            or len(bucket) > 255
            or not bucket.isprintable()
        ):
            raise invalid(
                "s3.bucket.name", bucket, "a bucket name, not . or .., without '/' or '\\'"
            )
        region = p.get_str("s3.region", defaults.region if defaults else CONFLUENT_DEFAULT_REGION)
        if not region:
            raise invalid("s3.region", region, "a region name such as us-east-1")
        endpoint, local_root = _store_location(p.get_optional("store.url"))
        self._check_allowed(bucket, endpoint, local_root)
        access = p.get_optional("aws.access.key.id")
        secret = p.get_optional("aws.secret.access.key")
        if (access is None) != (secret is None):
            missing = "aws.secret.access.key" if secret is None else "aws.access.key.id"
            raise ConnectorConfigError(
                missing,
                f"{missing} is not set: give both "
                "aws.access.key.id and aws.secret.access.key, or neither "
                "(then the service's keys are used)",
            )
        same_place = defaults is not None and is_same_place(defaults, endpoint, local_root)
        if access is None or secret is None:
            service_keys = defaults is not None and bool(defaults.access_key_id)
            if service_keys and not same_place and local_root is None:
                # The service's keys never leave for another endpoint (or AWS).
                raise ConnectorConfigError(
                    "aws.access.key.id",
                    "aws.access.key.id is not set: the service's own keys are used only for "
                    "its own store; give aws.access.key.id and aws.secret.access.key for "
                    + ("AWS S3" if endpoint is None else _without_user(endpoint)),
                )
            access = defaults.access_key_id if defaults else ""
            secret = defaults.secret_access_key if defaults else ""
        transport = read_s3_transport(p, defaults, same_place)
        return StoreSpec(
            bucket=bucket,
            region=region,
            endpoint_url=endpoint,
            access_key_id=access,
            secret_access_key=secret,
            local_root=local_root,
            # A local folder is simply made; a bucket only where the service makes its own.
            create_bucket=local_root is not None or (same_place and defaults.create_bucket),
            **dataclasses.asdict(transport),
        )

    def _check_allowed(self, bucket: str, endpoint: str | None, local_root: Path | None) -> None:
        policy = self.policy
        if policy is None:
            return
        if not policy.allows_place(endpoint, local_root):
            where = (
                f"file://{local_root}"
                if local_root is not None
                else (_without_user(endpoint) if endpoint else "AWS S3 (store.url unset)")
            )
            raise ConnectorConfigError(
                "store.url",
                f"Invalid value {where} for configuration store.url: this worker writes only "
                f"to {policy.describe_places()} (the operator's CONNECTOR_STORES)",
            )
        if not policy.allows_bucket(bucket):
            raise invalid(
                "s3.bucket.name",
                bucket,
                "this worker writes only to the buckets "
                f"{', '.join([policy.store.bucket, *(policy.buckets or ())])} "
                "(the operator's CONNECTOR_BUCKETS)",
            )

    def _layout(self) -> KeyLayout:
        p = self.params
        topics_dir = p.get_str("topics.dir", "topics")
        _check_key_part("topics.dir", topics_dir, "the first part of every key")
        directory_delim = p.get_str("directory.delim", "/")
        file_delim = p.get_str("file.delim", "+")
        for key, delim in (("directory.delim", directory_delim), ("file.delim", file_delim)):
            if not delim or not delim.isprintable():
                raise invalid(key, delim, "a separator is one or more printable characters")
        width = p.get_int("filename.offset.zero.pad.width", 10, minimum=0)
        if width > MAX_OFFSET_PAD_WIDTH:
            # An offset has at most 19 digits; a wider pad only inflates every key.
            raise invalid(
                "filename.offset.zero.pad.width",
                str(width),
                f"Value must be at most {MAX_OFFSET_PAD_WIDTH}",
            )
        return KeyLayout(topics_dir, directory_delim, file_delim, width)

    def _rotation(self, partitioning: Partitioning | None) -> RotationSpec:
        p = self.params
        flush_size = p.get_int("flush.size", minimum=1)
        interval: int | None = p.get_int("rotate.interval.ms", -1)
        scheduled: int | None = p.get_int("rotate.schedule.interval.ms", -1)
        if interval is not None and interval <= 0:
            interval = None
        if interval and partitioning is not None and partitioning.record_time is None:
            log.warning(
                "rotate.interval.ms=%s is ignored: %s has no timestamp extractor "
                "(as in Confluent's sink, it applies to time-based partitioners only)",
                interval,
                partitioning.class_name.rsplit(".", 1)[-1],
            )
            interval = None
        if scheduled is not None and scheduled > 0:
            require_timezone(p)
        else:
            scheduled = None
        return RotationSpec(flush_size, interval, scheduled)

    def _null_values(self) -> str:
        value = self.params.get_choice(
            "behavior.on.null.values", "fail", ("fail", "ignore", "write")
        )
        if value == "write":
            raise invalid(
                "behavior.on.null.values",
                value,
                "write needs store.kafka.keys, "
                "which kafka-s3-sink does not support; use fail or ignore",
            )
        return value

    def _errors(self, topics: tuple[str, ...]) -> tuple[str, str | None, int, bool]:
        p = self.params
        tolerance = p.get_choice("errors.tolerance", "none", ("none", "all"))
        topic = p.get_optional("errors.deadletterqueue.topic.name")
        if topic is not None and topic in topics:
            raise invalid(
                "errors.deadletterqueue.topic.name",
                topic,
                "the dead-letter topic may not be one of the topics the connector consumes",
            )
        if topic is not None and is_internal_topic(topic, self._reserved()):
            raise invalid(
                "errors.deadletterqueue.topic.name",
                topic,
                "an internal topic (Kafka's, or this service's config topic) is never written",
            )
        factor = p.get_int("errors.deadletterqueue.topic.replication.factor", 3, minimum=-1)
        if factor == 0:
            raise invalid(
                "errors.deadletterqueue.topic.replication.factor",
                "0",
                "a replication factor is -1 (the broker's default) or at least 1",
            )
        headers = p.get_bool("errors.deadletterqueue.context.headers.enable", False)
        return tolerance, topic, factor, headers

    def _remaining(self) -> None:
        """Every key no section read: accepted-ignored (type-checked), rejected, or unknown."""
        p = self.params
        for key in list(self.config):
            if key in p.used:
                continue
            entry = lookup(key)
            if entry is None:
                raise ConnectorConfigError(key, _unknown_key_message(key))
            if entry.status == "rejected":
                _check_rejected(entry, key, self.config[key])
            elif not entry.is_prefix:
                _check_type(p, entry)
        size = p.get_int("s3.part.size", 26_214_400)
        if not 5 * 1024 * 1024 <= size <= 2**31 - 1:
            raise invalid("s3.part.size", str(size), "Part size must be between 5 MiB and 2 GiB")


def _store_location(url: str | None) -> tuple[str | None, Path | None]:
    """``store.url`` -> (S3 endpoint, local root); (None, None) is AWS S3."""
    if url is None:
        return None, None
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return url.rstrip("/"), None
    if parts.scheme == "file" and parts.path.startswith("/") and not parts.netloc:
        return None, Path(parts.path)
    raise invalid(
        "store.url",
        _without_user(url),
        "expected an S3 endpoint (http(s)://host:port) or a local "
        "directory (file:///absolute/path)",
    )


def _without_user(url: str) -> str:
    """``url`` with any user:password@ part hidden: error messages are logged and shown."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="[hidden]@" + parts.netloc.rsplit("@", 1)[1]).geturl()


def _check_key_part(key: str, value: str, what: str) -> None:
    try:
        check_key_part(value, what)
    except InvalidObjectKey as error:
        raise invalid(key, value, error.reason) from None


def _check_rejected(entry: ConfigKey, key: str, value: str) -> None:
    # A class may be named by its simple name too.
    accepted = {name.lower() for a in entry.allowed for name in (a, a.rsplit(".", 1)[-1])}
    if value.strip().lower() in accepted:
        return
    shown = " or ".join(a for a in entry.allowed if a)
    raise invalid(
        key,
        value,
        f"not supported by kafka-s3-sink: {entry.meaning}"
        + (f"; only {shown} is accepted" if shown else "; leave it unset"),
    )


def _check_type(p: Params, entry: ConfigKey) -> None:
    if entry.type == "BOOLEAN":
        p.get_bool(entry.key, entry.default == "true")
    elif entry.type in ("INT", "LONG", "SHORT"):
        p.get_int(entry.key, int(entry.default or 0))
    else:
        p.raw(entry.key)


def _unknown_key_message(key: str) -> str:
    close = difflib.get_close_matches(key, CONFIG_KEYS_BY_NAME, n=1, cutoff=0.75)
    hint = f" Did you mean {close[0]}?" if close else ""
    return (
        f"Unknown configuration {key}: kafka-s3-sink does not know it (Kafka Connect "
        f"would ignore it silently).{hint} Supported: {_SUPPORTED_KEYS}"
    )

"""``consumer.override.*``: Java consumer settings -> librdkafka (confluent-kafka) settings.

Kafka Connect hands these to the Java consumer of the connector's tasks.  Our consumer is
librdkafka: most settings have an equivalent, under the same name or another; those that
have none (Java-only mechanisms such as JKS trust stores, or settings Kafka Connect manages
itself, such as offset commits) are refused with the reason, never dropped.

``consumer.override.group.id`` is passed on as ``group.id``: the engine uses it instead of
``connect-<connector name>``, as Kafka Connect does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from ...pipeline.params import invalid
from ...pipeline.spec import ConnectorConfigError

PREFIX = "consumer.override."

# Same name, same meaning in both clients.
_SAME = (
    "group.id",
    "group.instance.id",
    "client.id",
    "client.rack",
    "bootstrap.servers",
    "fetch.min.bytes",
    "fetch.max.bytes",
    "max.partition.fetch.bytes",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "max.poll.interval.ms",
    "metadata.max.age.ms",
    "reconnect.backoff.ms",
    "reconnect.backoff.max.ms",
    "retry.backoff.ms",
    "connections.max.idle.ms",
    "check.crcs",
    "security.protocol",
    "sasl.mechanism",
    "sasl.kerberos.service.name",
    "ssl.endpoint.identification.algorithm",
    "ssl.key.password",
    "ssl.keystore.password",
    "ssl.cipher.suites",
    "socket.connection.setup.timeout.ms",
)
# Renamed in librdkafka.
_RENAMED = {
    "fetch.max.wait.ms": "fetch.wait.max.ms",
    "receive.buffer.bytes": "socket.receive.buffer.bytes",
    "send.buffer.bytes": "socket.send.buffer.bytes",
    "request.timeout.ms": "socket.timeout.ms",
    "ssl.enabled.protocols": "ssl.protocols",
}
# No equivalent, or owned by Kafka Connect itself: refused with the reason.
_REFUSED = {
    "enable.auto.commit": "offsets are committed by the connector once objects are stored",
    "auto.commit.interval.ms": "offsets are committed by the connector once objects are stored",
    "key.deserializer": "records are read as bytes and converted by key.converter",
    "value.deserializer": "records are read as bytes and converted by value.converter",
    "max.poll.records": "librdkafka has no per-poll record limit (it batches internally)",
    "interceptor.classes": "Java interceptors cannot run in this service",
    "exclude.internal.topics": "internal topics are never archived",
    "default.api.timeout.ms": "librdkafka has no equivalent",
}
_ASSIGNORS = {
    "org.apache.kafka.clients.consumer.RangeAssignor": "range",
    "org.apache.kafka.clients.consumer.RoundRobinAssignor": "roundrobin",
    "org.apache.kafka.clients.consumer.CooperativeStickyAssignor": "cooperative-sticky",
}
_JAAS = re.compile(
    r"org\.apache\.kafka\.common\.security\.(?:plain\.PlainLoginModule|"
    r"scram\.ScramLoginModule)\s+required\s+(.*?);?\s*$",
    re.DOTALL,
)
_JAAS_OPTION = re.compile(r"""(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+?))(?=\s|;|$)""")


def _offset_reset(key: str, value: str) -> dict[str, str]:
    mapped = {"earliest": "earliest", "latest": "latest", "none": "error"}.get(value.lower())
    if mapped is None:
        raise invalid(key, value, "String must be one of: earliest, latest, none")
    return {"auto.offset.reset": mapped}


def _isolation(key: str, value: str) -> dict[str, str]:
    if value.lower() not in ("read_committed", "read_uncommitted"):
        raise invalid(key, value, "String must be one of: read_committed, read_uncommitted")
    return {"isolation.level": value.lower()}


def _assignors(key: str, value: str) -> dict[str, str]:
    names = []
    for item in (part.strip() for part in value.split(",") if part.strip()):
        name = _ASSIGNORS.get(item) or _ASSIGNORS.get(f"org.apache.kafka.clients.consumer.{item}")
        if name is None:
            raise invalid(
                key,
                value,
                f"{item} has no librdkafka equivalent; supported: {', '.join(_ASSIGNORS)}",
            )
        names.append(name)
    return {"partition.assignment.strategy": ",".join(names)}


def _jaas(key: str, value: str) -> dict[str, str]:
    """PLAIN and SCRAM logins carry a user name and password, which librdkafka takes apart."""
    match = _JAAS.match(value.strip())
    if match is None:
        raise invalid(
            key,
            value,
            "only the PlainLoginModule and ScramLoginModule logins "
            "(username and password) have a librdkafka equivalent",
        )
    options = {
        name: next(v for v in rest if v is not None)
        for name, *rest in _JAAS_OPTION.findall(match.group(1))
    }
    if "username" not in options or "password" not in options:
        raise invalid(key, value, "the login needs username and password options")
    return {"sasl.username": options["username"], "sasl.password": options["password"]}


def _trust_store(overrides: Mapping[str, str]) -> Callable[[str, str], dict[str, str]]:
    def convert(key: str, value: str) -> dict[str, str]:
        if overrides.get(PREFIX + "ssl.truststore.type", "JKS").upper() != "PEM":
            raise invalid(
                key,
                value,
                "librdkafka reads PEM certificates only: convert the "
                "trust store to PEM and set consumer.override.ssl.truststore.type=PEM",
            )
        return {"ssl.ca.location": value}

    return convert


def _key_store(overrides: Mapping[str, str]) -> Callable[[str, str], dict[str, str]]:
    def convert(key: str, value: str) -> dict[str, str]:
        if overrides.get(PREFIX + "ssl.keystore.type", "JKS").upper() != "PKCS12":
            raise invalid(
                key,
                value,
                "librdkafka reads PKCS#12 key stores only: convert it "
                "and set consumer.override.ssl.keystore.type=PKCS12",
            )
        return {"ssl.keystore.location": value}

    return convert


def _store_type(key: str, value: str) -> dict[str, str]:
    return {}  # read by the trust/key store conversions above


_CONVERTED = (
    "auto.offset.reset",
    "isolation.level",
    "partition.assignment.strategy",
    "sasl.jaas.config",
    "ssl.truststore.location",
    "ssl.truststore.type",
    "ssl.keystore.location",
    "ssl.keystore.type",
)
SUPPORTED_CONSUMER_SETTINGS = tuple(sorted((*_SAME, *_RENAMED, *_CONVERTED)))


def consumer_overrides(config: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The librdkafka settings of ``consumer.override.*``: (settings, keys read)."""
    special: dict[str, Callable[[str, str], dict[str, str]]] = {
        "auto.offset.reset": _offset_reset,
        "isolation.level": _isolation,
        "partition.assignment.strategy": _assignors,
        "sasl.jaas.config": _jaas,
        "ssl.truststore.location": _trust_store(config),
        "ssl.keystore.location": _key_store(config),
        "ssl.truststore.type": _store_type,
        "ssl.keystore.type": _store_type,
    }
    out: dict[str, str] = {}
    keys = [key for key in config if key.startswith(PREFIX)]
    for key in keys:
        name, value = key[len(PREFIX) :], config[key].strip()
        if name in _SAME:
            out[name] = value
        elif name in _RENAMED:
            out[_RENAMED[name]] = value
        elif name in special:
            out.update(special[name](key, value))
        elif name in _REFUSED:
            raise invalid(key, value, f"not supported: {_REFUSED[name]}")
        else:
            raise ConnectorConfigError(
                key,
                f"Unknown configuration {key}: the consumer setting {name!r} has no "
                f"librdkafka equivalent known to kafka-s3-sink; supported: "
                f"{', '.join(SUPPORTED_CONSUMER_SETTINGS)}",
            )
    return out, keys

"""The Kafka end: consumer settings, start-up checks, and records from librdkafka messages."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, KafkaError, KafkaException, Message
from confluent_kafka.admin import AdminClient

from ..pipeline.records import Record


class BrokerError(RuntimeError):
    """The broker cannot be used as configured; the message says what to do."""


class BrokerUnreachable(BrokerError):
    """No broker answered (yet): worth waiting for, as Kafka Connect does at start-up."""


class TopicMissing(BrokerError):
    """The broker answers but the topic does not exist (yet): worth waiting for too."""


class StartupTimeout(RuntimeError):
    """A dependency was still missing when STARTUP_WAIT_S ran out."""


# Errors of a broker that answers and refuses us: waiting will not change them.
_REFUSALS = {
    KafkaError.SASL_AUTHENTICATION_FAILED,
    KafkaError.CLUSTER_AUTHORIZATION_FAILED,
    KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError._SSL,
    KafkaError._AUTHENTICATION,
}


# TLS and SASL settings (librdkafka names) of every client: one service talks to one
# cluster, so they are set once at start-up (use_security) rather than passed down through
# every layer that only knows the bootstrap address.
_security: dict[str, str] = {}


def use_security(settings: Mapping[str, str]) -> None:
    """Make every Kafka client made from now on connect with ``settings``
    (security.protocol, ssl.*, sasl.*)."""
    _security.clear()
    _security.update(settings)


def client_config(bootstrap: str) -> dict[str, Any]:
    """How every Kafka client of the service connects: the brokers, and whatever connection
    and security settings the service is given.  Every Producer, Consumer and AdminClient
    of the service starts from this, so that none connects differently from the others."""
    return {"bootstrap.servers": bootstrap, **_security}


# Prefetch per consumer (librdkafka's queue, and the largest fetch response): batch mode
# reads ahead to keep its rate; one object per record is bound by the store's request rate,
# where a deep prefetch only costs memory (two reference connectors stay under 100 MB).
BATCH_PREFETCH_KB = 4096
BATCH_FETCH_BYTES = 8 * 1024 * 1024
PER_RECORD_PREFETCH_KB = 1024
PER_RECORD_FETCH_BYTES = 2 * 1024 * 1024


def consumer_config(
    bootstrap: str,
    group_id: str,
    overrides: dict[str, Any] | None = None,
    per_record_objects: bool = False,
) -> dict[str, Any]:
    """A task's consumer; ``per_record_objects``: the connector writes an object per record
    (flush.size=1), so it prefetches less."""
    fetch_bytes = PER_RECORD_FETCH_BYTES if per_record_objects else BATCH_FETCH_BYTES
    config: dict[str, Any] = {
        **client_config(bootstrap),
        "group.id": group_id,
        # Offsets are committed by us, only once the objects are stored.
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        # A new group starts at the beginning, like a Kafka Connect sink.
        "auto.offset.reset": "earliest",
        # Prefetch is memory. A message larger than these still comes through, alone (the
        # broker always returns at least one), so 10 MB images need no bigger settings.
        "queued.max.messages.kbytes": (
            PER_RECORD_PREFETCH_KB if per_record_objects else BATCH_PREFETCH_KB
        ),
        "fetch.max.bytes": fetch_bytes,
        "max.partition.fetch.bytes": fetch_bytes,
        # With small queues the fetcher often finds them full; librdkafka then waits
        # fetch.queue.backoff.ms (1 s by default) before fetching again, which capped batch
        # mode near 30k records/s. 10 ms: 130k records/s here.
        "fetch.queue.backoff.ms": 10,
        # After a crash the group waits this long for the dead member before handing its
        # partitions to the restarted one: 10 s, not librdkafka's 45 s.
        "session.timeout.ms": 10000,
        "client.id": f"kafka-s3-sink-{group_id}",
        "log_level": 3,
    }
    # A connector's consumer.override.* wins, but the group stays the one chosen by name.
    config.update({k: v for k, v in (overrides or {}).items() if k != "group.id"})
    return config


class ProbeClient(AdminClient):  # type: ignore[misc]
    """An AdminClient that keeps the connection errors librdkafka reports.

    A broker that refuses the login (SASL) or whose certificate fails the check (TLS) looks
    like an unreachable one to ``list_topics`` (a transport failure after the timeout);
    only these reports say why.  They are delivered by ``poll()`` in the calling thread,
    unlike log callbacks, so they carry no deadlock risk (see probe_client)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.errors: deque[KafkaError] = deque(maxlen=16)
        super().__init__({**config, "error_cb": self.errors.append})

    def fresh(self) -> None:
        """Forget what was reported before now."""
        self.poll(0)
        self.errors.clear()

    def refusal(self) -> KafkaError | None:
        """The last login or TLS failure reported since ``fresh()``, if any."""
        self.poll(0)
        return next((e for e in reversed(self.errors) if _is_login_failure(e)), None)


def _is_tls_failure(error: KafkaError) -> bool:
    # A TLS alert from the broker (a client certificate it requires or refuses) arrives
    # as a transport error: only OpenSSL's words in it tell it from a dropped connection.
    # A connection cut mid-handshake (a broker restarting) names no certificate or alert,
    # and stays something to wait for.
    text = error.str()
    tls = error.code() == KafkaError._SSL or "SSL routines" in text
    return tls and ("certificate" in text or "alert" in text)


def _is_login_failure(error: KafkaError) -> bool:
    return (
        error.code() in (KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED)
        or _is_tls_failure(error)
    )


def probe_client(bootstrap: str) -> ProbeClient:
    """One AdminClient for repeated reachability checks (start-up waits, /health).

    Made once and kept: a client with a Python log callback that is destroyed while the
    broker is away can deadlock the process (librdkafka's threads wait for the GIL to log
    while the destroying thread holds it and waits for them).  So no callback here: level 0
    keeps librdkafka's connection-refused chatter off stderr by itself."""
    return ProbeClient({**client_config(bootstrap), "log_level": 0})


def _refused(bootstrap: str, error: KafkaError) -> BrokerError:
    """The one line for a broker that refuses this service's login or certificate check."""
    if _is_tls_failure(error):
        return BrokerError(
            f"the TLS connection to the Kafka broker at {bootstrap} failed ({error.str()}): "
            "check KAFKA_TLS_CA_FILE (the CA that signed the broker's certificate), "
            "KAFKA_TLS_CERT_FILE/KAFKA_TLS_KEY_FILE, and KAFKA_SECURITY_PROTOCOL"
        )
    return BrokerError(
        f"the Kafka broker at {bootstrap} refused the login ({error.str()}): check "
        "KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM"
    )


def check_topic(
    bootstrap: str, topic: str | None, timeout_s: float = 15.0, admin: AdminClient | None = None
) -> tuple[int, str]:
    """Fail with a clear message if the broker is unreachable or the topic is missing.

    Returns the topic's partition count (0 when ``topic`` is None: reachability only) and
    the cluster id.  Raises BrokerUnreachable or TopicMissing (the caller may wait for
    them), or BrokerError when the broker refuses us (it will again: stop).
    """
    if admin is None:
        admin = ProbeClient({**client_config(bootstrap), "log_level": 0, "logger": _quiet})
    if isinstance(admin, ProbeClient):
        admin.fresh()
    try:
        # All topics, not just ours: asking for one topic by name may auto-create it.
        metadata = admin.list_topics(timeout=timeout_s)
    except KafkaException as error:
        kafka_error: KafkaError = error.args[0]
        refusal = admin.refusal() if isinstance(admin, ProbeClient) else None
        if refusal is not None:
            raise _refused(bootstrap, refusal) from None
        if kafka_error.fatal() or kafka_error.code() in _REFUSALS:
            raise BrokerError(
                f"the Kafka broker at {bootstrap} refused the connection "
                f"({kafka_error.str()}): check the credentials and rights of this service"
            ) from None
        raise BrokerUnreachable(
            f"cannot reach the Kafka broker at {bootstrap} ({kafka_error.str()}): check "
            "BROKER_HOSTNAME and that the broker is running and reachable from here"
        ) from None
    if topic is None:
        return 0, metadata.cluster_id
    found = metadata.topics.get(topic)
    if found is None or found.error is not None:
        raise TopicMissing(
            f"topic {topic!r} does not exist on the broker at {bootstrap}: create it, or "
            "correct KAFKA_TOPIC"
        )
    return len(found.partitions), metadata.cluster_id


class _QuietLogger:
    """Swallows librdkafka's own connection-refused chatter during the start-up check."""

    def log(self, *_args: Any, **_kwargs: Any) -> None:
        return None

    def __getattr__(self, _name: str) -> Any:
        return self.log


_quiet = _QuietLogger()


def to_record(message: Message) -> Record:
    kind, timestamp = message.timestamp()
    headers = message.headers()
    return Record(
        topic=message.topic(),
        partition=message.partition(),
        offset=message.offset(),
        timestamp_ms=None if kind == TIMESTAMP_NOT_AVAILABLE else timestamp,
        key=message.key(),
        value=message.value(),
        headers=tuple(headers) if headers else (),
        timestamp_type=kind,
    )


def is_fatal(error: KafkaError) -> bool:
    return error.fatal() or error.code() in (
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.GROUP_AUTHORIZATION_FAILED,
        KafkaError.SASL_AUTHENTICATION_FAILED,
    )

"""A sink connector's offsets: its consumer group's committed offsets, read and changed.

As in Kafka Connect (KIP-875), a sink connector's offsets are those of its consumer group
(``connect-<name>``): listing reads them; altering commits new ones for the partitions given
(a null offset puts a partition back where a new group starts, the ``auto.offset.reset``
end); resetting deletes the group, so the connector starts over as a new one.  Changes need
the group to be empty: the connector stopped on every worker.

Blocking AdminClient calls: run them in a thread.
"""

from __future__ import annotations

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from ...engine.kafka_io import client_config
from ..registry import Conflict

Partition = tuple[str, int]
_TIMEOUT_S = 10
# The group still has members: some worker has not stopped the connector's tasks yet.
_BUSY = {
    KafkaError.NON_EMPTY_GROUP,
    KafkaError.UNKNOWN_MEMBER_ID,
    KafkaError.REBALANCE_IN_PROGRESS,
}


class OffsetChangeError(ValueError):
    """The offsets asked for cannot be set (unknown partition, bad offset): HTTP 400."""


def committed(bootstrap: str, group: str) -> dict[Partition, int]:
    admin = AdminClient(client_config(bootstrap))
    request = ConsumerGroupTopicPartitions(group)
    futures = admin.list_consumer_group_offsets([request], request_timeout=_TIMEOUT_S)
    result = futures[group].result()
    return {(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions if tp.offset >= 0}


def alter(
    bootstrap: str, group: str, offsets: dict[Partition, int | None], reset_to: str
) -> None:
    """Commit ``offsets`` for ``group``; None: the partition's ``reset_to`` end."""
    admin = AdminClient(client_config(bootstrap))
    ends = _ends(admin, [p for p, offset in offsets.items() if offset is None], reset_to)
    partitions = [
        TopicPartition(topic, partition, ends[(topic, partition)] if offset is None else offset)
        for (topic, partition), offset in sorted(offsets.items())
    ]
    request = ConsumerGroupTopicPartitions(group, partitions)
    try:
        admin.alter_consumer_group_offsets([request], request_timeout=_TIMEOUT_S)[group].result()
    except KafkaException as error:
        raise _translated(error, group) from None


def reset(bootstrap: str, group: str) -> None:
    """Delete ``group``: the connector starts again as a new group (nothing if none exists)."""
    admin = AdminClient(client_config(bootstrap))
    try:
        admin.delete_consumer_groups([group], request_timeout=_TIMEOUT_S)[group].result()
    except KafkaException as error:
        if error.args[0].code() == KafkaError.GROUP_ID_NOT_FOUND:
            return
        raise _translated(error, group) from None


def _ends(admin: AdminClient, partitions: list[Partition], reset_to: str) -> dict[Partition, int]:
    if not partitions:
        return {}
    spec = OffsetSpec.latest() if reset_to == "latest" else OffsetSpec.earliest()
    request = {TopicPartition(topic, partition): spec for topic, partition in partitions}
    ends: dict[Partition, int] = {}
    try:
        for tp, future in admin.list_offsets(request, request_timeout=_TIMEOUT_S).items():
            ends[(tp.topic, tp.partition)] = future.result().offset
    except KafkaException as error:
        raise OffsetChangeError(f"cannot find where to reset: {error.args[0].str()}") from None
    return ends


def _translated(error: KafkaException, group: str) -> Exception:
    kafka_error = error.args[0]
    if kafka_error.code() in _BUSY:
        return Conflict(
            f"the consumer group {group} still has active members: the connector's tasks "
            "have not stopped on every worker yet; try again shortly"
        )
    return OffsetChangeError(f"Kafka refused the change of {group}: {kafka_error.str()}")

"""Several workers on one config topic while the stream goes on: one joins, one is SIGKILLed,
one leaves; and a worker frozen (SIGSTOP) past its session, whose partitions another worker
took, must not overwrite newer objects when it wakes up (SIGCONT)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest
from audit import LocalStore, audit, batch_expectation, count_under, reference_expectation
from chaos import (
    WRITER_TIME,
    BackgroundProducer,
    ByteWatcher,
    alive_check,
    payloads,
    records_now,
    stop_cleanly,
    wait_for_commits,
    wait_for_objects,
    wait_until_ready,
    worker_envs,
)
from harness import Service, rest, wait_until
from helpers import produce_sinetstream

S3_SINK = "io.confluent.connect.s3.S3SinkConnector"
BYTE_ARRAY = "org.apache.kafka.connect.converters.ByteArrayConverter"
SESSION_TIMEOUT_S = 10  # the service's consumers' session.timeout.ms


def assigned_lines(service: Service, since: int = 0) -> list[str]:
    return [line for line in service.log()[since:].splitlines() if ": assigned " in line]


def owns_something(service: Service, since: int = 0) -> bool:
    """The last assignment logged (after ``since``) gave it partitions."""
    lines = assigned_lines(service, since)
    return bool(lines) and not lines[-1].endswith("assigned nothing")


@pytest.mark.timeout(300)
def test_workers_join_crash_and_leave_mid_stream(tmp_path, kafka_broker, topic_factory):
    topic = topic_factory(partitions=6)
    root = tmp_path / "data"
    store = LocalStore(root, "b")
    envs = worker_envs(tmp_path, 3, BROKER_HOSTNAME=kafka_broker.bootstrap, KAFKA_TOPIC=topic,
                       S3_BUCKET_NAME="b", STORE_URL=f"file://{root}")
    values = payloads(4000)
    # The last 900 wait until the third event (a worker leaving): the stream goes on through
    # all three however slow the machine.
    producer = BackgroundProducer(kafka_broker.bootstrap, topic, values, chunk=100, pause=0.8,
                                  hold_last=900)
    first, second, third = (Service(env, env.parent / "service.log") for env in envs)
    with first, second, producer, contextlib.ExitStack() as later:
        producer.start()
        wait_for_objects(store, 200, 60, [first, second], "two workers archiving")
        later.enter_context(third)  # the third worker joins while messages flow
        wait_until(lambda: owns_something(third), 60, "the joining worker's partitions")
        before = count_under(store)
        wait_for_objects(store, before + 200, 60, [first, second, third],
                         "archiving with three workers", producer=producer)
        first.kill()  # its consumers stay in the groups until their session times out
        before = count_under(store)
        wait_for_objects(store, before + 200, 90, [second, third],
                         "archiving after the crash", producer=producer)
        stop_cleanly(second)  # leaves: its partitions are handed over, its offsets committed
        producer.release()
        producer.join(120)
        records = records_now(kafka_broker.bootstrap, topic)
        assert len(records) == len(values)
        expected = reference_expectation(topic, records)
        wait_for_objects(store, len(expected), 120, [third], "every object on the last worker")
        wait_for_commits(kafka_broker.bootstrap, topic, 6, expected, 30, [third])
        stop_cleanly(third)
    audit(store, expected, bootstrap=kafka_broker.bootstrap, topic=topic, partitions=6,
          fully_committed=True)


def post_batch_connector(env_file: Path, name: str, topic: str, root: Path,
                         flush_size: int) -> None:
    body = {
        "name": name,
        "config": {
            "connector.class": S3_SINK,
            "topics": topic,
            "tasks.max": "1",
            "s3.bucket.name": "b",
            "store.url": f"file://{root}",
            "storage.class": "io.confluent.connect.s3.storage.S3Storage",
            "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
            "value.converter": BYTE_ARRAY,
            "flush.size": str(flush_size),
        },
    }
    status, answer = rest(env_file, "POST", "/connectors", body)
    assert status == 201, answer


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", ["reference", "batch"])
def test_a_frozen_worker_does_not_overwrite_newer_objects(tmp_path, kafka_broker,
                                                          topic_factory, mode):
    """Two workers; one frozen past its session while the stream goes on, then thawed.

    ``reference``: the two reference connectors, one object per record. ``batch``: one
    connector posted through the REST API with flush.size=7 (REGISTER_DEFAULTS=false), where
    a stale worker flushing what it held could replace an object with a smaller one.
    """
    topic = topic_factory(partitions=4)
    root = tmp_path / "data"
    store = LocalStore(root, "b")
    flush_size = 7
    extra = {"REGISTER_DEFAULTS": "false"} if mode == "batch" else {}
    envs = worker_envs(tmp_path, 2, BROKER_HOSTNAME=kafka_broker.bootstrap, KAFKA_TOPIC=topic,
                       S3_BUCKET_NAME="b", STORE_URL=f"file://{root}", **extra)
    values = payloads(2500)
    after_thaw = payloads(300, "after the thaw")
    # The last 1000 wait until the other worker took the frozen one's partitions: they are
    # produced while it is frozen, as in the field (the stream does not wait for a rebalance).
    producer = BackgroundProducer(kafka_broker.bootstrap, topic, values, chunk=100, pause=0.6,
                                  hold_last=1000)
    frozen, other = (Service(env, env.parent / "service.log") for env in envs)
    watcher = ByteWatcher(store)
    thawed = False
    with frozen, other, producer, watcher:
        try:
            if mode == "batch":
                wait_until_ready(envs[0], frozen)
                post_batch_connector(envs[0], "batch", topic, root, flush_size)
            producer.start()
            wait_until(lambda: owns_something(frozen) and owns_something(other), 60,
                       "both workers with partitions")
            wait_for_objects(store, 100, 60, [frozen, other], "archiving under way")
            other_log = len(other.log())
            os.kill(frozen.process.pid, signal.SIGSTOP)
            # Past the session timeout the group drops the frozen member and the other
            # worker gets every partition, which it shows by a new assignment.
            wait_until(lambda: len(assigned_lines(other, other_log)) >= (2 if mode ==
                       "reference" else 1) and owns_something(other, other_log),
                       SESSION_TIMEOUT_S + 40, "the other worker taking the frozen one's share")
            alive_check([other])()
            before = count_under(store)
            producer.release()
            producer.join(120)
            # A batch object needs flush_size records of one partition: fewer new objects.
            wait_for_objects(store, before + (100 if mode == "reference" else 20), 60, [other],
                             "archiving without the frozen one", producer=producer)
            os.kill(frozen.process.pid, signal.SIGCONT)
            thawed = True
            # New records right away: the thawed worker wakes up into a busy stream, with
            # whatever it held before the freeze.
            produce_sinetstream(kafka_broker.bootstrap, topic, after_thaw, timestamp=WRITER_TIME)
            records = records_now(kafka_broker.bootstrap, topic)
            assert len(records) == len(values) + len(after_thaw)
            if mode == "batch":
                expected = batch_expectation(topic, records, flush_size, "connect-batch")
            else:
                expected = reference_expectation(topic, records)
            wait_for_objects(store, len(expected), 120, [frozen, other], "every object")
            wait_for_commits(kafka_broker.bootstrap, topic, 4, expected, 30, [frozen, other])
            time.sleep(1)  # a last round of the watcher
            stop_cleanly(frozen)
            stop_cleanly(other)
        finally:
            if not thawed and frozen.running:
                os.kill(frozen.process.pid, signal.SIGCONT)
    assert watcher.rounds > 10, watcher.rounds
    audit(store, expected, bootstrap=kafka_broker.bootstrap, topic=topic, partitions=4,
          fully_committed=True)
    overwritten = watcher.regressions(expected)
    assert overwritten == [], "objects seen with other bytes:\n" + "\n".join(overwritten[:10])

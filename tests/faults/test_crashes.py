"""The service SIGKILLed mid-stream and the broker restarted mid-stream: nothing lost,
nothing extra, no commit past the store (audit)."""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from audit import LocalStore, audit, count_under, reference_expectation
from chaos import (
    WRITER_TIME,
    BackgroundProducer,
    payloads,
    records_now,
    stop_cleanly,
    tail,
    wait_for_commits,
    wait_for_leaders,
    wait_for_objects,
)
from harness import Service, local_env, write_env
from helpers import make_topic, produce_sinetstream


@pytest.fixture
def memory_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder in RAM (/dev/shm) where there is one, else under tmp_path.

    40,000 objects each fsynced twice (file and folder) take minutes on a shared disk; a
    SIGKILL tests the process, not the disk (the page cache outlives the process), so RAM
    keeps the same guarantees under test at a fraction of the time.
    """
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path / "ram"
        return
    folder = Path(tempfile.mkdtemp(prefix="kafka-s3-sink-faults-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.timeout(420)
def test_five_sigkills_during_a_20000_message_stream(tmp_path, memory_dir, kafka_broker,
                                                     topic_factory):
    topic = topic_factory(partitions=3)
    root = memory_dir / "data"
    env_file = write_env(tmp_path / ".env", BROKER_HOSTNAME=kafka_broker.bootstrap,
                         KAFKA_TOPIC=topic, S3_BUCKET_NAME="b", STORE_URL=f"file://{root}",
                         PROGRESS_INTERVAL_S="1")
    store = LocalStore(root, "b")
    values = payloads(20_000)
    log = tmp_path / "service.log"
    # 40 chunks a second or so apart, the last four held until the fifth kill: the stream
    # goes on during the five kill cycles (each waits out the 10 s session of the killed
    # consumers before archiving resumes), however long they take on a loaded machine.
    producer = BackgroundProducer(kafka_broker.bootstrap, topic, values, chunk=500, pause=1.5,
                                  hold_last=2000)
    chooser = random.Random(5)
    service = Service(env_file, log).start()
    sent_at_kills: list[int] = []
    try:
        producer.start()
        for _ in range(5):
            before = count_under(store)
            # Each kill hits a service that is archiving (not one still waiting for its
            # partitions), at a random moment within a few hundred objects.
            wait_for_objects(store, before + chooser.randint(50, 600), 90, [service],
                             "archiving under way before the kill")
            sent_at_kills.append(producer.sent)
            service.kill()
            service = Service(env_file, log).start()
        producer.release()
        producer.join(180)
        records = records_now(kafka_broker.bootstrap, topic)
        assert len(records) == len(values)
        expected = reference_expectation(topic, records)
        wait_for_objects(store, len(expected), 180, [service], "every object after the kills")
        wait_for_commits(kafka_broker.bootstrap, topic, 3, expected, 30, [service])
        stop_cleanly(service)
    finally:
        if service.running:
            service.kill()
        producer.__exit__()
    # The kills hit the stream, not its aftermath: messages came in between them.
    assert len(set(sent_at_kills)) >= 4, sent_at_kills
    assert sent_at_kills[-1] < len(values), sent_at_kills
    assert len(records) == 20_000
    audit(store, expected, bootstrap=kafka_broker.bootstrap, topic=topic, partitions=3,
          fully_committed=True)
    assert "Traceback" not in log.read_text(errors="replace"), tail(service)


@pytest.mark.timeout(300)
def test_broker_restart_mid_stream_loses_nothing(tmp_path, kafka_broker_private):
    broker = kafka_broker_private
    topic = make_topic(broker, partitions=3)
    first = payloads(1500, "before")
    second = payloads(1500, "after")
    produce_sinetstream(broker.bootstrap, topic, first, timestamp=WRITER_TIME)
    env_file = local_env(tmp_path, broker.bootstrap, topic, bucket="b")
    store = LocalStore(tmp_path / "data", "b")
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_objects(store, 500, 60, [service], "archiving under way")
        broker.restart()
        wait_for_leaders(broker.bootstrap, topic, 3)
        produce_sinetstream(broker.bootstrap, topic, second, timestamp=WRITER_TIME)
        records = records_now(broker.bootstrap, topic)
        assert len(records) == len(first) + len(second)
        expected = reference_expectation(topic, records)
        wait_for_objects(store, len(expected), 120, [service], "every object after the restart")
        wait_for_commits(broker.bootstrap, topic, 3, expected, 30, [service])
        assert service.running, tail(service)
        stop_cleanly(service)
    audit(store, expected, bootstrap=broker.bootstrap, topic=topic, partitions=3,
          fully_committed=True)

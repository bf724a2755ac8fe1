"""A lossless restore interrupted again and again (SIGKILL three times, then SIGINT) still
puts every record into the target exactly once, byte for byte, keys and headers included.

The archive is written straight into the layout, as a connector with flush.size=50 over two
hour paths would write it: batch objects whose offsets interleave, so the resume runs
through the offset merger as well as the tail comparison.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition
from harness import local_env, wait_until
from helpers import unique_name

from kafka_s3_sink.archive.target import end_offsets
from kafka_s3_sink.pipeline.formats.lossless import encode_line
from kafka_s3_sink.pipeline.records import Record

COUNT = 60000


def write_lossless_archive(root: Path, topic: str) -> dict[int, list[tuple]]:
    expected: dict[int, list[tuple]] = defaultdict(list)
    base = root / "mybucket" / "topics" / topic / "year=2022/month=04/day=18"
    for partition in range(3):
        records = [
            Record(topic, partition, o, 1650243600000 + o, b"k%d" % (o % 7),
                   b"value %d %d" % (partition, o) * 3, (("n", b"%d" % o), ("x", None)), 1)
            for o in range(COUNT // 3)
        ]
        for first in range(0, len(records), 50):
            batch = records[first : first + 50]
            # Even offsets under hour 10, odd ones under hour 11: two objects per batch.
            for hour, part in (("10", batch[0::2]), ("11", batch[1::2])):
                folder = base / f"hour={hour}"
                folder.mkdir(parents=True, exist_ok=True)
                name = f"{topic}+{partition}+{part[0].offset:010d}.jsonl"
                (folder / name).write_bytes(b"".join(encode_line(r) for r in part))
        expected[partition] = [
            (r.value, r.key, list(r.headers), (1, r.timestamp_ms)) for r in records
        ]
    return expected


def ends(bootstrap: str, topic: str) -> int:
    # The restore's own reader of end offsets: it asks again while leaders settle.
    return sum(end_offsets(bootstrap, topic, [0, 1, 2]).values())


def test_a_lossless_restore_killed_three_times_and_interrupted_once(
    kafka_broker, topic_factory, tmp_path
):
    source = unique_name("source")
    expected = write_lossless_archive(tmp_path / "data", source)
    env = local_env(tmp_path, kafka_broker.bootstrap, source)
    target = topic_factory(partitions=3, prefix="interrupted")
    command = [sys.executable, "-m", "kafka_s3_sink.cli", "restore", "--env-file", str(env),
               "--to-topic", target, "--layout", "lossless"]
    for n, (sig, fraction) in enumerate(
        [(signal.SIGKILL, 0.15), (signal.SIGKILL, 0.4), (signal.SIGKILL, 0.6),
         (signal.SIGINT, 0.8)]
    ):
        with (tmp_path / f"run{n}.log").open("w") as log:
            run = subprocess.Popen(command, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
            try:
                def far_enough(run=run, fraction=fraction) -> bool:
                    return (ends(kafka_broker.bootstrap, target) >= COUNT * fraction
                            or run.poll() is not None)

                wait_until(far_enough, 120, f"{fraction:.0%} sent")
            finally:
                run.send_signal(sig)
                code = run.wait(60)
        if sig == signal.SIGINT and code != 0:  # 0: it had just finished
            assert code == 130, (tmp_path / f"run{n}.log").read_text()
            assert "run the same command again" in (tmp_path / f"run{n}.log").read_text()
    last = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert last.returncode == 0, last.stdout + last.stderr
    assert ends(kafka_broker.bootstrap, target) == COUNT  # all there, nothing twice
    got = read_partitions(kafka_broker.bootstrap, target)
    assert got == dict(expected)


def read_partitions(bootstrap: str, topic: str) -> dict[int, list[tuple]]:
    """Each partition from its first offset, by assignment (no group to join)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique_name("reader"),
                         "enable.auto.commit": False})
    got: dict[int, list[tuple]] = defaultdict(list)
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(3)])
        deadline = time.monotonic() + 120
        while sum(map(len, got.values())) < COUNT and time.monotonic() < deadline:
            for m in consumer.consume(1000, 1):
                if m.error() is None:
                    got[m.partition()].append((m.value(), m.key(), m.headers(), m.timestamp()))
    finally:
        consumer.close()
    return dict(got)

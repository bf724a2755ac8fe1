"""What the fault tests share: a producer streaming in the background, the services' .env
files, bounded waits that fail fast when a service died, and a watcher of object bytes."""

from __future__ import annotations

import hashlib
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from audit import ExpectedObject, Store, count_under
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from harness import Service, TopicRecord, committed_offsets, free_port, rest, wait_until
from helpers import produce_sinetstream, unique_name

# The SINETStream timestamp inside every message (2022-04-18T01:00:00.123456Z): fixed, so
# that expected bodies do not depend on when the test runs.
WRITER_TIME = 1650243600.123456


def payloads(count: int, label: str = "reading") -> list[bytes]:
    """Distinct payloads of a few dozen bytes (the size of a sensor reading)."""
    return [f"{label} {i:06d} {'x' * (i % 37)}".encode() for i in range(count)]


class BackgroundProducer:
    """Sends payloads with the real SINETStream writer on a thread, ``chunk`` at a time with
    ``pause`` seconds between chunks, so that faults happen while messages keep arriving."""

    def __init__(self, bootstrap: str, topic: str, values: Sequence[bytes], chunk: int,
                 pause: float, hold_last: int = 0) -> None:
        """``hold_last``: the last that many values wait for release(), so that the stream
        is sure to go on until the test has done its faults, however slow the machine."""
        self.bootstrap = bootstrap
        self.hold_last = hold_last
        self.released = threading.Event()
        self.topic = topic
        self.values = values
        self.chunk = chunk
        self.pause = pause
        self.sent = 0  # acked by the broker so far
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"producer-{topic}", daemon=True)

    def _run(self) -> None:
        try:
            for start in range(0, len(self.values), self.chunk):
                if self._stop.is_set():
                    return
                if start >= len(self.values) - self.hold_last and not self.released.is_set():
                    self.released.wait(300)  # bounded: join() reports a stream that hung
                part = list(self.values[start : start + self.chunk])
                produce_sinetstream(self.bootstrap, self.topic, part, timestamp=WRITER_TIME)
                self.sent += len(part)
                self._stop.wait(self.pause)
        except BaseException:  # reported by join(), in the test's thread
            self.error = traceback.format_exc()

    def release(self) -> None:
        self.released.set()

    @property
    def producing(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> BackgroundProducer:
        self._thread.start()
        return self

    def join(self, timeout: float) -> None:
        """Wait until every payload is acked; fail on a send error or at ``timeout``."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._stop.set()
            raise AssertionError(f"producer still running after {timeout}s ({self.sent} sent)")
        if self.error is not None:
            raise AssertionError(f"the producer failed:\n{self.error}")
        assert self.sent == len(self.values), f"{self.sent} of {len(self.values)} sent"

    def __enter__(self) -> BackgroundProducer:
        return self  # started by start(), when the test is ready for the stream

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self.released.set()
        if self._thread.ident is not None:
            self._thread.join(60)


def records_now(bootstrap: str, topic: str, timeout: float = 60) -> list[TopicRecord]:
    """Every record of ``topic`` up to its end at the time of the call."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique_name("reader"),
                         "enable.auto.commit": False})
    out: list[TopicRecord] = []
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), 10)[1]
                for p in partitions}
        consumer.assign([TopicPartition(topic, p, 0) for p, end in ends.items() if end > 0])
        seen = dict.fromkeys(ends, 0)
        deadline = time.monotonic() + timeout
        while any(seen[p] < ends[p] for p in ends):
            if time.monotonic() > deadline:
                raise TimeoutError(f"read {seen} of {ends} records of {topic}")
            for m in consumer.consume(1000, 0.5):
                if m.error() is None and m.offset() < ends[m.partition()]:
                    seen[m.partition()] = m.offset() + 1
                    out.append(TopicRecord(m.partition(), m.offset(), m.timestamp()[1],
                                           m.value()))
    finally:
        consumer.close()
    return out


def wait_for_leaders(bootstrap: str, topic: str, partitions: int, timeout: float = 60) -> None:
    """Wait until every partition of ``topic`` has a leader again (after a broker restart):
    until then the SINETStream writer's sends fail with NotLeaderForPartition."""

    def led() -> bool:
        try:
            found = AdminClient({"bootstrap.servers": bootstrap}).list_topics(
                topic, timeout=5).topics.get(topic)
        except Exception:  # the broker is still starting: asked again
            return False
        return (found is not None and found.error is None and len(found.partitions) ==
                partitions and all(p.leader >= 0 for p in found.partitions.values()))

    wait_until(led, timeout, f"leaders for the {partitions} partitions of {topic}")


def wait_until_ready(env_file: Path, service: Service, timeout: float = 60) -> None:
    """Wait until the worker takes REST changes: ``GET /health`` answers 200 (the API itself
    answers earlier, with 503 to changes while the worker starts), or, where there is no
    /health, until ``GET /`` answers."""
    check = alive_check([service])

    def ready() -> bool:
        check()
        try:
            status = rest(env_file, "GET", "/health")[0]
            return status == 200 or (status == 404 and rest(env_file, "GET", "/")[0] == 200)
        except OSError:  # not listening yet
            return False

    wait_until(ready, timeout, f"the worker of {env_file} ready")


def worker_envs(directory: Path, count: int, **settings: str) -> list[Path]:
    """``count`` .env files with the same settings (hence the same CONFIG_STORAGE_TOPIC, so
    the services are workers of one cluster) but each its own REST port."""
    settings = {
        "REST_HOST": "127.0.0.1",
        "CONFIG_STORAGE_TOPIC": unique_name("configs"),
        "PROGRESS_INTERVAL_S": "1",
        **settings,
    }
    envs = []
    for i in range(count):
        folder = directory / f"worker{i}"
        folder.mkdir(parents=True, exist_ok=True)
        values = {**settings, "REST_PORT": str(free_port())}
        (folder / ".env").write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        envs.append(folder / ".env")
    return envs


def alive_check(services: Iterable[Service]) -> Callable[[], None]:
    """A check that fails at once, with the log, if one of ``services`` exited."""
    chosen = list(services)

    def check() -> None:
        for service in chosen:
            if service.process is not None and not service.running:
                raise AssertionError(
                    f"service on {service.env_file} exited "
                    f"({service.process.returncode}):\n{tail(service)}"
                )

    return check


def wait_for_objects(store: Store, count: int, timeout: float, services: Iterable[Service],
                     what: str, prefix: str = "topics/",
                     producer: BackgroundProducer | None = None) -> None:
    """Wait until ``count`` objects are under ``prefix``, failing fast if a service died.

    On a timeout the message says how far the store and the ``producer`` got, so that a
    stalled service can be told from a stalled stream.
    """
    services = list(services)
    check = alive_check(services)

    def enough() -> bool:
        check()
        return count_under(store, prefix) >= count

    try:
        wait_until(enough, timeout, what)
    except AssertionError as error:
        sent = "" if producer is None else f"; the producer had sent {producer.sent}"
        logs = "\n".join(f"--- {s.log_path}:\n{tail(s, 15)}" for s in services)
        raise AssertionError(
            f"{error}: {count_under(store, prefix)} of {count} objects{sent}\n{logs}"
        ) from None


def wait_for_commits(bootstrap: str, topic: str, partitions: int,
                     expected: Iterable[ExpectedObject], timeout: float,
                     services: Iterable[Service]) -> None:
    """Wait until each group has committed every offset its expected objects hold.

    Called once everything is stored: a group that does not catch up within ``timeout``
    (several commit intervals) has stalled, and the message says where it stands.
    """
    ends: dict[str, dict[int, int]] = defaultdict(lambda: dict.fromkeys(range(partitions), 0))
    for obj in expected:
        ends[obj.group][obj.partition] = max(ends[obj.group][obj.partition], obj.offsets.stop)
    services = list(services)
    check = alive_check(services)
    seen: dict[str, dict[int, int]] = {}

    def caught_up() -> bool:
        check()
        seen.update({g: committed_offsets(bootstrap, g, topic, partitions) for g in ends})
        return all(seen[g] == ends[g] for g in ends)

    try:
        wait_until(caught_up, timeout, "the commits of everything stored")
    except AssertionError as error:
        logs = "\n".join(f"--- {s.log_path}:\n{tail(s, 15)}" for s in services)
        raise AssertionError(f"{error}: committed {seen}, stored up to {dict(ends)}\n{logs}") \
            from None


def tail(service: Service, lines: int = 60) -> str:
    return "\n".join(service.log().splitlines()[-lines:])


def stop_cleanly(service: Service, timeout: float = 60) -> None:
    """SIGTERM, and the exit status must be 0 (uploads finished, offsets committed)."""
    code = service.stop(timeout)
    assert code == 0, f"exit status {code}:\n{tail(service)}"


class ByteWatcher:
    """Reads every object under ``prefix`` every ``interval`` seconds on a thread and keeps
    each version of each object it saw: an object overwritten with other bytes (a stale
    worker's smaller batch, say) and later repaired still shows as two versions."""

    def __init__(self, store: Store, prefix: str = "topics/", interval: float = 0.5) -> None:
        self.store = store
        self.prefix = prefix
        self.interval = interval
        self.versions: dict[str, dict[str, bytes]] = defaultdict(dict)  # key -> sha1 -> bytes
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                objects = self.store.objects()
            except Exception:  # a listing racing a rename: the next round sees it
                objects = {}
            for key, body in objects.items():
                if key.startswith(self.prefix):
                    self.versions[key].setdefault(hashlib.sha1(body).hexdigest(), body)
            self.rounds += 1
            self._stop.wait(self.interval)

    def regressions(self, expected: Iterable[ExpectedObject]) -> list[str]:
        """Objects seen, at any round, with bytes other than expected."""
        wanted = {obj.key: obj.body for obj in expected}
        out = []
        for key, seen in sorted(self.versions.items()):
            for body in seen.values():
                if key in wanted and body != wanted[key]:
                    out.append(f"{key}: saw {len(body)} bytes {body[:80]!r}, expected "
                               f"{len(wanted[key])} bytes")
        return out

    def __enter__(self) -> ByteWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

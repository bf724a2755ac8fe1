"""Stored connector configs that cannot be read: decoded with their reason, shown FAILED by
the worker, kept by the file store, and never the end of the config-topic follower."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest

from kafka_s3_sink.connect.registry import Conflict, ConnectorState
from kafka_s3_sink.connect.state.config_file import ConfigFile
from kafka_s3_sink.connect.state.config_topic import (
    ConfigStoreError,
    ConfigTopic,
    StoredConnector,
    decode_entry,
)
from kafka_s3_sink.connect.worker import Worker
from kafka_s3_sink.engine.sink_task import TaskOptions
from kafka_s3_sink.store.spec import StoreSpec

S3_SINK = "io.confluent.connect.s3.S3SinkConnector"
CONFIG = {
    "connector.class": S3_SINK,
    "topics": "t",
    "s3.bucket.name": "b",
    "storage.class": "io.confluent.connect.s3.storage.S3Storage",
    "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
    "flush.size": "1",
}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([1, 2], "is not a JSON object but list"),
        ({"target_state": "RUNNING"}, 'has no "config" object'),
        ({"config": "x"}, 'has no "config" object'),
        ({"config": {}, "target_state": "SLEEPING"}, "has target_state 'SLEEPING'"),
    ],
)
def test_entries_not_of_our_shape_carry_their_reason(data: object, problem: str) -> None:
    stored = decode_entry("c", data, "config topic x, offset 7")
    assert stored.error is not None
    assert stored.error.startswith("the stored config of connector c (config topic x, offset 7)")
    assert problem in stored.error
    assert stored.target_state == "RUNNING"


def test_a_valid_entry_decodes_without_error() -> None:
    data = {"config": CONFIG, "target_state": "PAUSED", "origin": "env"}
    assert decode_entry("c", data, "here") == StoredConnector(CONFIG, "PAUSED", "env")


class FakeMessage:
    def __init__(self, offset: int, key: bytes | None, value: bytes | None) -> None:
        self._offset, self._key, self._value = offset, key, value

    def error(self) -> None:
        return None

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes | None:
        return self._value


class FakeConsumer:
    def __init__(self, messages: list[FakeMessage], done: threading.Event) -> None:
        self.messages = messages
        self.done = done

    def poll(self, _timeout: float) -> FakeMessage | None:
        if self.messages:
            return self.messages.pop(0)
        self.done.set()
        return None


def test_the_follower_hands_on_bad_records_and_keeps_following() -> None:
    topic = ConfigTopic("127.0.0.1:1", "configs")  # never connects: the consumer is fake
    done = threading.Event()
    good = json.dumps({"config": CONFIG}).encode()
    topic._consumer = FakeConsumer(  # type: ignore[assignment]
        [
            FakeMessage(0, b"a", b"{not json"),
            FakeMessage(1, None, good),  # no key: no connector to show it under
            FakeMessage(2, b"\xff", good),
            FakeMessage(3, b"b", b"\xff\xfe"),
            FakeMessage(4, b"a", None),
            FakeMessage(5, b"c", good),
        ],
        done,
    )
    seen: list[tuple[str, str | None]] = []

    def on_change(name: str, stored: StoredConnector | None) -> None:
        seen.append((name, None if stored is None else (stored.error or "ok")))
        if name == "b":
            raise RuntimeError("applying it failed")  # logged, and the next one comes

    follower = threading.Thread(target=topic.follow, args=(on_change,))
    follower.start()
    assert done.wait(10)
    topic.close()
    follower.join(10)
    assert not follower.is_alive()
    assert [name for name, _ in seen] == ["a", "b", "a", "c"]
    assert "offset 0) is not valid JSON" in str(seen[0][1])
    assert "offset 3) is not valid JSON" in str(seen[1][1])
    assert seen[2:] == [("a", None), ("c", "ok")]


def test_a_file_entry_that_cannot_be_read_is_kept_through_writes(tmp_path: Path) -> None:
    path = tmp_path / "connectors.json"
    broken = {"target_state": "RUNNING", "note": "hand-edited"}
    path.write_text(json.dumps({"connectors": {"broken": broken}}))
    store = ConfigFile(path)
    loaded = store.load()
    assert f"CONFIG_STORAGE_FILE {path}" in str(loaded["broken"].error)
    store.write("good", StoredConnector(CONFIG, "RUNNING"))
    assert json.loads(path.read_text())["connectors"]["broken"] == broken
    store.write("broken", None)  # a delete (or a valid config) replaces it
    assert list(json.loads(path.read_text())["connectors"]) == ["good"]


@pytest.mark.parametrize("body", ["{not json", '{"connectors": []}', "\xff"])
def test_a_file_that_is_not_ours_names_itself(tmp_path: Path, body: str) -> None:
    path = tmp_path / "connectors.json"
    path.write_bytes(body.encode("latin-1"))
    with pytest.raises(ConfigStoreError, match=f"CONFIG_STORAGE_FILE {path} is not a connector"):
        ConfigFile(path).load()


def test_a_file_that_cannot_be_read_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "connectors.json"
    path.mkdir()  # a directory where the file should be
    with pytest.raises(ConfigStoreError, match=f"CONFIG_STORAGE_FILE {path} cannot be read"):
        ConfigFile(path).load()


def make_worker(tmp_path: Path) -> Worker:
    options = TaskOptions("dead-letters", 10, 1 << 20, 1.0, 1.0)
    return Worker(
        "w:8083",
        "127.0.0.1:1",
        ConfigFile(tmp_path / "c.json"),
        lambda spec: {"group.id": f"connect-{spec.name}"},
        options,
        StoreSpec("b", local_root=tmp_path),
    )


def test_the_worker_shows_unreadable_configs_as_failed_until_replaced(tmp_path: Path) -> None:
    async def scenario() -> None:
        worker = make_worker(tmp_path)
        await worker.apply("bad", StoredConnector({}, "RUNNING", error="not valid JSON (x)"))
        wrong = {**CONFIG, "connector.class": "com.example.Nope"}
        await worker.apply("wrong", StoredConnector(wrong, "RUNNING"))
        await worker.apply("wrong", StoredConnector(wrong, "RUNNING"))  # again: no new log
        assert worker.names() == ["bad", "wrong"]
        bad = worker.status("bad")
        assert (bad.state, bad.tasks) == (ConnectorState.FAILED, [])
        assert bad.trace == "not valid JSON (x)"
        assert "com.example.Nope" in str(worker.status("wrong").trace)
        assert worker.get_config("wrong") == wrong
        with pytest.raises(Conflict, match="PUT a valid config or DELETE it"):
            await worker.pause("wrong")
        with pytest.raises(Conflict, match="already exists"):
            await worker.create("wrong", CONFIG)
        # A valid config (STOPPED: no task to start) repairs it; a tombstone removes one.
        await worker.apply("wrong", StoredConnector(CONFIG, "STOPPED"))
        assert worker.status("wrong").state is ConnectorState.STOPPED
        await worker.apply("bad", None)
        assert worker.names() == ["wrong"]
        await worker.shutdown()

    asyncio.run(scenario())


def test_a_failed_connector_can_be_deleted_and_replaced_through_the_api(tmp_path: Path) -> None:
    async def scenario() -> None:
        worker = make_worker(tmp_path)
        await worker.apply("bad", StoredConnector({}, "STOPPED", error="unreadable"))
        await worker.apply("gone", StoredConnector({}, "RUNNING", error="unreadable"))
        created = await worker.put_config("bad", CONFIG)
        assert created is False  # it existed (FAILED): replaced, not created
        assert worker.status("bad").state is ConnectorState.STOPPED  # its stored state kept
        await worker.delete("gone")
        assert worker.names() == ["bad"]
        await worker.shutdown()

    asyncio.run(scenario())


class DyingStore(ConfigFile):
    """A config store whose follower dies (as on a fatal Kafka error)."""

    def follow(self, on_change: object) -> None:
        raise RuntimeError("fatal: the config topic was deleted")


def test_a_follower_that_dies_is_logged_loudly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from kafka_s3_sink.service import _load_connectors

    async def scenario() -> None:
        worker = make_worker(tmp_path)
        worker.config_store = DyingStore(tmp_path / "c.json")
        follower = await _load_connectors(worker, {}, register_defaults=False)  # type: ignore[arg-type]
        with pytest.raises(RuntimeError):
            await follower
        await asyncio.sleep(0)  # the done-callback runs on the next turn of the loop
        await worker.shutdown()

    asyncio.run(scenario())
    loud = [r for r in caplog.records if r.levelname == "CRITICAL"]
    assert len(loud) == 1
    assert "no longer applied" in loud[0].getMessage()
    assert "the config topic was deleted" in loud[0].exc_text


def test_the_follower_skips_records_this_worker_already_applied() -> None:
    """Own writes are applied at once; met again later (with older ones), they are skipped,
    so a quick stop-then-resume is not replayed as stop, resume once more."""
    topic = ConfigTopic("127.0.0.1:1", "configs")
    done = threading.Event()
    stopped = json.dumps({"config": CONFIG, "target_state": "STOPPED"}).encode()
    running = json.dumps({"config": CONFIG, "target_state": "RUNNING"}).encode()
    topic._applied["a"] = 7  # what write() notes when the broker acknowledges offset 7
    topic._consumer = FakeConsumer(  # type: ignore[assignment]
        [
            FakeMessage(6, b"a", stopped),  # older than what this worker applied
            FakeMessage(7, b"a", running),  # applied already, by the worker itself
            FakeMessage(8, b"a", stopped),  # newer: another worker's change
        ],
        done,
    )
    seen: list[str] = []
    follower = threading.Thread(
        target=topic.follow, args=(lambda name, s: seen.append(s.target_state),)
    )
    follower.start()
    assert done.wait(10)
    topic.close()
    follower.join(10)
    assert seen == ["STOPPED"]

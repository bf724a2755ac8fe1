"""Group commit in the local store: a put returns only once its object is durable, a rename
never comes before its data is durable, and concurrent puts share their flushes.

Every call that makes something durable (``syncfs``, or ``os.fsync`` of files and folders),
every rename and every put's return are recorded in one ordered log, on a real file system;
the checks then read the order off the log.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kafka_s3_sink.store import StoreError, local
from kafka_s3_sink.store.local import FSYNC, SYNCFS, TEMP_DIR_NAME, LocalObjectStore

MODES = [FSYNC] + ([SYNCFS] if local._syncfs is not None else [])


@dataclass
class Sync:
    """One durability call: what it covered, and when it started and ended (log positions)."""

    kind: str  # "syncfs" or "fsync"
    start: int = -1
    end: int = -1
    # syncfs: every temporary file at its start, with its size; fsync: the synced path's.
    files: dict[str, int] = field(default_factory=dict)
    path: str = ""  # fsync: the file or folder synced


class Recorder:
    """Wraps the store's durability calls and os.replace, numbering every event."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, temp_dir: Path) -> None:
        self._numbers = itertools.count()
        self._lock = threading.Lock()
        self.temp_dir = temp_dir
        self.syncs: list[Sync] = []
        # final -> (temp, position just before the rename, position just after it)
        self.renames: dict[str, tuple[str, int, int]] = {}
        self.returned: dict[str, int] = {}  # final -> position
        self.gate: threading.Event | None = None  # set: durability calls wait for it
        self.fail_next: OSError | None = None
        real_fsync, real_replace, real_syncfs = os.fsync, os.replace, local._syncfs

        def fsync(fd: int) -> None:
            path = os.readlink(f"/proc/self/fd/{fd}")
            size = os.fstat(fd).st_size
            self._durable(lambda: real_fsync(fd), Sync("fsync", files={path: size}, path=path))

        def syncfs(fd: int) -> None:
            assert real_syncfs is not None
            files = {str(p): p.stat().st_size for p in self.temp_dir.iterdir()}
            self._durable(lambda: real_syncfs(fd), Sync("syncfs", files=files))

        def replace(src: str, dst: str) -> None:
            before = self.now()
            real_replace(src, dst)
            self.renames[str(dst)] = (str(src), before, self.now())

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "replace", replace)
        if real_syncfs is not None:
            monkeypatch.setattr(local, "_syncfs", syncfs)

    def now(self) -> int:
        with self._lock:
            return next(self._numbers)

    def _durable(self, call: object, sync: Sync) -> None:
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        sync.start = self.now()
        call()  # type: ignore[operator]
        sync.end = self.now()
        self.syncs.append(sync)

    def check(self, store: LocalObjectStore, final: Path, size: int) -> None:
        """Data durable before the rename, rename durable before the put returned."""
        temp, rename_started, renamed = self.renames[str(final)]
        returned = self.returned[str(final)]
        syncs = [s for s in self.syncs if s.kind == store.sync]
        # Its whole body was in the temporary file when a sync began that ended before the
        # rename began.
        data_synced = [s for s in syncs if s.files.get(temp) == size and s.end < rename_started]
        assert data_synced, f"{final.name} renamed before its data was made durable"
        name_synced = [
            s for s in syncs
            if renamed < s.start and s.end < returned
            and (store.sync == SYNCFS or s.path == str(final.parent))
        ]  # fmt: skip
        assert name_synced, f"the put of {final.name} returned before its rename was durable"


def _keys(count: int) -> list[str]:
    return [f"topics/t/partition={i % 3}/t+{i % 3}+{i:010d}.bin" for i in range(count)]


@pytest.mark.parametrize("mode", MODES)
def test_every_put_returns_after_its_data_and_rename_are_durable_and_puts_share_syncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    root = tmp_path / "data"
    store = LocalObjectStore(root, "bucket", sync=mode)
    recorder = Recorder(monkeypatch, root / TEMP_DIR_NAME)
    keys = _keys(300)

    async def put(key: str, body: bytes) -> None:
        await store.put(key, body)
        recorder.returned[str(store.bucket_dir / key)] = recorder.now()

    async def go() -> None:
        await store.check()
        await asyncio.gather(*(put(key, key.encode() * (1 + i % 7)) for i, key in enumerate(keys)))
        await store.close()

    asyncio.run(go())
    for i, key in enumerate(keys):
        final = store.bucket_dir / key
        assert final.read_bytes() == key.encode() * (1 + i % 7)
        recorder.check(store, final, len(key.encode()) * (1 + i % 7))
    # Grouped: a handful of rounds for 300 puts, not two syncs per put.
    assert store.rounds < len(keys) / 5, store.rounds
    assert not list((root / TEMP_DIR_NAME).iterdir())


@pytest.mark.parametrize("mode", MODES)
def test_a_put_waits_for_the_flush_and_no_file_gets_its_name_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    root = tmp_path / "data"
    store = LocalObjectStore(root, "bucket", sync=mode)
    recorder = Recorder(monkeypatch, root / TEMP_DIR_NAME)
    final = store.bucket_dir / "topics/t/b.bin"

    async def go() -> None:
        await store.check()
        await store.put("topics/t/a.bin", b"first")  # the folders are made and synced
        recorder.gate = threading.Event()  # the disk "hangs": every flush waits
        put = asyncio.create_task(store.put("topics/t/b.bin", b"second"))
        await asyncio.sleep(0.3)
        assert not put.done(), "the put returned while its flush had not happened"
        assert not final.exists(), "the object got its name before its data was durable"
        recorder.gate.set()
        await asyncio.wait_for(put, 10)
        await store.close()

    asyncio.run(go())
    assert final.read_bytes() == b"second"


@pytest.mark.parametrize("mode", MODES)
def test_a_failed_flush_fails_the_put_transiently_and_leaves_no_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    root = tmp_path / "data"
    store = LocalObjectStore(root, "bucket", sync=mode)
    recorder = Recorder(monkeypatch, root / TEMP_DIR_NAME)

    async def go() -> None:
        await store.check()
        await store.put("topics/t/a.bin", b"first")
        recorder.fail_next = OSError(errno.EIO, "Input/output error")
        with pytest.raises(StoreError) as caught:
            await store.put("topics/t/b.bin", b"second")
        assert caught.value.transient
        assert not (store.bucket_dir / "topics/t/b.bin").exists()
        await store.put("topics/t/b.bin", b"second")  # the engine's retry
        await store.close()

    asyncio.run(go())
    assert (store.bucket_dir / "topics/t/b.bin").read_bytes() == b"second"
    assert not list((root / TEMP_DIR_NAME).iterdir())


def test_a_cancelled_put_does_not_stop_the_others(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path, "bucket")

    async def go() -> None:
        await store.check()
        doomed = asyncio.create_task(store.put("k/a", b"a"))
        await asyncio.sleep(0)
        doomed.cancel()
        await asyncio.gather(*(store.put(f"k/{i}", b"x") for i in range(20)))
        await store.close()

    asyncio.run(go())
    assert sorted(p.name for p in (tmp_path / "bucket/k").iterdir() if p.name != "a") == sorted(
        str(i) for i in range(20)
    )


def test_a_key_that_cannot_be_a_path_is_refused_for_good(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path, "bucket")

    async def go() -> None:
        with pytest.raises(StoreError) as caught:
            await store.put("a/../b", b"x")
        assert not caught.value.transient
        await store.close()

    asyncio.run(go())


def test_syncfs_is_refused_where_it_cannot_be_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local, "_syncfs", None)
    with pytest.raises(ValueError):
        LocalObjectStore(tmp_path, "bucket", sync=SYNCFS)
    assert LocalObjectStore(tmp_path, "bucket").sync == FSYNC

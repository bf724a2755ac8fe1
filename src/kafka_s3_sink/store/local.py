"""A local directory laid out like MinIO's ``data/`` folder: ``<root>/<bucket>/<key>``.

A put returns only once its object is durable under its key, and a crash (power loss
included) never leaves a partial object under a real key.  Each object is written to a
temporary file, its data made durable, then it is renamed onto its final name and the
rename made durable.  Temporary files live in one hidden folder at the root (same file
system, so the rename stays atomic) and are swept at start-up.

Making something durable costs a disk flush (milliseconds), so puts share flushes (group
commit).  A put hands its object to a writer thread, which writes the temporary file
without flushing; one syncer thread works in rounds, and each round makes durable, with one
barrier, both the data of every file written since the previous round and the renames made
in the previous round.  After the barrier it wakes the puts whose renames it covered, then
renames the files whose data it covered.  So a file's data is durable before its rename is
made, and its rename is durable before its put returns; a busy store pays one barrier per
round, not two per file.

The barrier is ``syncfs(2)`` on Linux 5.8 and later: one call flushes the file system's
dirty data and metadata, and since 5.8 it reports write-back errors.  Elsewhere, or with
``sync="fsync"``, it is an ``fsync`` of each new file and of each folder that got a renamed
file, side by side (the file system joins them into few journal commits).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import itertools
import logging
import os
import platform
import shutil
import sys
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from .base import ObjectInfo, StoreError
from .paging import ListPage, local_page

log = logging.getLogger(__name__)

TEMP_DIR_NAME = ".kafka-s3-sink-tmp"
SYNCFS = "syncfs"
FSYNC = "fsync"
_FSYNC_THREADS = 16  # fsync waits for the disk: enough side by side to fill a journal commit


def _load_syncfs() -> Callable[[int], None] | None:
    """``syncfs(fd)`` from libc (``os`` has no wrapper), or None where it cannot be trusted."""
    if sys.platform != "linux":
        return None
    try:
        major, minor = (int(part) for part in platform.release().split(".")[:2])
    except ValueError:
        return None
    if (major, minor) < (5, 8):
        return None  # before 5.8 syncfs returned 0 even when writing back had failed
    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int

    def syncfs(fd: int) -> None:
        # ctypes releases the GIL for the call: writers go on while the disk flushes.
        if function(fd) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"syncfs: {os.strerror(errno)}")

    return syncfs


_syncfs = _load_syncfs()


@dataclass(eq=False)
class _Pending:
    """One put, from its hand-over to the writer until its put returns."""

    final: str
    folder: str
    body: bytes | memoryview | None  # dropped once written
    future: asyncio.Future[None]
    loop: asyncio.AbstractEventLoop
    temp: str = ""
    fd: int | None = None  # fsync barrier: open until synced, so fsync sees write-back errors
    error: BaseException | None = None


def _fsync_path(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_error(error: BaseException) -> BaseException:
    """An exception of its own for each put of a failed round (tracebacks are per raise);
    OSError(errno, ...) is made the same subclass, so FileNotFoundError stays one."""
    if isinstance(error, OSError) and error.errno is not None:
        return OSError(error.errno, error.strerror, error.filename)
    return error


def _settle(done: list[_Pending]) -> None:
    """In the put's event loop: hand each put its outcome (a cancelled put is gone)."""
    for pending in done:
        if pending.future.done():
            continue
        if pending.error is None:
            pending.future.set_result(None)
        else:
            pending.future.set_exception(pending.error)


def _deliver(done: list[_Pending]) -> None:
    """Wake the puts of ``done``: one call per event loop, not one per put."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
    for pending in done:
        by_loop.setdefault(pending.loop, []).append(pending)
    for loop, group in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_settle, group)


class LocalObjectStore:
    """``threads``: writer threads; ``sync``: the barrier, "syncfs" or "fsync" (None: syncfs
    where it can be trusted)."""

    def __init__(self, root: Path, bucket: str, threads: int = 2, sync: str | None = None) -> None:
        self.root = root
        self.bucket_dir = root / bucket
        self.temp_dir = root / TEMP_DIR_NAME
        self.description = f"local directory {self.bucket_dir}"
        if sync is None:
            sync = SYNCFS if _syncfs is not None else FSYNC
        if sync not in (SYNCFS, FSYNC) or (sync == SYNCFS and _syncfs is None):
            raise ValueError(f"sync={sync!r} is not available here")
        self.sync = sync
        # Writing a temporary file does not wait for the disk: a couple of writer threads
        # suffice (more would only fight over the GIL).
        self._writers_wanted = max(1, threads)
        self._fsync_pool = (
            ThreadPoolExecutor(_FSYNC_THREADS, thread_name_prefix="local-store-fsync")
            if sync == FSYNC
            else None
        )
        # Plain strings on the path of every put: pathlib objects were a noticeable share of
        # a put's CPU.
        self._bucket_prefix = f"{self.bucket_dir}/"
        self._known_dirs: set[str] = set()
        self._dirs_lock = threading.Lock()
        # Temporary names: unique across stores and processes sharing the root.
        self._temp_prefix = f"{uuid.uuid4().hex[:12]}-"
        self._temp_numbers = itertools.count()
        # One lock for the fields below; writers and the syncer wait on their own conditions
        # so that a put wakes one writer, and a written batch the syncer only.
        self._lock = threading.Lock()
        self._for_writers = threading.Condition(self._lock)
        self._for_syncer = threading.Condition(self._lock)
        self._queued: list[_Pending] = []  # handed over by puts, not yet written
        self._writing = 0  # taken by a writer, not yet handed to the syncer
        self._written: list[_Pending] = []  # written, data not yet covered by a barrier
        self._threads: list[threading.Thread] = []
        self._closing = False
        self.rounds = 0  # barriers so far (tests and the benchmark read it)
        self._fs_fd: int | None = None  # syncfs barrier: the file system of temp_dir

    async def check(self) -> None:
        try:
            self.bucket_dir.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(self.temp_dir, ignore_errors=True)
            self.temp_dir.mkdir(parents=True, exist_ok=True)
            # The root may be new: its own entry durable too (the folders below it are synced
            # as they are first used).  Best effort: the parent may not be ours to read.
            with contextlib.suppress(PermissionError):
                _fsync_path(self.root.parent)
            probe = self.temp_dir / "probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            raise StoreError(
                f"cannot write to {self.bucket_dir} ({error.strerror}): check STORE_URL and "
                "the directory's permissions",
                transient=False,
            ) from error

    async def put(self, key: str, body: bytes | memoryview) -> None:
        self._check_key(key)
        final = self._bucket_prefix + key
        try:
            try:
                await self._put_once(final, body)
            except FileNotFoundError:
                # The bucket folder or the root was moved or deleted while running: forget
                # the folders known to exist and make them again, as a start-up would.
                await asyncio.to_thread(self._remake)
                await self._put_once(final, body)
        except OSError as error:
            # A full disk or a permission change may be mended while we wait and retry.
            raise StoreError(f"writing {key} failed: {error}", transient=True) from error

    async def _put_once(self, final: str, body: bytes | memoryview) -> None:
        loop = asyncio.get_running_loop()
        folder = final.rpartition("/")[0]
        pending = _Pending(final, folder, body, loop.create_future(), loop)
        with self._lock:
            if self._closing:
                raise RuntimeError(f"{self.description}: the store is closed")
            if not self._threads:
                self._start_threads()
            self._queued.append(pending)
            self._for_writers.notify()
        await pending.future

    def _start_threads(self) -> None:
        for number in range(self._writers_wanted):
            self._threads.append(
                threading.Thread(
                    target=self._write_loop, name=f"local-store-writer-{number}", daemon=True
                )
            )
        self._threads.append(
            threading.Thread(target=self._sync_rounds, name="local-store-syncer", daemon=True)
        )
        for thread in self._threads:
            thread.start()

    def _remake(self) -> None:
        with self._dirs_lock:
            self._known_dirs.clear()
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        log.warning("%s was missing: made it again", self.bucket_dir)

    # ---- writer threads: temporary files, no flush ------------------------------------

    def _write_loop(self) -> None:
        while True:
            with self._lock:
                while not self._queued and not self._closing:
                    self._for_writers.wait()
                if not self._queued:
                    return  # closing, and nothing left to write
                batch, self._queued = self._queued, []
                self._writing += len(batch)
            failed = []
            for pending in batch:
                try:
                    self._write_temp(pending)
                except Exception as error:  # whatever it is, the put must hear of it
                    pending.error = error
                    failed.append(pending)
            with self._lock:
                self._writing -= len(batch)
                self._written.extend(p for p in batch if p.error is None)
                self._for_syncer.notify()
            if failed:
                _deliver(failed)

    def _write_temp(self, pending: _Pending) -> None:
        self._make_folder(pending.folder)
        temp = f"{self.temp_dir}/{self._temp_prefix}{next(self._temp_numbers)}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            view = memoryview(pending.body or b"")
            while view:
                written = os.write(fd, view)
                view = view[written:]
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        pending.temp, pending.body = temp, None
        if self.sync == SYNCFS:
            os.close(fd)  # syncfs finds the data by its file system, not by this fd
        else:
            pending.fd = fd

    def _make_folder(self, directory: str) -> None:
        """Make ``directory`` and its parents, durably, the first time this process uses it.

        The rounds sync only the folders that get files; the entries naming a folder and its
        parents (made now, or by a process that crashed before syncing them) are synced
        here, once per folder, under a lock so that no put into it returns before that.
        """
        if directory in self._known_dirs:
            return
        with self._dirs_lock:
            if directory in self._known_dirs:
                return
            os.makedirs(directory, exist_ok=True)
            folder, root = directory, str(self.root)
            while folder != root and len(folder) > len(root):
                folder = os.path.dirname(folder)
                _fsync_path(folder)
            self._known_dirs.add(directory)

    # ---- the syncer: one barrier per round ---------------------------------------------

    def _sync_rounds(self) -> None:
        renamed: list[_Pending] = []  # renamed last round: this round's barrier covers them
        while True:
            with self._lock:
                while not self._written and not renamed:
                    if self._closing and not self._queued and not self._writing:
                        self._close_fs_fd()
                        return
                    self._for_syncer.wait()
                written, self._written = self._written, []
            try:
                self._barrier(written, renamed)
            except Exception as error:  # whatever it is, every put of the round hears of it
                for pending in renamed + written:
                    pending.error = _copy_error(error)
                for pending in written:
                    self._discard(pending)
                _deliver(renamed + written)
                renamed = []
                continue
            finally:
                for pending in written:
                    if pending.fd is not None:
                        os.close(pending.fd)
                        pending.fd = None
            self.rounds += 1
            _deliver(renamed)
            renamed, failed = [], []
            for pending in written:
                try:
                    os.replace(pending.temp, pending.final)
                except Exception as error:
                    pending.error = error
                    self._discard(pending)
                    failed.append(pending)
                else:
                    renamed.append(pending)
            if failed:
                _deliver(failed)

    def _barrier(self, written: list[_Pending], renamed: list[_Pending]) -> None:
        """Make durable the data of ``written`` and the renames of ``renamed``, together."""
        if self.sync == SYNCFS:
            assert _syncfs is not None
            _syncfs(self._file_system_fd())
            return
        assert self._fsync_pool is not None
        pool = self._fsync_pool
        jobs = [pool.submit(os.fsync, p.fd) for p in written if p.fd is not None]
        folders = {pending.folder for pending in renamed}
        jobs += [pool.submit(_fsync_path, folder) for folder in folders]
        wait(jobs)
        for job in jobs:
            job.result()  # the first failure fails the round

    def _file_system_fd(self) -> int:
        """A long-lived descriptor on temp_dir's file system.

        Long-lived because syncfs reports a write-back error to each descriptor opened
        before it; one opened per round would miss errors of background write-back.  Opened
        again only if temp_dir is now on another file system (the root was replaced).
        """
        try:
            device = os.stat(self.temp_dir).st_dev
        except OSError:
            # Swept by another process's start-up, or the root moved away: the descriptor
            # still names the file system the round's files are on (a missing folder fails
            # their renames, which the puts retry).
            if self._fs_fd is None:
                raise
            return self._fs_fd
        if self._fs_fd is not None and os.fstat(self._fs_fd).st_dev != device:
            self._close_fs_fd()
        if self._fs_fd is None:
            self._fs_fd = os.open(self.temp_dir, os.O_RDONLY | os.O_CLOEXEC)
        return self._fs_fd

    def _close_fs_fd(self) -> None:
        if self._fs_fd is not None:
            os.close(self._fs_fd)
            self._fs_fd = None

    @staticmethod
    def _discard(pending: _Pending) -> None:
        if pending.temp:
            with contextlib.suppress(OSError):  # else swept at the next start-up
                os.unlink(pending.temp)

    @staticmethod
    def _check_key(key: str) -> None:
        if any(part in ("", ".", "..") for part in key.split("/")):
            raise StoreError(f"object key {key!r} cannot be a file path", transient=False)

    def _path_of(self, key: str) -> Path:
        self._check_key(key)
        return self.bucket_dir.joinpath(*key.split("/"))

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path_of(key).read_bytes)

    async def list(self, prefix: str) -> list[ObjectInfo]:
        return await asyncio.to_thread(self._list, prefix)

    def _list(self, prefix: str) -> list[ObjectInfo]:
        # Walk only the folder the prefix names; the rest of the prefix filters names in it.
        folder = prefix.rpartition("/")[0]
        start = self.bucket_dir.joinpath(*folder.split("/")) if folder else self.bucket_dir
        found: list[ObjectInfo] = []
        for directory, _dirs, files in os.walk(start):
            for name in files:
                path = Path(directory, name)
                key = path.relative_to(self.bucket_dir).as_posix()
                if key.startswith(prefix):
                    try:
                        found.append(ObjectInfo(key, path.stat().st_size))
                    except FileNotFoundError:  # deleted while listing
                        continue
        return found

    async def list_page(
        self, prefix: str, *, after: str | None = None, limit: int = 1000, delimited: bool = False
    ) -> ListPage:
        return await asyncio.to_thread(
            local_page, self.bucket_dir, prefix, after, limit, delimited
        )

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        # The threads finish every put handed over (writers first, then the syncer's last
        # rounds) before they stop: those puts return as usual.
        with self._lock:
            self._closing = True
            self._for_writers.notify_all()
            self._for_syncer.notify_all()
            threads = list(self._threads)
        for thread in threads:
            thread.join()
        if self._fsync_pool is not None:
            self._fsync_pool.shutdown(wait=True)

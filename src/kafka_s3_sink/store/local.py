"""A local directory laid out like MinIO's ``data/`` folder: ``<root>/<bucket>/<key>``.

Each object is written to a temporary file, flushed to disk, then renamed onto its final
name, so a crash never leaves a partial object under a real key.  Temporary files live in
one hidden folder at the root (same file system, so the rename stays atomic) and are swept
at start-up.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .base import ObjectInfo, StoreError
from .paging import ListPage, local_page

log = logging.getLogger(__name__)

TEMP_DIR_NAME = ".kafka-s3-sink-tmp"


class LocalObjectStore:
    def __init__(self, root: Path, bucket: str, threads: int = 32) -> None:
        self.root = root
        self.bucket_dir = root / bucket
        self.temp_dir = root / TEMP_DIR_NAME
        self.description = f"local directory {self.bucket_dir}"
        # fsync blocks its thread for the disk's latency; many threads keep the disk busy.
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="local-store")
        self._known_dirs: set[Path] = set()

    async def check(self) -> None:
        try:
            self.bucket_dir.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(self.temp_dir, ignore_errors=True)
            self.temp_dir.mkdir(parents=True, exist_ok=True)
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
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._pool, self._write, key, body)
        except OSError as error:
            # A full disk or a permission change may be mended while we wait and retry.
            raise StoreError(f"writing {key} failed: {error}", transient=True) from error

    def _write(self, key: str, body: bytes | memoryview) -> None:
        try:
            self._write_once(key, body)
        except FileNotFoundError:
            # The bucket folder or the root was moved or deleted while running: forget the
            # folders known to exist and make them again, as a start-up would.
            self._known_dirs.clear()
            self.temp_dir.mkdir(parents=True, exist_ok=True)
            log.warning("%s was missing: made it again", self.bucket_dir)
            self._write_once(key, body)

    def _write_once(self, key: str, body: bytes | memoryview) -> None:
        final = self._path_of(key)
        directory = final.parent
        if directory not in self._known_dirs:
            directory.mkdir(parents=True, exist_ok=True)
            self._known_dirs.add(directory)
        temp = self.temp_dir / uuid.uuid4().hex
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(body)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, final)
        # The rename itself is durable only once the directory entry is on disk.
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _path_of(self, key: str) -> Path:
        parts = key.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise StoreError(f"object key {key!r} cannot be a file path", transient=False)
        return self.bucket_dir.joinpath(*parts)

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
        self._pool.shutdown(wait=True)

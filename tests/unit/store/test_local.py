"""The local-directory store on a real file system."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from kafka_s3_sink.store.local import LocalObjectStore


def test_a_root_moved_away_while_running_is_made_again(tmp_path: Path) -> None:
    root = tmp_path / "data"
    store = LocalObjectStore(root, "bucket", threads=2)

    async def go() -> None:
        await store.check()
        await store.put("topics/t/a+0.bin", b"one")
        shutil.move(root, tmp_path / "elsewhere")
        await store.put("topics/t/a+1.bin", b"two")  # the folder it knew is gone
        await store.close()

    asyncio.run(go())
    assert (root / "bucket/topics/t/a+1.bin").read_bytes() == b"two"
    assert (tmp_path / "elsewhere/bucket/topics/t/a+0.bin").read_bytes() == b"one"

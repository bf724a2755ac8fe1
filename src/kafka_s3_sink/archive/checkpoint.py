"""A restore's checkpoint file: per target partition, what the broker acknowledged.

For each partition it keeps a consistent pair: the last source offset whose record the
broker acknowledged, and the target partition's end offset just after that record (or, for a
partition nothing was sent to yet, its end offset when the restore began).  The file is
replaced atomically (temporary file, fsync, rename), so a kill at any moment leaves either
the old pair or the new one, never half of each.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

VERSION = 1


class CheckpointError(ValueError):
    """The checkpoint file cannot be used for this restore (another one, or unreadable)."""


@dataclass
class PartitionMark:
    source_offset: int | None  # last acknowledged source offset; None: none yet
    target_end: int  # the target partition's end offset right after it


@dataclass
class Checkpoint:
    identity: str  # source, target and selection: resumed only by the same restore
    partitions: dict[int, PartitionMark] = field(default_factory=dict)
    done: bool = False

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": VERSION,
                "identity": self.identity,
                "done": self.done,
                "partitions": {
                    str(p): {"source_offset": m.source_offset, "target_end": m.target_end}
                    for p, m in sorted(self.partitions.items())
                },
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        try:
            data = json.loads(text)
            if data.get("version") != VERSION:
                raise CheckpointError(f"checkpoint version {data.get('version')!r} unknown")
            return cls(
                data["identity"],
                {
                    int(p): PartitionMark(m["source_offset"], int(m["target_end"]))
                    for p, m in data["partitions"].items()
                },
                bool(data.get("done", False)),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            if isinstance(error, CheckpointError):
                raise
            raise CheckpointError(f"unreadable checkpoint: {error}") from None


def load(path: Path) -> Checkpoint | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    return Checkpoint.from_json(text)


def save(path: Path, checkpoint: Checkpoint) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    data = checkpoint.to_json().encode()
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)

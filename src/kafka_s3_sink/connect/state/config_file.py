"""Connector configs and target states kept in a local JSON file: standalone mode.

For a site that cannot create the compacted config topic (ACLs), or runs one service only:
``CONFIG_STORAGE_FILE=/var/lib/kafka-s3-sink/connectors.json``.  The file maps each
connector's name to its config, target state and origin; every change rewrites it whole
(temporary file, fsync, rename, directory fsync), so a crash leaves the old or the new file,
never a torn one.  One service per file: nothing follows changes made by another process.
The file is readable by its owner only (0600) and holds secret values encrypted, as the
config topic does (secret_box.py).

A file that is not ours stops start-up with ConfigStoreError naming it (nothing would be
safe to overwrite).  One entry that cannot be read becomes a FAILED connector, as a bad
record of the config topic does, and is written back untouched until replaced or deleted.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from .config_topic import ChangeHandler, ConfigStoreError, StoredConnector, decode_entry
from .secret_box import SecretBox, seal

PRIVATE = 0o600  # connector configs may name buckets, users and (encrypted) secrets


class ConfigFile:
    def __init__(self, path: Path, box: SecretBox | None = None) -> None:
        self.path = path
        self.box = box
        self._state: dict[str, StoredConnector] = {}
        self._unreadable: dict[str, Any] = {}  # name -> its entry, kept as found
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def ensure_exists(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def load(self) -> dict[str, StoredConnector]:
        if not self.path.exists():
            return {}
        try:
            os.chmod(self.path, PRIVATE)  # a file of an older version may be world-readable
            entries = json.loads(self.path.read_text(encoding="utf-8"))["connectors"]
            if not isinstance(entries, dict):
                raise TypeError('"connectors" is not an object')
        except OSError as error:
            raise ConfigStoreError(
                f"CONFIG_STORAGE_FILE {self.path} cannot be read: {error.strerror or error}"
            ) from None
        except (ValueError, KeyError, TypeError) as error:
            raise ConfigStoreError(
                f"CONFIG_STORAGE_FILE {self.path} is not a connector file written by "
                f"kafka-s3-sink ({error!r}): move it away or fix it"
            ) from None
        where = f"CONFIG_STORAGE_FILE {self.path}"
        state = {
            name: decode_entry(name, entry, where, self.box) for name, entry in entries.items()
        }
        with self._lock:
            self._state = {n: s for n, s in state.items() if s.error is None}
            self._unreadable = {n: entries[n] for n, s in state.items() if s.error is not None}
        return state

    def follow(self, on_change: ChangeHandler) -> None:
        """Nothing to follow (one service per file): wait for close()."""
        self._stop.wait()

    def write(self, name: str, stored: StoredConnector | None) -> None:
        with self._lock:
            self._unreadable.pop(name, None)  # replaced or deleted
            if stored is None:
                self._state.pop(name, None)
            else:
                self._state[name] = stored
            entries = {
                n: {
                    "config": seal(self.box, s.config),
                    "target_state": s.target_state,
                    "origin": s.origin,
                }
                for n, s in self._state.items()
            }
            document = {"connectors": dict(sorted({**entries, **self._unreadable}.items()))}
            self._replace(json.dumps(document, indent=2, sort_keys=True).encode() + b"\n")

    def _replace(self, body: bytes) -> None:
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
        os.fchmod(descriptor, PRIVATE)  # a temporary file left by a crash may have had others
        with os.fdopen(descriptor, "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def close(self) -> None:
        self._stop.set()

    def close_consumer(self) -> None:
        """Nothing to close: no consumer reads a file."""

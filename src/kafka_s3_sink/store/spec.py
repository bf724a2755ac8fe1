"""Where a connector's objects go: the settings every store is built from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StoreSpec:
    bucket: str
    region: str = "us-east-1"
    endpoint_url: str | None = None  # None: AWS
    access_key_id: str = ""
    secret_access_key: str = ""
    local_root: Path | None = None  # set: a local directory store (<root>/<bucket>/<key>)
    create_bucket: bool = False

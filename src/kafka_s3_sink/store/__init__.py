"""Object stores: one interface (``ObjectStore``), an S3 and a local-directory implementation."""

from __future__ import annotations

from .base import ObjectInfo, ObjectStore, StoreError
from .local import LocalObjectStore
from .s3 import S3ObjectStore, S3Settings

__all__ = [
    "LocalObjectStore",
    "ObjectInfo",
    "ObjectStore",
    "S3ObjectStore",
    "S3Settings",
    "StoreError",
]

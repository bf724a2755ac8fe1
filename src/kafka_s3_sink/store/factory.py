"""One store per distinct StoreSpec: connectors writing to the same place share a client."""

from __future__ import annotations

from .base import ObjectStore
from .local import LocalObjectStore
from .s3 import S3ObjectStore, S3Settings
from .spec import StoreSpec


def open_store(spec: StoreSpec) -> ObjectStore:
    if spec.local_root is not None:
        return LocalObjectStore(spec.local_root, spec.bucket)
    return S3ObjectStore(
        S3Settings(
            bucket=spec.bucket,
            region=spec.region,
            access_key_id=spec.access_key_id,
            secret_access_key=spec.secret_access_key,
            endpoint_url=spec.endpoint_url,
            create_bucket=spec.create_bucket,
        )
    )


class StorePool:
    """Opens each distinct store once, checks it once, closes them all at the end."""

    def __init__(self) -> None:
        self._stores: dict[StoreSpec, ObjectStore] = {}

    async def get(self, spec: StoreSpec) -> ObjectStore:
        store = self._stores.get(spec)
        if store is None:
            store = open_store(spec)
            await store.check()  # raises StoreError with what to fix; not kept if so
            self._stores[spec] = store
        return store

    async def close(self) -> None:
        for store in self._stores.values():
            await store.close()
        self._stores.clear()

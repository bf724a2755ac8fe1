"""One store per distinct StoreSpec: connectors writing to the same place share a client."""

from __future__ import annotations

from .base import ObjectStore
from .local import LocalObjectStore
from .s3 import S3ObjectStore, S3Settings
from .s3_transport import S3Transport
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
            transport=S3Transport(
                sse_algorithm=spec.sse_algorithm,
                sse_kms_key_id=spec.sse_kms_key_id,
                sse_customer_key=spec.sse_customer_key,
                proxy_url=spec.proxy_url,
                proxy_user=spec.proxy_user,
                proxy_password=spec.proxy_password,
                ca_file=spec.ca_file,
            ),
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

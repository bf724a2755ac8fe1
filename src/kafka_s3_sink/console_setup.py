"""The web console (connect/console/) wired to this service's worker and .env settings."""

from __future__ import annotations

from .connect.console.routes import Console, ConsoleSources
from .connect.worker import Worker
from .settings.reference_connectors import store_spec
from .settings.variables import Settings
from .store import ObjectStore


def build_console(settings: Settings, worker: Worker, tls: bool) -> Console:
    spec = store_spec(settings)

    async def env_store() -> ObjectStore:
        # The pool opens the .env store once and shares it with the connectors writing there.
        return await worker.stores.get(spec)

    where = (
        f"{spec.local_root}/{spec.bucket} (local directory)"
        if spec.local_root is not None
        else f"s3://{spec.bucket} at {spec.endpoint_url or f'AWS S3 ({spec.region})'}"
    )
    return Console(
        ConsoleSources(
            stats=worker.options.stats,
            tasks=worker.sink_tasks,
            store=env_store,
            store_of=worker.stores.get,
            store_description=where,
            topics_dir=settings["TOPICS_DIR"],
            dead_letter_prefix=settings["DEAD_LETTER_PREFIX"],
            timestamp_extension=settings["TIMESTAMP_EXTENSION"],
            tls=tls,
            timezone=settings["TIMEZONE"],
        )
    )

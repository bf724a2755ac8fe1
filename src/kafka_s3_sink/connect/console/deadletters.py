"""Dead letters in the console: the list with reasons, and a re-run through the pipeline.

engine/deadletter.py keeps each one as ``<prefix>/<topic>/<topic>+<p>+<offset>.bin`` (the
value as it came) beside ``....reason.json`` (why, and the record's metadata).  A re-run
rebuilds the record from those two and hands it to every running connector of its topic,
as their tasks would: if it now converts (a password added, a converter changed), its
objects are written where the record would have gone.  The dead letter itself stays: the
archive is never edited.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace

from ...pipeline.assembler import ObjectAssembler
from ...pipeline.formats.base import compress
from ...pipeline.records import Record
from ...pipeline.sinetstream_codec import UndecodableMessage
from ...pipeline.spec import ConnectorSpec, RotationSpec
from ...store import ObjectStore
from ...store.spec import StoreSpec
from .archive import ArchiveIndex

REASON_SUFFIX = ".reason.json"
VALUE_SUFFIX = ".bin"


class DeadLetters:
    def __init__(
        self,
        index: ArchiveIndex,
        store: Callable[[], Awaitable[ObjectStore]],
        prefix: str,
        remember: int = 10_000,
    ) -> None:
        self.index = index
        self._store = store
        self.prefix = prefix.rstrip("/") + "/"
        # Reasons never change once written: kept (a bounded number) once read.
        self._reasons: OrderedDict[str, dict] = OrderedDict()
        self._remember = remember

    def owns(self, key: str) -> bool:
        return key.startswith(self.prefix) and key.endswith((VALUE_SUFFIX, REASON_SUFFIX))

    async def page(self, page: int, size: int, fresh: bool = False) -> dict:
        """Newest first: ``size`` dead letters with their reasons, and how many there are."""
        top = await self.index.folder(self.prefix, fresh)
        values = []
        for folder in top.folders:
            objects = await self.index.objects(folder, fresh)
            values += [o for o in objects if o.key.endswith(VALUE_SUFFIX)]
        values.sort(key=lambda o: (o.modified, o.key), reverse=True)
        chosen = values[page * size : (page + 1) * size]
        items = []
        for listed in chosen:
            details = await self.reason(listed.key)
            items.append({"key": listed.key, "size": listed.size, "modified": listed.modified,
                          **details})
        return {"total": len(values), "page": page, "size": size, "items": items}

    async def reason(self, value_key: str) -> dict:
        """The .reason.json of a dead letter's value key ({} if it cannot be read)."""
        key = value_key.removesuffix(VALUE_SUFFIX) + REASON_SUFFIX
        cached = self._reasons.get(key)
        if cached is not None:
            return cached
        store = await self._store()
        try:
            details = json.loads(await store.get(key))
        except Exception:  # missing or not JSON: shown without details, tried again later
            return {}
        if not isinstance(details, dict):
            return {}
        self._reasons[key] = details
        if len(self._reasons) > self._remember:
            self._reasons.popitem(last=False)
        return details

    async def record(self, value_key: str) -> Record:
        """The Kafka record a dead letter was made from."""
        store = await self._store()
        value = await store.get(value_key)
        details = await self.reason(value_key)
        match = re.search(r"([^/]+)\+(\d+)\+(\d+)\.bin$", value_key)
        if not details or match is None:
            raise ValueError(f"{value_key} is not a dead letter with its {REASON_SUFFIX}")
        key = details.get("key_base64")
        return Record(
            topic=str(details.get("topic", match[1])),
            partition=int(details.get("partition", match[2])),
            offset=int(details.get("offset", match[3])),
            timestamp_ms=details.get("timestamp_ms"),
            key=None if key is None else base64.b64decode(key),
            value=None if details.get("value_is_null") else value,
            headers=tuple(
                (str(name), None if v is None else base64.b64decode(v))
                for name, v in details.get("headers", [])
            ),
        )


async def rerun(
    record: Record,
    specs: list[ConnectorSpec],
    store_of: Callable[[StoreSpec], Awaitable[ObjectStore]],
) -> list[dict]:
    """Convert ``record`` with each running connector of its topic and store what converts.

    One answer per connector: the keys written, or why the record still cannot be read."""
    results = []
    for spec in specs:
        if not _reads(spec, record.topic):
            continue
        # An object of its own: the batch it belonged to was written without it long ago.
        single = replace(spec, rotation=RotationSpec(flush_size=1))
        try:
            value = single.convert(record)
            if value is None:
                results.append({"connector": spec.name, "skipped": "null value ignored"})
                continue
            assembler = ObjectAssembler(single)
            batches = assembler.add(record, value, time.time_ns() // 1_000_000)
        except UndecodableMessage as error:
            results.append({"connector": spec.name, "error": error.reason})
            continue
        except Exception as error:  # what a task would also keep as a dead letter
            results.append({"connector": spec.name, "error": f"{type(error).__name__}: {error}"})
            continue
        store = await store_of(spec.store)
        keys = []
        for batch in batches:
            body = compress(
                single.format.encode(batch.values), single.compression, single.compression_level
            )
            key = assembler.key_of(batch)
            await store.put(key, body)
            keys.append(key)
        results.append({"connector": spec.name, "written": keys})
    return results


def _reads(spec: ConnectorSpec, topic: str) -> bool:
    if spec.topics_regex:
        return re.fullmatch(spec.topics_regex, topic) is not None
    return topic in spec.topics

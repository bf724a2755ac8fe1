"""Every upload failure ends visibly: retried while transient, else handed to on_failure."""

from __future__ import annotations

import asyncio

from kafka_s3_sink.engine.delivery import InflightBudget, PartitionProgress
from kafka_s3_sink.engine.fencing import FreezeFence
from kafka_s3_sink.engine.stats import TaskStats
from kafka_s3_sink.engine.uploads import Uploads
from kafka_s3_sink.pipeline.records import StoredObject
from kafka_s3_sink.store import StoreError


class FlakyStore:
    """Fails the first ``failures`` puts with ``error``, then stores."""

    description = "flaky"

    def __init__(self, error: Exception, failures: int) -> None:
        self.error = error
        self.failures = failures
        self.stored: dict[str, bytes] = {}

    async def put(self, key: str, body: bytes | memoryview) -> None:
        if self.failures:
            self.failures -= 1
            raise self.error
        self.stored[key] = bytes(body)


def run_upload(
    store: FlakyStore, owned: bool = True
) -> tuple[Uploads, list[BaseException], PartitionProgress]:
    failures: list[BaseException] = []
    budget = InflightBudget(4, 1 << 20)
    fence = FreezeFence("t", gap_s=5.0)
    uploads = Uploads("t", store, budget, TaskStats(), failures.append, fence)  # type: ignore[arg-type]
    progress = PartitionProgress()
    progress.started(7)
    progress.owned = owned

    async def go() -> None:
        await uploads.start([StoredObject("k", b"v")], [7], progress)
        await uploads.drain()

    asyncio.run(go())
    return uploads, failures, progress


def test_an_exception_of_any_type_fails_the_task_and_commits_nothing() -> None:
    uploads, failures, progress = run_upload(
        FlakyStore(UnicodeEncodeError("utf-8", "", 0, 1, "x"), 1)
    )
    assert len(failures) == 1 and isinstance(failures[0], UnicodeEncodeError)
    assert progress.commit_due() is None
    assert uploads.running == 0


def test_a_permanent_store_error_fails_the_task() -> None:
    _, failures, progress = run_upload(FlakyStore(StoreError("no bucket", transient=False), 1))
    assert [str(f) for f in failures] == ["no bucket"]
    assert progress.commit_due() is None


def test_a_transient_error_is_retried_until_stored_and_then_cleared() -> None:
    store = FlakyStore(StoreError("503", transient=True), 2)
    uploads, failures, progress = run_upload(store)
    assert failures == [] and store.stored == {"k": b"v"}
    assert progress.commit_due() == 8
    assert uploads.stats.retries == 2
    assert uploads.retrying_since is None and uploads.last_error == "503"


def test_an_upload_of_a_partition_given_away_is_not_written() -> None:
    store = FlakyStore(StoreError("503", transient=True), 0)
    uploads, failures, progress = run_upload(store, owned=False)
    assert store.stored == {} and failures == []
    assert progress.commit_due() is None and uploads.running == 0

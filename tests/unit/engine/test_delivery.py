"""The commit watermark: only contiguous stored offsets become committable."""

import asyncio

from kafka_s3_sink.engine.delivery import InflightBudget, PartitionProgress


def test_position_waits_for_lower_offsets() -> None:
    progress = PartitionProgress()
    for offset in (5, 6, 7, 9):  # 8 missing: compacted away or a transaction marker
        progress.started(offset)
    progress.finished(7)
    progress.finished(6)
    assert progress.position is None
    progress.finished(5)
    assert progress.position == 8
    progress.finished(9)
    assert progress.position == 10
    assert progress.commit_due() == 10
    progress.committed = 10
    assert progress.commit_due() is None


def test_budget_bounds_objects_and_bytes() -> None:
    async def scenario() -> list[str]:
        budget = InflightBudget(max_objects=2, max_bytes=100)
        events: list[str] = []
        await budget.acquire(60)
        waiter = asyncio.create_task(budget.acquire(60))
        await asyncio.sleep(0.01)
        events.append(f"blocked={not waiter.done()}")
        await budget.release(60)
        await asyncio.wait_for(waiter, 1)
        events.append(f"objects={budget.objects} bytes={budget.bytes}")
        return events

    assert asyncio.run(scenario()) == ["blocked=True", "objects=1 bytes=60"]


def test_oversized_object_passes_alone() -> None:
    async def scenario() -> int:
        budget = InflightBudget(max_objects=4, max_bytes=10)
        await asyncio.wait_for(budget.acquire(1000), 1)
        return budget.bytes

    assert asyncio.run(scenario()) == 1000

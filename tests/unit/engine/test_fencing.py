"""The freeze fence: a gap in the task's ticks holds writes until ownership is confirmed."""

from __future__ import annotations

import asyncio
import time

import pytest

from kafka_s3_sink.engine.fencing import FreezeFence


def test_no_gap_no_hold() -> None:
    fence = FreezeFence("t", gap_s=5.0)
    assert fence.clear and fence.tick() is False


def test_a_gap_holds_writes_until_confirmed(monkeypatch: pytest.MonkeyPatch) -> None:
    fence = FreezeFence("t", gap_s=5.0)
    frozen_until = time.monotonic() + 6.0
    monkeypatch.setattr(time, "monotonic", lambda: frozen_until)  # six seconds not running
    assert not fence.clear
    assert fence.tick() is True and fence.frozen_for >= 6.0
    monkeypatch.undo()  # the event loop needs a clock that moves

    async def writer_and_confirmer() -> list[str]:
        events: list[str] = []

        async def write() -> None:
            await fence.wait_until_clear()
            events.append("written")

        writing = asyncio.create_task(write())
        await asyncio.sleep(0.05)
        events.append("confirmed")
        fence.confirm("test")
        await writing
        return events

    assert asyncio.run(writer_and_confirmer()) == ["confirmed", "written"]
    assert fence.tick() is False

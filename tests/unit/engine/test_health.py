"""What a running task says about itself in its status: retries and stalls."""

from __future__ import annotations

import time

import pytest

from kafka_s3_sink.connect.config.parser import parse_connector_config
from kafka_s3_sink.engine.sink_task import SinkTask, TaskOptions
from kafka_s3_sink.store.local import LocalObjectStore

from ..reference_data import reference_data_config


def make_task(tmp_path, stall_timeout_s: float) -> SinkTask:
    spec = parse_connector_config("data", {"name": "data", **reference_data_config("t")})
    options = TaskOptions("dead-letter", 8, 1 << 20, 1.0, 5.0, stall_timeout_s=stall_timeout_s)
    store = LocalObjectStore(tmp_path, "b", threads=1)
    return SinkTask(spec, {"group.id": "g", "session.timeout.ms": 10000}, store, options)


def test_a_task_storing_and_keeping_up_is_healthy(tmp_path) -> None:
    assert make_task(tmp_path, 60).health() is None


def test_no_progress_while_records_wait_is_a_stall(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = make_task(tmp_path, 5)
    task.stats.progress_at = time.monotonic() - 30
    monkeypatch.setattr(task, "lag", lambda: {"t[0]": 42})
    assert task.health() is not None and "stalled" in task.health()
    assert "42 records wait" in task.health()
    monkeypatch.setattr(task, "lag", lambda: {"t[0]": 0})  # idle, nothing waits: fine
    assert task.health() is None


def test_uploads_failing_for_a_while_show_as_retrying(tmp_path) -> None:
    task = make_task(tmp_path, 60)
    task._uploads.retrying_since = time.monotonic() - 12
    task._uploads.last_error = "upload failed: 503 SlowDown"
    assert task.health() is not None
    assert task.health().startswith("retrying uploads for 12 s")
    assert "503 SlowDown" in task.health()

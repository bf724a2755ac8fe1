"""Where the benchmark keeps what it builds or downloads (never committed).

A directory of its own, not the project's `~/.cache/kafka-s3-sink` that the dev broker and its
tests use: those tests may empty that directory to check a fresh download, which would throw
away a 2.5-minute Rust build or the Kafka Connect jars in the middle of a benchmark.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """$KAFKA_S3_SINK_BENCH_CACHE, or ~/.cache/kafka-s3-sink-bench."""
    env = os.environ.get("KAFKA_S3_SINK_BENCH_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "kafka-s3-sink-bench"

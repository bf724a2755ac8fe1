"""Benchmark of kafka-s3-sink against Kafka Connect; run its scripts as `python -m bench.<name>`."""

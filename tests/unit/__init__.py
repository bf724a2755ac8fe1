"""Unit tests, one folder per layer of the package (src/kafka_s3_sink)."""

"""Transient S3 faults (503s, an outage) are retried: nothing is lost.

The broker restart, SIGKILLs and the rest of the fault suite are in tests/faults/."""

from __future__ import annotations

import pytest
from faulty_proxy import FaultyProxy
from harness import (
    Service,
    expected_objects,
    payload_of,
    read_topic,
    s3_env,
    s3_objects,
    tstamp_of,
    wait_until,
)
from helpers import make_bucket, produce_sinetstream

pytestmark = pytest.mark.integration

WRITER_TIME = 1650243600.123456


def test_s3_errors_and_an_outage_are_retried(tmp_path, kafka_broker, s3_endpoint, topic_factory):
    topic = topic_factory(partitions=3)
    bucket = make_bucket(s3_endpoint)
    payloads = [f"reading {i}".encode() for i in range(300)]
    produce_sinetstream(kafka_broker.bootstrap, topic, payloads, timestamp=WRITER_TIME)
    records = read_topic(kafka_broker.bootstrap, topic, len(payloads))
    expected = expected_objects(topic, records, payload_of, tstamp_of)

    with FaultyProxy(s3_endpoint, put_failure_rate=0.3) as proxy:
        env_file = s3_env(
            tmp_path, kafka_broker.bootstrap, topic, proxy.url, bucket,
            MAX_INFLIGHT_OBJECTS="16",
        )
        with Service(env_file, tmp_path / "service.log") as service:
            wait_until(lambda: len(s3_objects(s3_endpoint, bucket)) > 100, 60, "first objects")
            proxy.outage(3)  # every request fails for three seconds
            wait_until(
                lambda: len(s3_objects(s3_endpoint, bucket)) >= len(expected),
                120,
                "every object despite the faults",
            )
            assert service.stop() == 0, service.log()
        assert proxy.failed_puts > 50
    assert s3_objects(s3_endpoint, bucket) == expected

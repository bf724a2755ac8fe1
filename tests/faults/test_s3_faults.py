"""S3 failing under the service: the TCP line cut for 30 s, and 500 / 503 / SlowDown answers
to a share of requests. Both are transient: everything must be stored in the end (audit)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from audit import S3Bucket, audit, count_under, reference_expectation
from chaos import (
    BackgroundProducer,
    payloads,
    records_now,
    stop_cleanly,
    tail,
    wait_for_commits,
    wait_for_objects,
)
from faulty_proxy import FaultyProxy
from harness import Service
from harness import s3_env as harness_s3_env
from helpers import make_bucket
from tcp_proxy import TcpProxy

CUT_S = 30


def s3_env(directory, bootstrap: str, topic: str, endpoint: str, bucket: str, **extra: str):
    return harness_s3_env(directory, bootstrap, topic, endpoint, bucket,
                          PROGRESS_INTERVAL_S="1", **extra)


@pytest.mark.timeout(300)
def test_s3_cut_for_30s_mid_stream(tmp_path, kafka_broker, s3_endpoint, topic_factory):
    topic = topic_factory(partitions=3)
    bucket = make_bucket(s3_endpoint)
    store = S3Bucket(s3_endpoint, bucket)
    upstream = urlsplit(s3_endpoint)
    values = payloads(600)
    # 30 chunks 1.5 s apart: messages keep coming before, during and after the cut.
    producer = BackgroundProducer(kafka_broker.bootstrap, topic, values, chunk=20, pause=1.5)
    with TcpProxy(upstream.hostname, upstream.port) as proxy, producer:
        env_file = s3_env(tmp_path, kafka_broker.bootstrap, topic, proxy.url, bucket)
        with Service(env_file, tmp_path / "service.log") as service:
            producer.start()
            wait_for_objects(store, 60, 60, [service], "archiving under way")
            log_before = len(service.log())
            proxy.cut(CUT_S)
            # Requests forwarded before the cut may still complete on the S3 server (their
            # answers are lost: the service must retry them); nothing else gets through.
            time.sleep(5)
            stored_early = count_under(store)
            time.sleep(CUT_S - 5.5)
            assert service.running, tail(service)
            stored_late = count_under(store)
            during = service.log()[log_before:]
            producer.join(120)
            records = records_now(kafka_broker.bootstrap, topic)
            expected = reference_expectation(topic, records)
            wait_for_objects(store, len(expected), 150, [service], "every object after the cut")
            wait_for_commits(kafka_broker.bootstrap, topic, 3, expected, 30, [service])
            stop_cleanly(service)
    audit(store, expected, bootstrap=kafka_broker.bootstrap, topic=topic, partitions=3,
          fully_committed=True)
    assert stored_late == stored_early, "objects got through the cut: the proxy leaks"
    # "Never stall silently": 30 s without S3 must show in the log while it lasts.
    assert "WARNING" in during or "ERROR" in during, f"nothing logged during the cut:\n{during}"


@pytest.mark.timeout(240)
def test_s3_500_503_and_slowdown_answers(tmp_path, kafka_broker, s3_endpoint, topic_factory):
    topic = topic_factory(partitions=3)
    bucket = make_bucket(s3_endpoint)
    store = S3Bucket(s3_endpoint, bucket)
    values = payloads(300)
    faults = ("InternalError", "ServiceUnavailable", "SlowDown")
    # A quarter of every kind of request (the start-up bucket check included) fails.
    with FaultyProxy(s3_endpoint, 0.25, seed=11, faults=faults,
                     methods=("GET", "HEAD", "PUT", "POST", "DELETE")) as proxy:
        env_file = s3_env(tmp_path, kafka_broker.bootstrap, topic, proxy.url, bucket,
                          MAX_INFLIGHT_OBJECTS="16")
        producer = BackgroundProducer(kafka_broker.bootstrap, topic, values, chunk=30,
                                      pause=0.3)
        with Service(env_file, tmp_path / "service.log") as service, producer:
            producer.start()
            producer.join(120)
            records = records_now(kafka_broker.bootstrap, topic)
            expected = reference_expectation(topic, records)
            wait_for_objects(store, len(expected), 150, [service], "every object despite 5xx")
            wait_for_commits(kafka_broker.bootstrap, topic, 3, expected, 30, [service])
            stop_cleanly(service)
    assert all(proxy.answered[fault] > 20 for fault in faults), proxy.answered
    audit(store, expected, bootstrap=kafka_broker.bootstrap, topic=topic, partitions=3,
          fully_committed=True)

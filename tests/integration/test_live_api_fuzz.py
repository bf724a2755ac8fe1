"""schemathesis against the OpenAPI document served by a running service: never a 5xx.

The unit fuzz test drives the app in-process with a fake registry; this one sends the
generated requests over HTTP to `kafka-s3-sink run` with its real worker, config topic and
the two reference connectors.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from harness import Service, env_value, wait_for_api, write_env
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def live_api(kafka_broker, tmp_path_factory) -> Iterator[str]:
    tmp_path = tmp_path_factory.mktemp("live-api")
    topic = kafka_broker.create_topic(f"fuzz-{tmp_path.name}", partitions=1)
    env_file = write_env(
        tmp_path / ".env",
        BROKER_HOSTNAME=kafka_broker.bootstrap,
        KAFKA_TOPIC=topic,
        S3_BUCKET_NAME="fuzz",
        STORE_URL=f"file://{tmp_path / 'data'}",
    )
    url = f"http://127.0.0.1:{env_value(env_file, 'REST_PORT')}"
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)  # start-up done: no 503 "still starting up"
        yield url
        assert service.running, service.log()  # no request brought it down
        assert service.stop() == 0, service.log()


def test_live_api_never_answers_5xx(live_api: str) -> None:
    schema = schemathesis.openapi.from_url(f"{live_api}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def call(case: schemathesis.Case) -> None:
            statuses.append(case.call_and_validate(checks=[not_a_server_error]).status_code)

        call()
    # Requests really went out, and both answers and refusals came back.
    assert len(statuses) >= 2 * len(operations)
    assert any(s < 300 for s in statuses) and any(400 <= s < 500 for s in statuses)

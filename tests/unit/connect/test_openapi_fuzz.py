"""Fuzz the REST API from its own /openapi.json: no request may cause a 5xx, and every answer
must have a documented status, content type and body shape.

schemathesis generates valid and invalid requests for every operation; the app runs in-process
with the in-memory registry, which is reset before each request so that examples do not leak
state into each other. Half of the generated names and configs are swapped for a real
connector's, or nearly every request would stop at a 404 or a 400.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from kafka_s3_sink.connect.rest.app import create_app

from .fake_registry import PLUGINS, FakeRegistry, FakeValidator, mask, sink_config

EXISTING = "s3-sink-data"

registry = FakeRegistry()
app = create_app(registry, FakeValidator(), PLUGINS, mask, "0.1.0")
schema = schemathesis.openapi.from_asgi("/openapi.json", app)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Like Kafka Connect, these two accept out-of-schema query values on purpose: an unknown
# ?expand= is ignored, and includeTasks/onlyFailed read anything but "true" as false (Java's
# Boolean.valueOf). Everywhere else, a request outside the schema must get a 4xx.
LENIENT_QUERY = {("GET", "/connectors"), ("POST", "/connectors/{name}/restart")}


def reset_registry() -> None:
    registry.reset()
    registry.add(EXISTING, sink_config(**{"tasks.max": "2"}))
    registry.committed[EXISTING] = {("sinetstream.sensor", 0): 42}


@schema.hook
def before_generate_path_parameters(
    context: schemathesis.HookContext, strategy: st.SearchStrategy
) -> st.SearchStrategy:
    def existing(params: Any) -> Any:
        if isinstance(params, dict) and "name" in params:
            return {**params, "name": EXISTING, **({"task": 0} if "task" in params else {})}
        return params

    return st.one_of(strategy, strategy.map(existing))


@schema.hook
def before_generate_body(
    context: schemathesis.HookContext, strategy: st.SearchStrategy
) -> st.SearchStrategy:
    def plausible(body: Any) -> Any:
        if not isinstance(body, dict):
            return body
        if isinstance(body.get("config"), dict):  # POST /connectors
            return {**body, "config": {**sink_config(), **body["config"]}}
        return {**sink_config(), **body}

    return st.one_of(strategy, strategy.map(plausible))


@schema.parametrize()
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi(case: schemathesis.Case) -> None:
    reset_registry()
    operation = (case.operation.method.upper(), case.operation.path)
    strict = [] if operation in LENIENT_QUERY else [negative_data_rejection]
    case.call_and_validate(checks=CHECKS + strict)

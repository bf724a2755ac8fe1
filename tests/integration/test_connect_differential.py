"""This service's Kafka Connect REST API against Apache Kafka Connect's, request by request.

A real Kafka Connect worker (distributed mode, connect-runtime 4.1.1 with the benchmark's
small S3 sink plugin, see connect_differential_support.py) and this service run on the same
broker. The same sequence of requests, valid and invalid, goes to both, and every answer is
compared: the status code, the shape of the JSON body (its keys and value types,
recursively) and, of its values, only the states of a status answer (not worker ids,
traces, timestamps, messages, plugin names). Then one real third-party client from PyPI
(kafka-connect-py) drives both through every method it has. With CONNECT_DIFF_DUMP=<file>
every pair of answers is written there in full (JSON lines).

Any difference fails the test unless an allow-list below gives the reason: ALLOWED (lasting
differences; one that stops occurring fails the test, so that the entry is removed and the
compatibility kept), BEING_FIXED (known incompatibilities being fixed now; one that stops
occurring is reported as a warning, to be removed) and UNSTABLE (timing or plugin).

Request bodies differ in two keys only: connector.class (this service runs only Confluent's
S3 sink, Kafka Connect here only the bench plugin) and consumer.override.group.id (both run
the same connector names; their consumer groups must not mix, or one's stopped connector
would see the other's live members when its offsets are altered).
"""

from __future__ import annotations

import json
import os
import re
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from confluent_kafka import Producer
from connect_differential_support import (
    BENCH_CONNECTOR_CLASS,
    Answer,
    ConnectWorker,
    Text,
    answer_differences,
    call,
    run_connect_distributed,
)
from harness import Service, env_value, wait_for_api, wait_until, write_env
from helpers import S3_ACCESS_KEY, S3_SECRET_KEY, make_bucket, make_topic, unique_name
from kafka_connect import KafkaConnect

# ~50 s here (the Connect JVM starts in ~8 s): not `slow`, which is for minutes.
pytestmark = pytest.mark.integration

S3_SINK = "io.confluent.connect.s3.S3SinkConnector"
SECRET_ENV = "DIFF_S3_SECRET"
# Every wait below is bounded by this (a state change takes < 5 s on either server).
STATE_TIMEOUT = 60.0


# -- what may differ -----------------------------------------------------------------------
#
# Each entry: case id (or "*": every case) -> differences allowed there, as printed by the
# test ("status 400 vs Kafka Connect 500", "$.connector: key 'version' only in Kafka
# Connect"); "*" in a pattern matches any text.

# This service answers 400 to a malformed request (not JSON, a body of the wrong shape, a
# value of the wrong type, a class that does not exist) where Kafka Connect answers 500
# (README, "Kafka Connect REST API"): the error is the caller's, and a 500 would send
# operators looking for a fault in the server.
_MALFORMED_400 = (
    "validate-no-class",
    "validate-unknown-plugin",
    "validate-malformed",
    "validate-not-object",
    "create-malformed",
    "create-not-object",
    "create-no-config",
    "create-config-not-object",
    "create-nested-value",
    "create-bad-initial-state",
    "put-malformed",
    "put-not-object",
    "patch-malformed",
    "offsets-patch-negative",
    "offsets-patch-malformed",
)

# Not listed, as they are differences of values only: secrets shown as "[hidden]" here
# (Kafka Connect shows connector configs as stored), the plugin lists (Confluent's S3 sink
# here, the bench plugin and Kafka's transforms there: the same entry shape), messages.

# Lasting differences. Each must still occur: an entry that no longer matches fails the test,
# so that it is removed and the compatibility it marks is kept from then on.
ALLOWED: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(_MALFORMED_400, ("status 400 vs Kafka Connect 500",)),
    # Kafka Connect's PATCH .../config accepts a "name" other than the URL's and stores it
    # in the connector's config (its own PUT refuses the same with 400); this service
    # refuses it in both, rather than keep a config that names another connector.
    "patch-name-mismatch": ("status 400 vs Kafka Connect 200",),
    # to fix: a connector created with "initial_state": "PAUSED" has no tasks in Kafka
    # Connect (task configs are only made once it first runs); this service lists its
    # task, PAUSED.
    "status-created-paused": ("states ['PAUSED', 'PAUSED'] vs Kafka Connect ['PAUSED']",),
}

# Known incompatibilities being fixed (see the project's issue "Kafka Connect compatibility,
# round two"). An entry that no longer matches is reported at the end of the test, to be
# removed; it does not fail the test while the fixes land.
BEING_FIXED: dict[str, tuple[str, ...]] = {
    # Empty: /health, plugin config, scope=cluster, topics of a missing connector, topics
    # reset, the RESTARTING plan of a restart and "version" in status objects now match.
}

# Differences that come and go with timing or with the plugin, never required to occur.
UNSTABLE: dict[str, tuple[str, ...]] = {
    "*": (
        # The bench plugin's ConfigDef puts its keys in no group (validate, the plugin's
        # config); Confluent's S3 sink, which this service stands in for, groups all of its.
        "*.group: types ['string'] vs Kafka Connect ['null', 'string']",
    ),
    # onlyFailed=true on a connector whose task was restarted just before: Kafka Connect
    # plans the task again if its status record is not yet RUNNING (shown RESTARTING, with
    # "version": null as no task has reported one), or shows it RUNNING a moment later.
    **dict.fromkeys(
        ("restart-only-failed", "restart-only-failed-alone", "restart_connector-failed"),
        ("$.tasks[].version: types ['string'] vs Kafka Connect ['null']", "states *"),
    ),
}


# -- the two servers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    label: str  # "service" or "kafka-connect"
    url: str
    connector_class: str

    @property
    def plugin(self) -> str:
        """The plugin's simple class name, as scripts put it in validate's path."""
        return self.connector_class.rsplit(".", 1)[-1]


@dataclass
class World:
    ours: Side
    theirs: Side
    topic: str
    bucket: str
    s3_endpoint: str
    secret_file: Path
    service: Service
    worker: ConnectWorker

    def sides(self) -> tuple[Side, Side]:
        return self.ours, self.theirs


@pytest.fixture(scope="module")
def world(
    kafka_broker: Any, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """Kafka Connect and this service, started once for the module (the JVM takes ~10 s)."""
    workdir = tmp_path_factory.mktemp("differential")
    topic = make_topic(kafka_broker, partitions=1, prefix="diff")
    bucket = make_bucket(s3_endpoint)
    # Records to archive, so that both connectors' tasks have used the topic (GET .../topics).
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    for i in range(3):
        producer.produce(topic, f"record {i}".encode())
    assert producer.flush(30) == 0
    # For `${file:<path>:secret}` (Kafka Connect's FileConfigProvider reads properties).
    secret_file = workdir / "secrets.properties"
    secret_file.write_text(f"secret={S3_SECRET_KEY}\n")
    env_file = write_env(
        workdir / ".env",
        BROKER_HOSTNAME=kafka_broker.bootstrap,
        KAFKA_TOPIC=topic,
        S3_BUCKET_NAME=bucket,
        S3_ENDPOINT_URL=s3_endpoint,
        AWS_ACCESS_KEY_ID=S3_ACCESS_KEY,
        AWS_SECRET_KEY=S3_SECRET_KEY,
        REGISTER_DEFAULTS="false",
        # The config providers the Kafka Connect worker has (its config.providers); the
        # file provider may read the secret file's folder (allowed.paths, unset there).
        CONFIG_PROVIDERS="env,file",
        CONFIG_PROVIDERS_ALLOWED_PATHS=str(workdir),
    )
    # `${env:...}` must resolve in this service as in the worker: the variable is in the
    # environment each is started with.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SECRET_ENV, S3_SECRET_KEY)
        with (
            run_connect_distributed(workdir / "connect", kafka_broker.bootstrap) as worker,
            Service(env_file, workdir / "service.log") as service,
        ):
            wait_for_api(env_file, service)
            port = env_value(env_file, "REST_PORT")
            ours = Side("service", f"http://127.0.0.1:{port}", S3_SINK)
            # GET / answers while the service still starts; the other endpoints answer 503
            # until it has read its config topic (as Kafka Connect's before it joins its
            # group, which run_connect_distributed waits for).
            wait_until(
                lambda: call(ours.url, "GET", "/connectors").status != 503,
                STATE_TIMEOUT,
                "the service to finish starting",
            )
            theirs = Side("kafka-connect", worker.url, BENCH_CONNECTOR_CLASS)
            yield World(ours, theirs, topic, bucket, s3_endpoint, secret_file, service, worker)


def connector_config(
    world: World, side: Side, connector: str, **changes: Any
) -> dict[str, Any]:
    """A config both servers run: Confluent's keys (the bench plugin ignores those it does
    not know) and the bench plugin's (store.url, the bucket and keys), which ours shares."""
    config: dict[str, Any] = {
        "connector.class": side.connector_class,
        "tasks.max": "1",
        "topics": world.topic,
        "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "flush.size": "1",
        "s3.bucket.name": world.bucket,
        "s3.region": "us-east-1",
        "store.url": world.s3_endpoint,
        "aws.access.key.id": S3_ACCESS_KEY,
        "aws.secret.access.key": S3_SECRET_KEY,
        "consumer.override.group.id": f"connect-{connector}-{side.label}",
    }
    config.update(changes)
    return {k: v for k, v in config.items() if v is not None}


# -- the sequence ------------------------------------------------------------------------------

Body = Callable[[World, Side], Any]


@dataclass(frozen=True)
class Req:
    """One request to both servers; ``body`` is JSON (built per side), or raw bytes."""

    id: str
    method: str
    path: str  # "{plugin}" becomes the side's plugin name
    body: Body | bytes | None = None
    content_type: str | None = "application/json"
    # Maps keyed by names of the server's own (logger names) compared by their values only.
    normalize: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Wait:
    """Until a connector has this state on both servers (and ``tasks`` tasks in it)."""

    name: str
    state: str
    tasks: int | None = None


Step = Req | Wait


def wait_state(side: Side, name: str, state: str, tasks: int | None) -> None:
    deadline = time.monotonic() + STATE_TIMEOUT
    last: Any = None
    while time.monotonic() < deadline:
        answer = call(side.url, "GET", f"/connectors/{name}/status")
        last = answer
        if answer.status == 200 and isinstance(answer.body, dict):
            states = [answer.body["connector"]["state"]]
            states += [task["state"] for task in answer.body["tasks"]]
            count_ok = tasks is None or len(answer.body["tasks"]) == tasks
            if count_ok and all(s == state for s in states):
                return
        time.sleep(0.2)
    raise AssertionError(f"{side.label}: {name} not {state} after {STATE_TIMEOUT}s: {last}")


def _rebalancing(answer: Answer) -> bool:
    """Kafka Connect's answer while its group rebalances (after a connector is added or
    removed): 409 or 500 "... rebalance ...". The request was not carried out; callers are
    meant to retry, and this service, with no group to rebalance, never answers it."""
    message = answer.body.get("message") if isinstance(answer.body, dict) else None
    return answer.status in (409, 500) and "rebalance" in str(message).lower()


def send(world: World, side: Side, req: Req) -> Answer:
    if isinstance(req.body, bytes) or req.body is None:
        data = req.body
    else:
        data = json.dumps(req.body(world, side)).encode()
    path = req.path.replace("{plugin}", side.plugin)
    deadline = time.monotonic() + STATE_TIMEOUT
    answer = call(side.url, req.method, path, data, req.content_type)
    while _rebalancing(answer) and time.monotonic() < deadline:
        time.sleep(0.25)
        answer = call(side.url, req.method, path, data, req.content_type)
    if req.normalize is not None and answer.status < 300:
        answer = Answer(answer.status, req.normalize(answer.body))
    return answer


@dataclass
class Finding:
    case: str
    request: str
    difference: str
    allowed_by: str | None
    ours: Answer = field(repr=False)
    theirs: Answer = field(repr=False)


def _matches(pattern: str, text: str) -> bool:
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), text) is not None


def allowance(case: str, difference: str) -> str | None:
    """Which entry allows this difference ("<list>/<case>: <pattern>"), if any."""
    for label, table in (("ALLOWED", ALLOWED), ("BEING_FIXED", BEING_FIXED),
                         ("UNSTABLE", UNSTABLE)):
        for key in (case, "*"):
            for pattern in table.get(key, ()):
                if _matches(pattern, difference):
                    return f"{label}/{key}: {pattern}"
    return None


def _unused(label: str, table: dict[str, tuple[str, ...]], used: set[str],
            case_ids: set[str]) -> list[str]:
    return [
        f"{label}/{case}: {pattern}"
        for case, patterns in table.items()
        if case in case_ids or case == "*"
        for pattern in patterns
        if f"{label}/{case}: {pattern}" not in used
    ]


def run_sequence(world: World, steps: list[Step]) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[str] = set()
    for step in steps:
        if isinstance(step, Wait):
            for side in world.sides():
                wait_state(side, step.name, step.state, step.tasks)
            continue
        assert step.id not in seen, f"duplicate case id {step.id}"
        seen.add(step.id)
        theirs = send(world, world.theirs, step)
        ours = send(world, world.ours, step)
        dump(step.id, f"{step.method} {step.path}", ours, theirs)
        for difference in differences(ours, theirs):
            findings.append(
                Finding(
                    step.id,
                    f"{step.method} {step.path}",
                    difference,
                    allowance(step.id, difference),
                    ours,
                    theirs,
                )
            )
    return findings


def states_of(body: Any) -> list[str] | None:
    """The states a status answer shows (connector first, then its tasks in order), or None
    if it shows none. Of all values, these are compared: they are what a caller acts on."""
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("connector"), dict) and "state" in body["connector"]:
        tasks = body.get("tasks") if isinstance(body.get("tasks"), list) else []
        return [body["connector"]["state"]] + [t.get("state") for t in tasks]
    if "state" in body and "id" in body:  # one task's status
        return [body["state"]]
    nested = [states_of(v.get("status")) for _, v in sorted(body.items()) if isinstance(v, dict)]
    found = [state for states in nested if states for state in states]
    return found or None


def differences(ours: Answer, theirs: Answer) -> list[str]:
    """Status, shape, and the states of a status answer."""
    out = answer_differences(ours, theirs)
    if ours.status == theirs.status and ours.status < 300:
        mine, other = states_of(ours.body), states_of(theirs.body)
        if mine != other:
            out.append(f"states {mine} vs Kafka Connect {other}")
    return out


def dump(case: str, request: str, ours: Answer, theirs: Answer) -> None:
    """With $CONNECT_DIFF_DUMP set, append both answers in full to that file (JSON lines):
    what to read when a difference needs explaining."""
    path = os.environ.get("CONNECT_DIFF_DUMP")
    if not path:
        return
    entry = {
        "case": case,
        "request": request,
        **{
            label: {"status": a.status, "body": a.body.text if isinstance(a.body, Text) else a.body}
            for label, a in (("service", ours), ("kafka-connect", theirs))
        },
    }
    with open(path, "a") as out:
        out.write(json.dumps(entry) + "\n")


def _brief(answer: Answer) -> str:
    body = answer.body.text if isinstance(answer.body, Text) else json.dumps(answer.body)
    return f"{answer.status} {body[:160]}"


def check(findings: list[Finding], case_ids: set[str]) -> None:
    """Print every difference; fail on those not allowed, and on lasting allowances that no
    longer match anything (a fixed incompatibility must stay fixed)."""
    for f in findings:
        print(f"[{f.allowed_by or 'NOT ALLOWED'}] {f.case} ({f.request}): {f.difference}")
        print(f"    service:       {_brief(f.ours)}")
        print(f"    kafka-connect: {_brief(f.theirs)}")
    used = {f.allowed_by for f in findings if f.allowed_by}
    fixed = _unused("BEING_FIXED", BEING_FIXED, used, case_ids)
    if fixed:
        warnings.warn(
            "fixed, remove from BEING_FIXED: " + "; ".join(fixed), stacklevel=2
        )
    bad = [f for f in findings if not f.allowed_by]
    unused = _unused("ALLOWED", ALLOWED, used, case_ids)
    message = "\n".join(
        [f"{f.case} ({f.request}): {f.difference}\n    service: {_brief(f.ours)}\n"
         f"    kafka-connect: {_brief(f.theirs)}" for f in bad]
        + [f"allow-list entry no longer needed, remove it: {entry}" for entry in unused]
    )
    assert not bad and not unused, message


# -- test 1: the REST surface, request by request ------------------------------------------------


def rest_sequence(world: World, prefix: str) -> list[Step]:
    main, other, stopped, paused = (f"{prefix}-{s}" for s in ("main", "put", "stopped", "paused"))
    provider, missing = f"{prefix}-provider", f"{prefix}-missing"

    def cfg(connector: str, **changes: Any) -> Body:
        return lambda w, side: connector_config(w, side, connector, **changes)

    def create(name: str, **extra: Any) -> Body:
        return lambda w, side: {"name": name, "config": connector_config(w, side, name), **extra}

    def offsets(offset: Any) -> Body:
        partition = {"kafka_topic": world.topic, "kafka_partition": 0}
        return lambda w, side: {"offsets": [{"partition": partition, "offset": offset}]}

    def logger_values(body: Any) -> Any:
        # Logger names are the process's own (Java classes, Python modules): compare entries.
        return list(body.values()) if isinstance(body, dict) else body

    return [
        # The worker.
        Req("root", "GET", "/"),
        Req("health", "GET", "/health"),
        Req("list-empty", "GET", "/connectors"),
        Req("plugins", "GET", "/connector-plugins"),
        Req("plugins-all", "GET", "/connector-plugins?connectorsOnly=false"),
        Req("plugin-config", "GET", "/connector-plugins/{plugin}/config"),
        Req("loggers", "GET", "/admin/loggers", normalize=logger_values),
        Req("logger-root", "GET", "/admin/loggers/root"),
        Req("logger-missing", "GET", "/admin/loggers/no.such.logger"),
        Req("logger-set", "PUT", "/admin/loggers/root", lambda w, s: {"level": "INFO"}),
        Req(
            "logger-set-cluster",
            "PUT",
            "/admin/loggers/root?scope=cluster",
            lambda w, s: {"level": "INFO"},
        ),
        Req("logger-bad-level", "PUT", "/admin/loggers/root", lambda w, s: {"level": "NOPE"}),
        Req("logger-no-level", "PUT", "/admin/loggers/root", lambda w, s: {}),
        Req("unknown-path", "GET", "/no-such-endpoint"),
        Req("wrong-method", "DELETE", "/connectors"),
        Req("trailing-slash", "GET", "/connectors/"),
        # Validation.
        Req("validate", "PUT", "/connector-plugins/{plugin}/config/validate", cfg(main)),
        Req(
            "validate-bad-value",
            "PUT",
            "/connector-plugins/{plugin}/config/validate",
            cfg(main, **{"tasks.max": "many"}),
        ),
        Req(
            "validate-no-class",
            "PUT",
            "/connector-plugins/{plugin}/config/validate",
            cfg(main, **{"connector.class": None}),
        ),
        Req(
            "validate-other-class",
            "PUT",
            "/connector-plugins/{plugin}/config/validate",
            cfg(main, **{"connector.class": "org.example.OtherConnector"}),
        ),
        Req(
            "validate-unknown-plugin",
            "PUT",
            "/connector-plugins/NoSuchConnector/config/validate",
            cfg(main, **{"connector.class": "NoSuchConnector"}),
        ),
        Req("validate-malformed", "PUT", "/connector-plugins/{plugin}/config/validate", b"{"),
        Req(
            "validate-not-object",
            "PUT",
            "/connector-plugins/{plugin}/config/validate",
            lambda w, s: ["a"],
        ),
        # Creation, valid and not.
        Req("create", "POST", "/connectors", create(main)),
        Req("create-again", "POST", "/connectors", create(main)),
        Req("create-malformed", "POST", "/connectors", b'{"name": "x", '),
        Req("create-not-object", "POST", "/connectors", b"[]"),
        Req("create-no-config", "POST", "/connectors", lambda w, s: {"name": missing}),
        Req(
            "create-no-name",
            "POST",
            "/connectors",
            lambda w, s: {"config": connector_config(w, s, missing)},
        ),
        Req(
            "create-config-not-object",
            "POST",
            "/connectors",
            lambda w, s: {"name": missing, "config": "flush.size=1"},
        ),
        Req(
            "create-nested-value",
            "POST",
            "/connectors",
            lambda w, s: {
                "name": missing,
                "config": connector_config(w, s, missing, **{"flush.size": {"n": 1}}),
            },
        ),
        Req(
            "create-name-mismatch",
            "POST",
            "/connectors",
            lambda w, s: {"name": missing, "config": connector_config(w, s, missing, name="x")},
        ),
        Req(
            "create-empty-name",
            "POST",
            "/connectors",
            lambda w, s: {"name": "", "config": connector_config(w, s, "")},
        ),
        Req(
            "create-bad-initial-state",
            "POST",
            "/connectors",
            create(missing, initial_state="SLEEPING"),
        ),
        Req(
            "create-text-plain",
            "POST",
            "/connectors",
            b'{"name": "x", "config": {}}',
            content_type="text/plain",
        ),
        Wait(main, "RUNNING", tasks=1),
        # Reading it.
        Req("list", "GET", "/connectors"),
        Req("list-status", "GET", "/connectors?expand=status"),
        Req("list-info", "GET", "/connectors?expand=info"),
        Req("list-both", "GET", "/connectors?expand=status&expand=info"),
        Req("list-bogus-expand", "GET", "/connectors?expand=bogus"),
        Req("info", "GET", f"/connectors/{main}"),
        Req("config", "GET", f"/connectors/{main}/config"),
        Req("status", "GET", f"/connectors/{main}/status"),
        Req("tasks", "GET", f"/connectors/{main}/tasks"),
        Req("task-status", "GET", f"/connectors/{main}/tasks/0/status"),
        Req("task-status-missing", "GET", f"/connectors/{main}/tasks/7/status"),
        Req("task-status-not-int", "GET", f"/connectors/{main}/tasks/abc/status"),
        Req("topics", "GET", f"/connectors/{main}/topics"),
        Req("info-missing", "GET", f"/connectors/{missing}"),
        Req("config-missing", "GET", f"/connectors/{missing}/config"),
        Req("status-missing", "GET", f"/connectors/{missing}/status"),
        Req("tasks-missing", "GET", f"/connectors/{missing}/tasks"),
        Req("topics-missing", "GET", f"/connectors/{missing}/topics"),
        Req("offsets-missing", "GET", f"/connectors/{missing}/offsets"),
        Req("topics-reset", "PUT", f"/connectors/{main}/topics/reset"),
        # Changing its config.
        Req("put-update", "PUT", f"/connectors/{main}/config", cfg(main, **{"flush.size": "2"})),
        Req("put-create", "PUT", f"/connectors/{other}/config", cfg(other)),
        Req("put-malformed", "PUT", f"/connectors/{main}/config", b"{"),
        Req("put-not-object", "PUT", f"/connectors/{main}/config", lambda w, s: [1]),
        Req("put-name-mismatch", "PUT", f"/connectors/{main}/config", cfg(main, name="x")),
        Req("patch", "PATCH", f"/connectors/{main}/config", lambda w, s: {"flush.size": "1"}),
        Req(
            "patch-remove-key",
            "PATCH",
            f"/connectors/{main}/config",
            lambda w, s: {"s3.region": None},
        ),
        Req("patch-missing", "PATCH", f"/connectors/{missing}/config", lambda w, s: {"a": "b"}),
        Req(
            "patch-name-mismatch",
            "PATCH",
            f"/connectors/{main}/config",
            lambda w, s: {"name": "x"},
        ),
        Req("patch-malformed", "PATCH", f"/connectors/{main}/config", b"{"),
        Wait(main, "RUNNING", tasks=1),
        Wait(other, "RUNNING", tasks=1),
        # Restarts.
        Req("restart", "POST", f"/connectors/{main}/restart"),
        Wait(main, "RUNNING", tasks=1),
        Req("restart-include-tasks", "POST", f"/connectors/{main}/restart?includeTasks=true"),
        Wait(main, "RUNNING", tasks=1),
        Req(
            "restart-only-failed",
            "POST",
            f"/connectors/{main}/restart?includeTasks=true&onlyFailed=true",
        ),
        Req("restart-only-failed-alone", "POST", f"/connectors/{main}/restart?onlyFailed=true"),
        Req("restart-missing", "POST", f"/connectors/{missing}/restart"),
        Req("task-restart", "POST", f"/connectors/{main}/tasks/0/restart"),
        Req("task-restart-missing", "POST", f"/connectors/{main}/tasks/7/restart"),
        Wait(main, "RUNNING", tasks=1),
        # Pause and resume.
        Req("pause", "PUT", f"/connectors/{main}/pause"),
        Wait(main, "PAUSED", tasks=1),
        Req("status-paused", "GET", f"/connectors/{main}/status"),
        Req("pause-missing", "PUT", f"/connectors/{missing}/pause"),
        Req("resume", "PUT", f"/connectors/{main}/resume"),
        Req("resume-missing", "PUT", f"/connectors/{missing}/resume"),
        Wait(main, "RUNNING", tasks=1),
        # Offsets: read while running, changed only while stopped.
        Req("offsets-running", "GET", f"/connectors/{main}/offsets"),
        Req(
            "offsets-patch-running",
            "PATCH",
            f"/connectors/{main}/offsets",
            offsets({"kafka_offset": 1}),
        ),
        Req("offsets-delete-running", "DELETE", f"/connectors/{main}/offsets"),
        Req("stop", "PUT", f"/connectors/{main}/stop"),
        Req("stop-missing", "PUT", f"/connectors/{missing}/stop"),
        Wait(main, "STOPPED", tasks=0),
        Req("status-stopped", "GET", f"/connectors/{main}/status"),
        Req("tasks-stopped", "GET", f"/connectors/{main}/tasks"),
        Req("offsets-stopped", "GET", f"/connectors/{main}/offsets"),
        Req("offsets-patch", "PATCH", f"/connectors/{main}/offsets", offsets({"kafka_offset": 1})),
        Req("offsets-after-patch", "GET", f"/connectors/{main}/offsets"),
        Req("offsets-patch-null", "PATCH", f"/connectors/{main}/offsets", offsets(None)),
        Req("offsets-patch-empty", "PATCH", f"/connectors/{main}/offsets", lambda w, s: {}),
        Req(
            "offsets-patch-empty-list",
            "PATCH",
            f"/connectors/{main}/offsets",
            lambda w, s: {"offsets": []},
        ),
        Req(
            "offsets-patch-negative",
            "PATCH",
            f"/connectors/{main}/offsets",
            offsets({"kafka_offset": -5}),
        ),
        Req(
            "offsets-patch-no-topic",
            "PATCH",
            f"/connectors/{main}/offsets",
            lambda w, s: {
                "offsets": [{"partition": {"kafka_partition": 0}, "offset": {"kafka_offset": 1}}]
            },
        ),
        Req("offsets-patch-malformed", "PATCH", f"/connectors/{main}/offsets", b"{"),
        Req("offsets-patch-missing", "PATCH", f"/connectors/{missing}/offsets", offsets(None)),
        Req("offsets-delete", "DELETE", f"/connectors/{main}/offsets"),
        Req("offsets-after-delete", "GET", f"/connectors/{main}/offsets"),
        Req("offsets-delete-missing", "DELETE", f"/connectors/{missing}/offsets"),
        Req("resume-stopped", "PUT", f"/connectors/{main}/resume"),
        Wait(main, "RUNNING", tasks=1),
        # Created in a state other than RUNNING (KIP-980).
        Req("create-stopped", "POST", "/connectors", create(stopped, initial_state="STOPPED")),
        Req("create-paused", "POST", "/connectors", create(paused, initial_state="PAUSED")),
        Wait(stopped, "STOPPED", tasks=0),
        # Kafka Connect makes no task for a connector created PAUSED (tasks []), this
        # service one, PAUSED (see ALLOWED): wait for the states, whatever the tasks.
        Wait(paused, "PAUSED"),
        Req("status-created-stopped", "GET", f"/connectors/{stopped}/status"),
        Req("status-created-paused", "GET", f"/connectors/{paused}/status"),
        # Config providers: `${env:...}` and `${file:...}` in a config.
        Req(
            "create-config-provider",
            "POST",
            "/connectors",
            lambda w, s: {
                "name": provider,
                "config": connector_config(
                    w,
                    s,
                    provider,
                    **{
                        "aws.secret.access.key": f"${{env:{SECRET_ENV}}}",
                        "aws.access.key.id": f"${{file:{w.secret_file}:secret}}",
                    },
                ),
            },
        ),
        # Running on both: the values were resolved (a provider that failed fails the task).
        Wait(provider, "RUNNING", tasks=1),
        Req("config-provider-config", "GET", f"/connectors/{provider}/config"),
        # Deletion.
        Req("delete", "DELETE", f"/connectors/{main}"),
        Req("delete-again", "DELETE", f"/connectors/{main}"),
        Req("info-deleted", "GET", f"/connectors/{main}"),
        Req("delete-put", "DELETE", f"/connectors/{other}"),
        Req("delete-stopped", "DELETE", f"/connectors/{stopped}"),
        Req("delete-paused", "DELETE", f"/connectors/{paused}"),
        Req("delete-provider", "DELETE", f"/connectors/{provider}"),
        Req("list-after-delete", "GET", "/connectors"),
    ]


def test_every_rest_request_answers_as_kafka_connect_does(world: World) -> None:
    steps = rest_sequence(world, unique_name("diff"))
    findings = run_sequence(world, steps)
    check(findings, {s.id for s in steps if isinstance(s, Req)})


# -- test 2: one real client, every method -----------------------------------------------------


def _outcome(action: Callable[[], Any]) -> Answer:
    """A client call as its caller sees it: the value returned (as a 200), or the HTTP
    status of the error raised (-1 when the client raised without a response)."""
    try:
        return Answer(200, action())
    except requests.HTTPError as error:
        status = error.response.status_code if error.response is not None else -1
        return Answer(status, None)


def test_a_third_party_client_sees_the_same_answers(world: World) -> None:
    name = unique_name("diff-client")
    missing = f"{name}-missing"
    only = f"^{name}$"  # the *_all_connectors methods act on every match: this one only
    clients = {side.label: KafkaConnect(url=side.url) for side in world.sides()}

    def each(case: str, method: Callable[[KafkaConnect, Side], Any]) -> tuple[str, Callable]:
        return case, method

    def wait(state: str, tasks: int) -> tuple[str, Callable]:
        return f"wait-{state}", lambda c, side: wait_state(side, name, state, tasks)

    def config(side: Side, **changes: Any) -> dict[str, Any]:
        return connector_config(world, side, name, **changes)

    calls: list[tuple[str, Callable[[KafkaConnect, Side], Any]]] = [
        each("get_cluster_info", lambda c, s: c.get_cluster_info()),
        each("list_connector_plugins", lambda c, s: c.list_connector_plugins()),
        each(
            "validate_connector_config",
            lambda c, s: c.validate_connector_config(s.plugin, config(s)),
        ),
        each(
            "create_connector",
            lambda c, s: c.create_connector({"name": name, "config": config(s)}),
        ),
        each(
            "create_connector-again",
            lambda c, s: c.create_connector({"name": name, "config": config(s)}),
        ),
        wait("RUNNING", 1),
        each("list_connectors", lambda c, s: c.list_connectors(pattern=only)),
        each("list_connectors-status", lambda c, s: c.list_connectors("status", only)),
        each("list_connectors-info", lambda c, s: c.list_connectors("info", only)),
        each("list_connectors-state", lambda c, s: c.list_connectors(None, only, "running")),
        each("get_connector", lambda c, s: c.get_connector(name)),
        each("get_connector-missing", lambda c, s: c.get_connector(missing)),
        each("get_connector_config", lambda c, s: c.get_connector_config(name)),
        each("get_connector_status", lambda c, s: c.get_connector_status(name)),
        each("list_connector_tasks", lambda c, s: c.list_connector_tasks(name)),
        each("get_connector_task_status", lambda c, s: c.get_connector_task_status(name, 0)),
        each(
            "update_connector",
            lambda c, s: c.update_connector(name, config(s, **{"flush.size": "2"})),
        ),
        wait("RUNNING", 1),
        each("list_connector_topics", lambda c, s: c.list_connector_topics(name)),
        each("reset_connector_topics", lambda c, s: c.reset_connector_topics(name)),
        each("restart_connector", lambda c, s: c.restart_connector(name)),
        wait("RUNNING", 1),
        each("restart_connector-tasks", lambda c, s: c.restart_connector(name, True)),
        wait("RUNNING", 1),
        each("restart_connector-failed", lambda c, s: c.restart_connector(name, True, True)),
        each("restart_connector-missing", lambda c, s: c.restart_connector(missing)),
        each("restart_connector_task", lambda c, s: c.restart_connector_task(name, 0)),
        wait("RUNNING", 1),
        each("restart_all_connectors", lambda c, s: c.restart_all_connectors(pattern=only)),
        wait("RUNNING", 1),
        each("pause_connector", lambda c, s: c.pause_connector(name)),
        wait("PAUSED", 1),
        each("pause_all_connectors", lambda c, s: c.pause_all_connectors(pattern=only)),
        each("resume_connector", lambda c, s: c.resume_connector(name)),
        wait("RUNNING", 1),
        each("resume_all_connectors", lambda c, s: c.resume_all_connectors(pattern=only)),
        each("stop_connector", lambda c, s: c.stop_connector(name)),
        wait("STOPPED", 0),
        each("stop_all_connectors", lambda c, s: c.stop_all_connectors(pattern=only)),
        each("delete_connector", lambda c, s: c.delete_connector(name)),
        each("delete_connector-again", lambda c, s: c.delete_connector(name)),
        each("delete_all_connectors", lambda c, s: c.delete_all_connectors(pattern=only)),
    ]
    findings: list[Finding] = []
    for case, method in calls:
        theirs = _outcome(lambda m=method: m(clients["kafka-connect"], world.theirs))
        ours = _outcome(lambda m=method: m(clients["service"], world.ours))
        dump(case, f"client.{case}", ours, theirs)
        if case.startswith("wait-"):
            continue
        for difference in differences(ours, theirs):
            findings.append(
                Finding(case, f"client.{case}", difference, allowance(case, difference),
                        ours, theirs)
            )
    # Every public method of the client was called (a new release's new method fails here).
    methods = {m for m in dir(KafkaConnect) if not m.startswith("_")}
    called = {case.split("-")[0] for case, _ in calls if not case.startswith("wait-")}
    assert methods <= called, f"client methods not exercised: {sorted(methods - called)}"
    check(findings, {case for case, _ in calls})

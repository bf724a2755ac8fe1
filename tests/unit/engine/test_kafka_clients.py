"""Every Kafka client of the service connects as the others do: through client_config().

A client built from its own ``{"bootstrap.servers": ...}`` would miss the connection and
security settings the others get; this test finds any such dict in the service's code.
"""

from __future__ import annotations

import ast
from pathlib import Path

from kafka_s3_sink.engine.kafka_io import client_config

PACKAGE_DIR = Path(__file__).resolve().parents[3] / "src" / "kafka_s3_sink"
# The one place allowed to spell it; tooling that starts its own broker is not the service.
ALLOWED = {"engine/kafka_io.py", "devtools/kafka_broker.py", "demo.py"}


def test_only_client_config_names_the_brokers() -> None:
    offenders = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        relative = path.relative_to(PACKAGE_DIR).as_posix()
        if relative in ALLOWED:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Dict) and any(
                isinstance(k, ast.Constant) and k.value == "bootstrap.servers" for k in node.keys
            ):
                offenders.append(f"{relative}:{node.lineno}")
    assert offenders == [], f"Kafka clients configured apart from client_config(): {offenders}"


def test_client_config_names_the_brokers() -> None:
    assert client_config("k1:9092,k2:9092")["bootstrap.servers"] == "k1:9092,k2:9092"

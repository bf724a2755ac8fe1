"""The package's folders are its layers: imports run one way, and never in a circle.

    cli, service, demo        wiring: may use everything
    settings/                 .env and the reference connectors
    archive/                  restore and audit: the archive read back (beside connect/)
    connect/                  the Kafka Connect control plane (config, REST, state, worker)
    engine/                   the data plane at run time (consume, upload, commit)
    pipeline/                 pure record transformations (decode ... format)
    store/                    object stores

Every import counts, including those inside functions (a lazy import is still a circle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "src" / "kafka_s3_sink"
PACKAGE = "kafka_s3_sink"

# layer -> the layers it may import (itself always allowed).  Modules at the package's
# top (cli, service, demo) are the wiring and may import anything.
ALLOWED: dict[str, set[str]] = {
    "store": set(),
    "pipeline": {"store.spec"},
    "engine": {"pipeline", "store"},
    "connect": {"engine", "pipeline", "store"},
    "settings": {"pipeline", "store"},
    "archive": {"store", "pipeline", "engine.kafka_io", "settings"},
    "devtools": set(),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """The package's modules (or packages) that ``path`` imports, as absolute names."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:  # "from . import x" may name a module
                candidate = f"{target}.{alias.name}"
                found.add(candidate if candidate in ALL_MODULES else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
    found.discard(name)
    return found


ALL_MODULES = {module_name(p) for p in PACKAGE_DIR.rglob("*.py")}
GRAPH = {module_name(p): imports_of(p) for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ALLOWED) else None


def may_import(importer: str, imported: str) -> bool:
    layer = layer_of(importer)
    if layer is None:  # the wiring at the top
        return True
    target = imported.removeprefix(PACKAGE + ".")
    if target == PACKAGE or target.split(".")[0] == layer:
        return True
    return any(target == allowed or target.startswith(allowed + ".") for allowed in ALLOWED[layer])


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_only_from_lower_layers(module: str) -> None:
    wrong = sorted(m for m in GRAPH[module] if not may_import(module, m))
    assert not wrong, f"{module} imports from a layer above or beside it: {wrong}"


def test_no_import_circles() -> None:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH.get(module, ())):
            if state.get(target) == 1:
                cycles.append(path[path.index(target) :] + [target])
            elif target in GRAPH and target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import circles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_checker_sees_a_circle_and_a_wrong_way_import() -> None:
    """The rules above are not vacuous: a pipeline module importing the engine is refused."""
    assert not may_import("kafka_s3_sink.pipeline.assembler", "kafka_s3_sink.engine.sink_task")
    assert not may_import("kafka_s3_sink.pipeline.spec", "kafka_s3_sink.store.s3")
    assert may_import("kafka_s3_sink.pipeline.spec", "kafka_s3_sink.store.spec")
    assert "kafka_s3_sink.pipeline.spec" in GRAPH["kafka_s3_sink.pipeline.assembler"]

"""The README's settings table is the code's: no variable undocumented or stale."""

import re
from pathlib import Path

from kafka_s3_sink.settings.variables import markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_settings_table_matches_the_code() -> None:
    assert markdown_table() in README.read_text()


def test_readme_connector_keys_table_matches_the_code() -> None:
    from kafka_s3_sink.connect.config.keys import markdown_config_table as keys_table

    assert keys_table().strip() in README.read_text()


def test_architecture_doc_names_only_modules_that_exist() -> None:
    """docs/architecture.md tells a newcomer which file to open: every file it names exists."""
    root = README.parent
    doc = (root / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`([\w/]+\.py)`", doc))
    files = [p.relative_to(root).as_posix() for p in root.glob("**/*.py") if ".venv" not in p.parts]
    missing = sorted(n for n in named if not any(f.endswith("/" + n) or f == n for f in files))
    assert len(named) > 30
    assert not missing, f"docs/architecture.md names files that do not exist: {missing}"


def test_guarantees_point_at_tests_that_exist() -> None:
    """docs/guarantees.md backs each promise with a test: every one it names exists."""
    root = README.parent
    doc = (root / "docs" / "guarantees.md").read_text()
    missing = []
    module = ""
    for path, name in re.findall(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`", doc):
        module = path or module  # "`::name`" continues the module named just before
        if not module:
            continue
        source = root / module
        if not source.exists() or (name and f"def {name}(" not in source.read_text()):
            missing.append(f"{module}::{name}" if name else module)
    assert not missing, f"docs/guarantees.md names tests that do not exist: {missing}"

"""Standalone mode: connector configs and states in a local file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kafka_s3_sink.connect.state.config_file import ConfigFile
from kafka_s3_sink.connect.state.config_topic import StoredConnector


def test_changes_survive_a_new_instance_and_deletes_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "state" / "connectors.json"
    store = ConfigFile(path)
    store.ensure_exists()
    assert store.load() == {}
    store.write("a", StoredConnector({"topics": "t", "flush.size": "1"}, "RUNNING", "env"))
    store.write("b", StoredConnector({"topics": "u"}, "PAUSED"))
    store.write("a", StoredConnector({"topics": "t", "flush.size": "10"}, "STOPPED", "env"))
    store.write("b", None)
    again = ConfigFile(path).load()
    assert again == {"a": StoredConnector({"topics": "t", "flush.size": "10"}, "STOPPED", "env")}
    assert not list(path.parent.glob(".*.tmp"))  # the temporary file was renamed over
    assert json.loads(path.read_text())["connectors"]["a"]["target_state"] == "STOPPED"


def test_a_file_not_ours_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "connectors.json"
    path.write_text('{"something": "else"}')
    with pytest.raises(ValueError, match=f"CONFIG_STORAGE_FILE {path} is not a connector file"):
        ConfigFile(path).load()


def test_follow_returns_when_closed(tmp_path: Path) -> None:
    store = ConfigFile(tmp_path / "c.json")
    store.close()
    store.follow(lambda name, stored: None)  # returns at once: nothing else writes the file

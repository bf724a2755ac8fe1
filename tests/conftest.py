"""Shared fixtures: a real Kafka broker and a real (moto) S3 server on 127.0.0.1.

Both are session-scoped and lazy: pytest starts them the first time a test asks for
``kafka_broker`` / ``s3_endpoint`` (or for ``topic`` / ``topic_factory``), so a run of pure
unit tests starts no server. Tests using them are marked ``integration`` automatically, as is
everything under tests/integration/ and tests/faults/: ``pytest -m "not integration"`` runs
the unit tests only. tests/faults/ (minutes of crashes and outages) is also marked ``slow``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
# So tests in any sub-directory can `from helpers import ...`, whatever pytest's import mode.
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from helpers import make_topic  # noqa: E402

from kafka_s3_sink.devtools.kafka_broker import LocalKafkaBroker  # noqa: E402

_SERVER_FIXTURES = {"kafka_broker", "kafka_broker_private", "s3_endpoint", "topic",
                    "topic_factory"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.resolve()
        uses_servers = _SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))
        in_faults = path.is_relative_to(TESTS_DIR / "faults")
        if uses_servers or in_faults or path.is_relative_to(TESTS_DIR / "integration"):
            item.add_marker(pytest.mark.integration)
        if in_faults:  # the fault suite takes minutes: `-m "not slow"` leaves it out
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafkaBroker]:
    """The session's Kafka broker (bootstrap: ``kafka_broker.bootstrap``).

    Shared by every test: a test that kill()s or stop()s it must start() it again before it
    ends (or use ``kafka_broker_private``). Its log is ``kafka_broker.log_path``.
    """
    broker = LocalKafkaBroker(tmp_path_factory.mktemp("kafka"))
    broker.start(timeout=120)  # generous: a loaded 2-core CI machine starts the JVM slowly
    yield broker
    broker.stop()


@pytest.fixture
def kafka_broker_private(tmp_path: Path) -> Iterator[LocalKafkaBroker]:
    """A broker of this test's own (~5 s to start), for tests that crash or restart it."""
    broker = LocalKafkaBroker(tmp_path / "kafka")
    broker.start(timeout=120)
    yield broker
    broker.stop()


@pytest.fixture
def topic_factory(kafka_broker: LocalKafkaBroker) -> Callable[..., str]:
    """``topic_factory(partitions=3, prefix="topic") -> str``: a new topic on kafka_broker."""

    def factory(partitions: int = 3, prefix: str = "topic") -> str:
        return make_topic(kafka_broker, partitions=partitions, prefix=prefix)

    return factory


@pytest.fixture
def topic(topic_factory: Callable[..., str]) -> str:
    """A new 3-partition topic on ``kafka_broker``, for this test only."""
    return topic_factory(3)


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _moto_server(workdir: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """A moto S3 server on a free loopback port; yields its URL, kills it at exit."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    script = Path(sys.executable).with_name("moto_server")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "moto.server"]
    log_path = workdir / "moto.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([*cmd, "-H", "127.0.0.1", "-p", str(port)],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, env={**os.environ, **(extra_env or {})})
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"moto_server exited ({proc.returncode}):\n"
                                   f"{log_path.read_text(errors='replace')}")
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break  # it answers HTTP: up
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"moto_server not up at {url}") from None
                time.sleep(0.1)
        yield url
    finally:
        # Its own process group: also reaps anything the server spawned.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a moto S3 server (``http://127.0.0.1:PORT``); use any credentials, path style.

    See helpers.s3_client / helpers.make_bucket; every test should use its own bucket.
    """
    with _moto_server(tmp_path_factory.mktemp("moto")) as url:
        yield url


@pytest.fixture
def s3_endpoint_checking_credentials(tmp_path: Path) -> Iterator[str]:
    """A moto S3 server that, like AWS, refuses access keys it does not know."""
    with _moto_server(tmp_path, {"INITIAL_NO_AUTH_ACTION_COUNT": "0"}) as url:
        yield url

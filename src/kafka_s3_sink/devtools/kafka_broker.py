"""A real single-node Apache Kafka (KRaft) broker on 127.0.0.1, for tests and demos.

No Docker, and no downloads but from package registries: so the broker is assembled from the
Maven Central artifacts (``kafka_2.13`` and its runtime deps) instead of the release tarball.
Usage: ``python -m kafka_s3_sink.devtools.kafka_broker {fetch | start [--port N] [--dir D]}``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka.admin import AdminClient, NewTopic

DEFAULT_VERSION = "4.1.1"
# Kafka 4.1 logs through SLF4J 1.7, so its binding is log4j-slf4j-impl (the slf4j2 one would
# be ignored). Pinned to the log4j2 that Kafka 4.1.1 itself depends on so core/api/binding match.
LOG4J_VERSION = "2.24.3"

_DEP = (
    "<dependency><groupId>{}</groupId><artifactId>{}</artifactId><version>{}</version></dependency>"
)
_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local</groupId><artifactId>kafka-fetch</artifactId><version>1</version>
<packaging>pom</packaging><dependencies>{}</dependencies></project>"""

# WARN+ to stderr (= broker.log), and the INFO line "Kafka Server started" to read failed runs.
_LOG4J2 = """appender.err.type = Console
appender.err.name = err
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger = WARN, err
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = info
"""


def cache_root() -> Path:
    """Where downloaded Kafka versions live: $KAFKA_S3_SINK_CACHE or ~/.cache/kafka-s3-sink."""
    env = os.environ.get("KAFKA_S3_SINK_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "kafka-s3-sink"


def fetch_kafka(version: str = DEFAULT_VERSION, cache_dir: Path | None = None) -> Path:
    """Download Kafka's jars with Maven (once); return ``<cache_dir>/kafka-<version>/libs``.
    ``cache_dir`` defaults to cache_root(); the pom.xml and a log4j2.properties sit beside libs."""
    home = (cache_dir or cache_root()) / f"kafka-{version}"
    libs = home / "libs"
    if (home / "log4j2.properties").is_file() and libs.is_dir():
        return libs
    home.parent.mkdir(parents=True, exist_ok=True)
    # Build in a sibling temp dir and rename it into place, so an interrupted download or two
    # concurrent fetches never leave a half-filled libs dir that would later look complete.
    tmp = Path(tempfile.mkdtemp(prefix=f".kafka-{version}-", dir=home.parent))
    try:
        deps = [
            ("org.apache.kafka", "kafka_2.13", version),
            ("org.apache.logging.log4j", "log4j-core", LOG4J_VERSION),
            ("org.apache.logging.log4j", "log4j-slf4j-impl", LOG4J_VERSION),
        ]
        (tmp / "pom.xml").write_text(_POM.format("".join(_DEP.format(*d) for d in deps)))
        mvn = shutil.which("mvn")
        if mvn is None:
            raise RuntimeError("Maven (mvn) is needed to download Kafka: apt-get install maven")
        cmd = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(tmp / "pom.xml"),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={tmp / 'libs'}",
        ]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise RuntimeError(f"mvn failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
        (tmp / "log4j2.properties").write_text(_LOG4J2)
        try:
            tmp.rename(home)
        except OSError:
            if not libs.is_dir():  # not a lost race with another fetch: a real error
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return libs


def _free_ports(n: int) -> list[int]:
    # Hold all sockets open until every port is picked, so the n ports are distinct.
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.create_server(("127.0.0.1", 0))) for _ in range(n)]
        return [s.getsockname()[1] for s in socks]


def _kafka_uuid() -> str:
    # Kafka's Uuid text form (url-safe base64 of 16 bytes, no padding, never starting with "-":
    # hence the cleared top bit), made here to save a JVM start for `kafka-storage random-uuid`.
    raw = bytearray(os.urandom(16))
    raw[0] &= 0x7F
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _die_with_parent() -> None:
    # Linux only: SIGKILL the broker if the Python process that started it dies (e.g. a test
    # run killed by a timeout), so no orphaned JVM keeps the ports and 512 MB of heap.
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


@dataclass(frozen=True)
class SaslSslListener:
    """A second client listener, SASL over TLS, beside the PLAINTEXT one.

    ``cert_file``/``key_file``: the broker's PEM certificate (chain) and unencrypted PKCS#8
    key.  ``users`` (name -> password) may log in with PLAIN, SCRAM-SHA-256 and
    SCRAM-SHA-512: PLAIN users are listed in the listener's JAAS config, SCRAM credentials
    are written into the metadata when the storage is formatted (first start only)."""

    cert_file: Path
    key_file: Path
    users: Mapping[str, str] = field(default_factory=dict)
    # Set: every client must present a certificate this CA signed (ssl.client.auth=required).
    client_ca_file: Path | None = None

    def properties(self, port: int) -> dict[str, object]:
        name = "listener.name.sasl_ssl"
        plain_users = " ".join(f'user_{u}="{_jaas_quote(pw)}"' for u, pw in self.users.items())
        pem = (self.key_file.read_text() + self.cert_file.read_text()).strip()
        return {
            "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
            f"{name}.plain.sasl.jaas.config": _properties_escape(
                "org.apache.kafka.common.security.plain.PlainLoginModule required "
                f"{plain_users};"
            ),
            f"{name}.scram-sha-256.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            ),
            f"{name}.scram-sha-512.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            ),
            f"{name}.ssl.keystore.type": "PEM",
            # Inline PEM (key then chain): no keystore file or keytool needed.
            f"{name}.ssl.keystore.key": _properties_escape(_pem_line(pem, "PRIVATE KEY")),
            f"{name}.ssl.keystore.certificate.chain": _properties_escape(
                _pem_line(pem, "CERTIFICATE")
            ),
            **self._client_auth(name),
        }

    def _client_auth(self, name: str) -> dict[str, object]:
        if self.client_ca_file is None:
            return {}
        trusted = _pem_line(self.client_ca_file.read_text(), "CERTIFICATE")
        return {
            f"{name}.ssl.client.auth": "required",
            f"{name}.ssl.truststore.type": "PEM",
            f"{name}.ssl.truststore.certificates": _properties_escape(trusted),
        }

    def scram_arguments(self) -> list[str]:
        """``kafka-storage format`` arguments creating the SCRAM credentials."""
        args: list[str] = []
        for user, password in self.users.items():
            for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
                args += ["--add-scram", f"{mechanism}=[name={user},password={password}]"]
        return args


def _jaas_quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _properties_escape(text: str) -> str:
    # Java properties: a backslash starts an escape, a newline would end the value.
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _pem_line(pem: str, kind: str) -> str:
    """The blocks of ``kind`` (CERTIFICATE, PRIVATE KEY) of ``pem``, newline-separated."""
    blocks, inside = [], False
    for line in pem.splitlines():
        if line.startswith("-----BEGIN ") and kind in line:
            inside = True
        if inside:
            blocks.append(line)
        if line.startswith("-----END ") and kind in line:
            inside = False
    return "\n".join(blocks)


class LocalKafkaBroker:
    """One combined broker+controller KRaft node, listening on 127.0.0.1 only; with
    ``sasl_ssl``, a SASL_SSL client listener too (``sasl_ssl_bootstrap``)."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        message_max_bytes: int = 16 * 1024 * 1024,
        auto_create_topics: bool = False,
        version: str = DEFAULT_VERSION,
        sasl_ssl: SaslSslListener | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        free_port, self.controller_port, self.sasl_ssl_port = _free_ports(3)
        self.port = port or free_port
        self.sasl_ssl = sasl_ssl
        self.message_max_bytes = message_max_bytes
        self.auto_create_topics = auto_create_topics
        self.version = version
        self.log_path = self.workdir / "broker.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def sasl_ssl_bootstrap(self) -> str:
        """The SASL_SSL listener: its certificate must name 127.0.0.1 (or use localhost)."""
        return f"127.0.0.1:{self.sasl_ssl_port}"

    def _properties(self) -> str:
        max_bytes = self.message_max_bytes + 1024  # room for the record batch's own header
        ctl, port = f"127.0.0.1:{self.controller_port}", self.port
        props: dict[str, object] = {
            "process.roles": "broker,controller",
            "node.id": 1,
            "controller.quorum.voters": f"1@{ctl}",
            "controller.listener.names": "CONTROLLER",
            "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://{ctl}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": self.workdir / "data",
            # One node cannot hold the default 3 replicas of the internal topics; 1 offsets
            # partition instead of 50 makes the first consumer group of a run start faster.
            "offsets.topic.replication.factor": 1,
            "offsets.topic.num.partitions": 1,
            "transaction.state.log.replication.factor": 1,
            "transaction.state.log.min.isr": 1,
            "share.coordinator.state.topic.replication.factor": 1,
            "share.coordinator.state.topic.min.isr": 1,
            # Tests' consumers get their partitions at once instead of after 3 s.
            "group.initial.rebalance.delay.ms": 0,
            "num.partitions": 1,
            # After a SIGKILL the new broker cannot register before the dead incarnation's
            # session expires (9 s by default): this makes kill()+start() ~5 s faster.
            "broker.session.timeout.ms": 4000,
            "broker.heartbeat.interval.ms": 500,
            "auto.create.topics.enable": str(self.auto_create_topics).lower(),
            "message.max.bytes": max_bytes,
            "replica.fetch.max.bytes": max_bytes,
            # Few threads: CI machines have 2 cores.
            "num.network.threads": 2,
            "num.io.threads": 2,
            "background.threads": 2,
        }
        if self.sasl_ssl is not None:
            sasl = f"SASL_SSL://127.0.0.1:{self.sasl_ssl_port}"
            props["listeners"] = f"{props['listeners']},{sasl}"
            props["advertised.listeners"] = f"{props['advertised.listeners']},{sasl}"
            props["listener.security.protocol.map"] += ",SASL_SSL:SASL_SSL"
            props.update(self.sasl_ssl.properties(self.sasl_ssl_port))
        return "".join(f"{k}={v}\n" for k, v in props.items())

    def _java(self, main_class: str, *args: str) -> list[str]:
        libs = fetch_kafka(self.version)
        java = Path(os.environ["JAVA_HOME"], "bin", "java") if "JAVA_HOME" in os.environ else "java"
        # A small heap and the serial GC keep the broker light on a 2-core machine;
        # $KAFKA_S3_SINK_JVM_OPTS comes last, so it can override these (e.g. -Xmx2g).
        opts = [
            "-Xms64m",
            "-Xmx512m",
            "-XX:+UseSerialGC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={libs.parent / 'log4j2.properties'}",
            *os.environ.get("KAFKA_S3_SINK_JVM_OPTS", "").split(),
        ]
        return [str(java), *opts, "-cp", f"{libs}/*", main_class, *args]

    def start(self, timeout: float = 60) -> None:
        """Format the storage (first start only), start the JVM and wait until it answers."""
        if self.running:
            raise RuntimeError("broker already running")
        deadline = time.monotonic() + timeout
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "server.properties"
        config.write_text(self._properties())
        if not (self.workdir / "data" / "meta.properties").exists():
            # Static controller.quorum.voters: so no --standalone (that is for dynamic quorums).
            fmt = ["format", "-t", _kafka_uuid(), "-c", str(config)]
            if self.sasl_ssl is not None:
                fmt += self.sasl_ssl.scram_arguments()
            res = subprocess.run(
                self._java("kafka.tools.StorageTool", *fmt),
                capture_output=True,
                text=True,
                check=False,
            )
            if res.returncode != 0:
                raise RuntimeError(f"kafka storage format failed:\n{res.stdout}\n{res.stderr}")
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                self._java("kafka.Kafka", str(config)),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        try:
            self._wait_ready(self._proc, deadline)
        except BaseException:
            self.kill()
            raise

    def _wait_ready(self, proc: subprocess.Popen[bytes], deadline: float) -> None:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"broker exited ({proc.returncode}):\n{self.log_tail()}")
            # Poll the TCP port first: librdkafka would print a connection-refused line per try.
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                if self.admin().list_topics(timeout=5).brokers:
                    return
            except Exception:  # not up yet: retried until the deadline
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"broker not ready at {self.bootstrap}:\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def _signal(self, sig: signal.Signals, timeout: float) -> None:
        # The whole process group: the JVM is its leader, and nothing it forks may outlive it.
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        for s in (sig, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, s)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout)
                return

    def stop(self, timeout: float = 30) -> None:
        """Graceful shutdown (SIGTERM); SIGKILL if it is still running after ``timeout``."""
        self._signal(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """Crash the broker (SIGKILL), e.g. to test recovery; ``start()`` brings it back."""
        self._signal(signal.SIGKILL, 30)

    def restart(self, timeout: float = 60) -> None:
        """Stop and start again, with the same data dir and ports."""
        self.stop()
        self.start(timeout)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def admin(self) -> AdminClient:
        return AdminClient({"bootstrap.servers": self.bootstrap})

    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        config: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> str:
        """Create a topic and wait until every partition has a leader; returns ``name``."""
        admin = self.admin()
        topic = NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})
        admin.create_topics([topic], operation_timeout=timeout)[name].result(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            t = admin.list_topics(name, timeout=5).topics.get(name)
            if (
                t is not None
                and t.error is None
                and len(t.partitions) == partitions
                and all(p.leader >= 0 for p in t.partitions.values())
            ):
                return name
            time.sleep(0.1)
        raise TimeoutError(f"topic {name} has no leaders after {timeout}s")

    def __enter__(self) -> LocalKafkaBroker:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int | str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kafka-version", default=DEFAULT_VERSION)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("fetch", help="download Kafka's jars into the cache, print the libs dir")
    start = sub.add_parser("start", help="run a broker in the foreground until Ctrl-C")
    start.add_argument("--port", type=int, help="client port (default: a free one)")
    start.add_argument("--dir", type=Path, help="work/data dir (default: a new temp dir)")
    args = parser.parse_args(argv)
    if args.cmd == "fetch":
        print(fetch_kafka(args.kafka_version))
        return 0
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="kafka-broker-"))
    broker = LocalKafkaBroker(workdir, port=args.port, version=args.kafka_version)
    # Ctrl-C/SIGTERM -> broker.stop(); SIGINT reset: shells start background jobs ignoring it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        broker.start()
        print(f"Kafka ready: bootstrap={broker.bootstrap} dir={workdir}", flush=True)
        while broker.running:
            time.sleep(1)
        return f"broker exited:\n{broker.log_tail()}"  # sys.exit prints it, exits 1
    except KeyboardInterrupt:
        return 0
    finally:
        broker.stop()


if __name__ == "__main__":
    sys.exit(main())

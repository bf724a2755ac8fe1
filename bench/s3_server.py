"""S3-compatible servers on loopback for benchmarks: a fast one, and moto.

moto is faithful but caps near 400 PUT/s on two cores, so a benchmark of a sink against it
measures moto.  Raw PUT rates measured here (obstore, 1 KB objects, 64 in flight, 2026-11-26,
on a machine shared with other work, so +-40 %): gofakes3 in memory 3,800-6,600 /s, s3s-fs
with its files on tmpfs 1,700-3,500 /s (1,650-2,650 on disk), versitygw 1,150-2,000 /s,
s3rver 730 /s, moto 250-460 /s.  bench/README-infra.md has the full table.

- `run_fast_s3` starts s3s-fs (crates.io; built once with `cargo install` into a cache
  directory).  It is the fastest server that also works with Kafka Connect's S3 sinks: their
  AWS SDK for Java v1 sends multipart parts over plain HTTP as `aws-chunked` signed streams,
  which s3s decodes.  It checks SigV4 signatures against its one key pair.
- `run_gofakes3` starts gofakes3 (Go module proxy), twice as fast for obstore, but v1.2.0
  does not decode `aws-chunked` in UploadPart: it stores the chunk framing as data and the
  Java SDK rejects the part's ETag.  Use it only for clients that do not stream-sign (obstore,
  boto3), e.g. to show a sink's own ceiling when the server is not the limit.
- `run_moto` starts `moto_server`, the server the integration tests use.

All yield an `S3Server` with the endpoint and the credentials a client must use; all serve
path-style requests over plain HTTP on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cache import cache_dir as default_cache_dir

GOFAKES3_MODULE = "github.com/johannesboyne/gofakes3"
GOFAKES3_VERSION = "v1.2.0"

# 0.14.1 is the newest s3s-fs whose minimum Rust (1.92) the installed toolchain meets; 0.15+
# need rustc 1.96.  --locked builds with the versions the crate was published with.
S3S_FS_VERSION = "0.14.1"


@dataclass
class S3Server:
    """A running S3 server: what a client needs to reach it, and how to make a bucket."""

    endpoint: str
    access_key: str
    secret_key: str
    kind: str
    pid: int
    data_dir: Path | None = None
    region: str = "us-east-1"
    _client: Any = field(default=None, repr=False)

    def boto3_client(self) -> Any:
        """A boto3 S3 client for set-up and checks (not for measured traffic)."""
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "s3",
                endpoint_url=self.endpoint,
                aws_access_key_id=self.access_key,
                aws_secret_access_key=self.secret_key,
                region_name=self.region,
                config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
            )
        return self._client

    def create_bucket(self, name: str) -> None:
        self.boto3_client().create_bucket(Bucket=name)

    def count_objects(self, bucket: str, prefix: str = "") -> int:
        """Number of objects under prefix, paging through ListObjectsV2."""
        paginator = self.boto3_client().get_paginator("list_objects_v2")
        return sum(
            page.get("KeyCount", 0) for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
        )

    def obstore_config(self) -> dict[str, str]:
        """Settings for `obstore.store.S3Store(bucket, config=...)` against this server."""
        return {
            "endpoint": self.endpoint,
            "access_key_id": self.access_key,
            "secret_access_key": self.secret_key,
            "region": self.region,
            "allow_http": "true",
            "virtual_hosted_style_request": "false",
        }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Wait until something accepts on 127.0.0.1:port; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def stop_process_group(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the process group we started (only ours), then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def install_fast_s3(cache_dir: Path | None = None) -> Path:
    """Build s3s-fs once with cargo into the cache; return the binary's path.

    About 2.5 minutes the first time on two cores; at once afterwards.
    """
    root = (cache_dir or default_cache_dir()) / f"s3s-fs-{S3S_FS_VERSION}"
    binary = root / "bin" / "s3s-fs"
    if binary.is_file():
        return binary
    if shutil.which("cargo") is None:
        raise RuntimeError("cargo is needed to build s3s-fs (crates.io); install Rust first")
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "cargo", "install", "s3s-fs",
            "--version", S3S_FS_VERSION,
            "--features", "binary",  # the server executable sits behind this feature
            "--locked",  # the dependency versions it was published with
            "--root", str(root),
        ],
        check=True,
        timeout=1800,
    )  # fmt: skip
    return binary


def install_gofakes3(cache_dir: Path | None = None) -> Path:
    """Build gofakes3's server once with `go install` into the cache; return the binary's path."""
    root = (cache_dir or default_cache_dir()) / f"gofakes3-{GOFAKES3_VERSION.lstrip('v')}"
    binary = root / "bin" / "gofakes3"
    if binary.is_file():
        return binary
    if shutil.which("go") is None:
        raise RuntimeError("go is needed to build gofakes3 (Go module proxy); install Go first")
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["go", "install", f"{GOFAKES3_MODULE}/cmd/gofakes3@{GOFAKES3_VERSION}"],
        env={**os.environ, "GOBIN": str(root / "bin")},
        check=True,
        timeout=1200,
    )
    return binary


@contextlib.contextmanager
def _serve(
    cmd: list[str],
    port: int,
    workdir: Path,
    name: str,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    workdir.mkdir(parents=True, exist_ok=True)
    log = (workdir / f"{name}.log").open("wb")
    # Own session so that stopping it signals this server alone, never the caller's group.
    proc = subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env
    )
    try:
        wait_for_port(port, proc)
        yield proc
    finally:
        stop_process_group(proc)
        log.close()


@contextlib.contextmanager
def _data_dir(workdir: Path, tmpfs: bool) -> Iterator[Path]:
    """Where a file-backed server keeps objects: tmpfs if asked and present, else workdir.

    On tmpfs the disk stays out of the measurement (S3 is a remote service; its disks are not
    on the sink's machine), at the price of holding every stored byte in RAM until the run
    ends: keep a run's total payload to a few GB.
    """
    shm = Path("/dev/shm")
    if tmpfs and shm.is_dir():
        path = Path(tempfile.mkdtemp(prefix="bench-s3-", dir=shm))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)
    else:
        path = workdir / "s3-data"
        path.mkdir(parents=True, exist_ok=True)
        yield path


@contextlib.contextmanager
def run_fast_s3(
    workdir: Path,
    tmpfs: bool = True,
    access_key: str = "benchaccess",
    secret_key: str = "benchsecret",
) -> Iterator[S3Server]:
    """Run s3s-fs on a free loopback port; its objects are files (see `_data_dir`).

    Clients must sign with exactly this key pair.  Its log stays at the default (off), so
    logging costs no CPU; the log file is workdir/s3s-fs.log.
    """
    binary = install_fast_s3()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "RUST_LOG"}
    with _data_dir(workdir, tmpfs) as data_dir:
        cmd = [
            str(binary),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--access-key", access_key,
            "--secret-key", secret_key,
            str(data_dir),
        ]  # fmt: skip
        with _serve(cmd, port, workdir, "s3s-fs", env) as proc:
            yield S3Server(
                endpoint=f"http://127.0.0.1:{port}",
                access_key=access_key,
                secret_key=secret_key,
                kind=f"s3s-fs {S3S_FS_VERSION}" + (" (tmpfs)" if tmpfs else ""),
                pid=proc.pid,
                data_dir=data_dir,
            )


@contextlib.contextmanager
def run_gofakes3(
    workdir: Path,
    access_key: str = "benchaccess",
    secret_key: str = "benchsecret",
) -> Iterator[S3Server]:
    """Run gofakes3 with objects in its memory; not for Kafka Connect (see module doc).

    It checks no signature: the key pair is only passed on for clients to sign with.
    """
    binary = install_gofakes3()
    port = free_port()
    cmd = [str(binary), "-backend", "memory", "-host", f"127.0.0.1:{port}", "-quiet"]
    with _serve(cmd, port, workdir, "gofakes3") as proc:
        yield S3Server(
            endpoint=f"http://127.0.0.1:{port}",
            access_key=access_key,
            secret_key=secret_key,
            kind=f"gofakes3 {GOFAKES3_VERSION} (memory)",
            pid=proc.pid,
        )


@contextlib.contextmanager
def run_moto(workdir: Path) -> Iterator[S3Server]:
    """Run moto's server (from the test extras) on a free loopback port; any key pair works."""
    port = free_port()
    moto_server = Path(sys.executable).with_name("moto_server")
    launcher = [str(moto_server)] if moto_server.exists() else [sys.executable, "-m", "moto.server"]
    with _serve([*launcher, "-H", "127.0.0.1", "-p", str(port)], port, workdir, "moto") as proc:
        yield S3Server(
            endpoint=f"http://127.0.0.1:{port}",
            access_key="testing",
            secret_key="testing",
            kind="moto",
            pid=proc.pid,
        )

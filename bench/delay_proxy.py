"""A TCP proxy on 127.0.0.1 that adds a fixed latency to every request to the S3 server.

    .venv/bin/python -m bench.delay_proxy --listen-port 9100 --target 127.0.0.1:9000 \
        --delay-ms 20

It stands for a site whose S3 is ~20 ms further away than loopback (a sink on AWS), without
tc/netem (no root, and netem would delay the broker's loopback traffic too).  It runs as its
own process so that its CPU is measured apart from the sink's (`run_delay_proxy` yields its
pid; `DelayProxy.measure` reports its CPU beside a sink's row): on two cores that CPU is taken
from the sinks and the S3 server, and the report has to say how much.

How the delay is applied, and why this way: every chunk read from the client is written to
the server `delay` seconds after it was read, in order (a delay line: a chunk's due time is
its arrival time plus the delay, so the chunks of one streamed body are not delayed one after
another, only all shifted).  That is what a longer wire does to the uplink, with no
bandwidth limit: every request, on a fresh or on a keep-alive connection, reaches the server
`delay` later, and a connection carrying several requests one after another pays it once per
request, because each request is only sent after the previous response came back.  No HTTP
is parsed, so nothing about HTTP/1.1 framing (chunked bodies, `aws-chunked`, 100-continue)
can be got wrong, and the bytes the server sees are exactly the client's: the Host header a
client signed with SigV4 (the proxy's host:port) reaches s3s-fs unchanged, which checks the
signature against the Host it receives.  A request that waits for the server halfway
(`Expect: 100-continue`, which boto3 sends with every put_object) pays the delay twice, as it
pays two round trips on a real network.  Responses go back at once (the whole 20 ms sits on
the request side), and TCP connection set-up is not delayed: a sink that opens a new
connection per request is not penalised for it here as it would be on a real network.

Built on asyncio protocols and `loop.call_at` rather than streams and a task per direction:
one timer per connection with data due, no task switch per chunk, so the proxy costs as
little CPU as Python allows (its CPU is still reported, since it counts).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .procstat import TreeMonitor
from .s3_server import S3Server, free_port, stop_process_group, wait_for_port

_READ_PAUSE_BYTES = 1 << 20  # stop reading a client while this much waits for its due time


class _Upstream(asyncio.Protocol):
    """The proxy's connection to the server: what it sends goes straight to the client."""

    def __init__(self, client: _Client) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.client.upstream_ready(self)

    def data_received(self, data: bytes) -> None:
        self.client.send_back(data)

    def eof_received(self) -> bool:
        self.client.upstream_eof()
        return True  # half-close: the client may still be sending

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.upstream_lost()

    # Our writes to the server back up (it reads slower than the client sends): stop
    # reading the client until they drain, so the proxy's memory stays bounded.
    def pause_writing(self) -> None:
        self.client.upstream_blocked = True
        self.client.update_reading()

    def resume_writing(self) -> None:
        self.client.upstream_blocked = False
        self.client.update_reading()


class _Client(asyncio.Protocol):
    """One accepted client connection and its delay line toward the server."""

    accepted = 0  # connections since start, reported at exit

    def __init__(self, target: tuple[str, int], delay: float) -> None:
        self.target = target
        self.delay = delay
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.upstream: _Upstream | None = None
        # (due time, bytes); b"" marks the client's EOF, None its disconnection.
        self.line: deque[tuple[float, bytes | None]] = deque()
        self.queued = 0
        self.timer: asyncio.TimerHandle | None = None
        self.reading_paused = False
        self.upstream_blocked = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        _Client.accepted += 1
        host, port = self.target
        connecting = self.loop.create_task(
            self.loop.create_connection(lambda: _Upstream(self), host, port)
        )
        connecting.add_done_callback(self._connected)

    def _connected(self, connecting: asyncio.Task[Any]) -> None:
        if connecting.cancelled() or connecting.exception() is not None:
            assert self.transport is not None
            self.transport.abort()  # the server is not there: the client sees a reset

    def upstream_ready(self, upstream: _Upstream) -> None:
        """Connected to the server: send what is due already, keep the timer for the rest."""
        self.upstream = upstream
        if self.timer is not None:
            self.timer.cancel()
        self._flush()

    def data_received(self, data: bytes) -> None:
        self._enqueue(data)
        self.queued += len(data)
        if self.queued > _READ_PAUSE_BYTES:
            self.update_reading()

    def eof_received(self) -> bool:
        self._enqueue(b"")
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._enqueue(None)

    def _enqueue(self, item: bytes | None) -> None:
        self.line.append((self.loop.time() + self.delay, item))
        if self.timer is None:
            self.timer = self.loop.call_at(self.line[0][0], self._flush)

    def _flush(self) -> None:
        """Write every chunk that is due, in order; re-arm the timer for the next one."""
        self.timer = None
        up = self.upstream.transport if self.upstream is not None else None
        if up is None:
            return  # not connected yet: upstream_ready() flushes
        if up.is_closing():  # the server hung up: nothing more can reach it
            self.line.clear()
            return
        now = self.loop.time()
        while self.line and self.line[0][0] <= now:
            _, item = self.line.popleft()
            if item is None:
                up.close()
                self.line.clear()
                return
            if item == b"":
                if up.can_write_eof():
                    up.write_eof()
                continue
            up.write(item)
            self.queued -= len(item)
        if self.reading_paused:
            self.update_reading()
        if self.line:
            self.timer = self.loop.call_at(self.line[0][0], self._flush)

    def send_back(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def upstream_eof(self) -> None:
        if self.transport is not None and self.transport.can_write_eof():
            with contextlib.suppress(OSError, RuntimeError):
                self.transport.write_eof()

    def upstream_lost(self) -> None:
        if self.transport is not None:
            self.transport.close()  # sends what is buffered first

    def update_reading(self) -> None:
        """Read the client only while the server takes our writes and the line is short."""
        if self.transport is None or self.transport.is_closing():
            return
        pause = self.upstream_blocked or self.queued > _READ_PAUSE_BYTES
        if pause != self.reading_paused:
            self.reading_paused = pause
            (self.transport.pause_reading if pause else self.transport.resume_reading)()

    # Our writes to the client back up (it reads its answers slower than the server sends
    # them): stop reading the server until they drain.
    def pause_writing(self) -> None:
        if self.upstream is not None and self.upstream.transport is not None:
            self.upstream.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.upstream is not None and self.upstream.transport is not None:
            self.upstream.transport.resume_reading()


async def serve(listen_port: int, target: tuple[str, int], delay: float) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = await loop.create_server(
        lambda: _Client(target, delay), "127.0.0.1", listen_port, backlog=1024
    )
    async with server:
        await stop.wait()
    # For the log: how many connections the clients opened (a pool too small shows here).
    print(f"connections accepted: {_Client.accepted}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen-port", type=int, required=True)
    parser.add_argument("--target", required=True, help="host:port of the S3 server")
    parser.add_argument("--delay-ms", type=float, default=20.0)
    args = parser.parse_args()
    host, _, port = args.target.rpartition(":")
    asyncio.run(serve(args.listen_port, (host, int(port)), args.delay_ms / 1000))
    return 0


@dataclass
class DelayProxy:
    """A running proxy: its endpoint, its pid, and the S3 server it stands in front of."""

    endpoint: str
    pid: int
    delay_ms: float
    target: S3Server

    def server(self) -> S3Server:
        """The target as a sink should see it: same keys and pid, the proxy's endpoint.

        Only the endpoint changes (`_client`, a cached boto3 client, is dropped so that one
        made from this copy goes through the proxy too); observe.py keeps reading object
        times from the target itself.
        """
        return replace(self.target, endpoint=self.endpoint, _client=None)

    def measure(self, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Run one measurement and add the proxy's CPU to its row.

        The window is the whole call (sink start to stop), not only first to last object
        as for the sink's own CPU: the proxy does nothing but forward requests, so its CPU
        per message archived is the same either way, up to the few start-up requests.
        """
        with TreeMonitor(self.pid) as monitor:
            cpu0, t0 = monitor.cpu(), time.monotonic()
            row = run()
            cpu, wall = monitor.cpu() - cpu0, time.monotonic() - t0
        row["proxy_cpu_s"] = round(cpu, 2)
        row["proxy_core_share"] = round(cpu / wall, 3) if wall > 0 else None
        messages = row.get("messages") or row.get("puts") or 0  # a sink's row, or raw PUTs
        row["proxy_cpu_s_per_10k"] = round(cpu * 1e4 / messages, 2) if messages else None
        return row


@contextlib.contextmanager
def run_delay_proxy(
    workdir: Path, target: S3Server, delay_ms: float = 20.0
) -> Iterator[DelayProxy]:
    """Start `python -m bench.delay_proxy` in front of `target` on a free loopback port."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    upstream = target.endpoint.removeprefix("http://").rstrip("/")
    log = (workdir / "delay-proxy.log").open("wb")
    # Own session, as the servers: stopping it signals the proxy alone.
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.delay_proxy", "--listen-port", str(port),
         "--target", upstream, "--delay-ms", str(delay_ms)],
        cwd=Path(__file__).resolve().parents[1],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_port(port, proc)
        yield DelayProxy(f"http://127.0.0.1:{port}", proc.pid, delay_ms, target)
    finally:
        stop_process_group(proc)
        log.close()


if __name__ == "__main__":
    sys.exit(main())

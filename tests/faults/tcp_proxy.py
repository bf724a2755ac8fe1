"""A TCP proxy on 127.0.0.1 that can cut the line: the network fault below HTTP.

The HTTP FaultyProxy answers with S3 errors; this one makes the connection itself fail, as
a lost route or a restarted load balancer does. ``cut(seconds)`` resets every open
connection (RST, so the client sees "connection reset" mid-request rather than a clean end)
and closes the listening socket, so new connections are refused (ECONNREFUSED) until the
cut is over; then it listens again on the same port and forwards bytes unchanged.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time

# SO_LINGER on with a zero timeout: close() sends RST and drops unsent data.
_RESET_ON_CLOSE = struct.pack("ii", 1, 0)


class _Pair:
    """One client connection and its upstream connection, pumped by two threads."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self._ended = 0
        self._lock = threading.Lock()

    def pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass  # reset by a cut or by either side: the other direction ends too
        finally:
            # Pass the end on as a half-close, so a response still in flight gets through.
            with contextlib.suppress(OSError):
                target.shutdown(socket.SHUT_WR)
            with self._lock:
                self._ended += 1
                last = self._ended == 2
            if last:
                self.client.close()
                self.upstream.close()

    def reset(self) -> None:
        # shutdown() wakes the pump threads blocked in recv/sendall; with SO_LINGER 0 their
        # close() then resets both connections instead of ending them cleanly.
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
                sock.shutdown(socket.SHUT_RDWR)


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener: socket.socket | None = self._listen(0)
        self.port = self._listener.getsockname()[1]
        self._pairs: set[_Pair] = set()
        self._lock = threading.Lock()
        self._refuse_until = 0.0
        self._stopped = threading.Event()
        self.accepted = 0
        self.reset_connections = 0
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        # A short timeout so that the accept loop notices cuts and stop() promptly.
        listener.settimeout(0.1)
        return listener

    def cut(self, seconds: float) -> None:
        """Reset every connection now and refuse new ones for ``seconds``."""
        with self._lock:
            self._refuse_until = time.monotonic() + seconds
            pairs = list(self._pairs)
        for pair in pairs:
            pair.reset()
        self.reset_connections += len(pairs)

    @property
    def cutting(self) -> bool:
        return time.monotonic() < self._refuse_until

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            if self.cutting:
                if self._listener is not None:
                    self._listener.close()  # connects get ECONNREFUSED from now on
                    self._listener = None
                time.sleep(0.05)
                continue
            if self._listener is None:
                try:
                    self._listener = self._listen(self.port)
                except OSError:  # the port is still held by a closing socket: retry soon
                    time.sleep(0.05)
                    continue
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stopped.is_set():
                    return
                continue
            self.accepted += 1
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        client.settimeout(None)
        try:
            upstream = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
            client.close()
            return
        upstream.settimeout(None)
        pair = _Pair(client, upstream)
        with self._lock:
            if self.cutting:  # accepted just before the cut began: it is cut too
                pair.reset()
            self._pairs.add(pair)
        threads = [
            threading.Thread(target=pair.pump, args=(client, upstream), daemon=True),
            threading.Thread(target=pair.pump, args=(upstream, client), daemon=True),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with self._lock:
            self._pairs.discard(pair)

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stopped.set()
        self._thread.join(5)
        with self._lock:
            pairs = list(self._pairs)
        for pair in pairs:
            pair.reset()
        if self._listener is not None:
            self._listener.close()

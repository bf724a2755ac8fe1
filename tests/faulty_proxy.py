"""An HTTP proxy in front of the real S3 server that fails some requests on purpose.

It answers a share of requests (PUTs by default) with an S3 error without forwarding them:
``503 SlowDown`` (as S3 does under load) by default, or a random mix of ``500
InternalError``, ``503 ServiceUnavailable`` and ``503 SlowDown``, the three answers AWS
documents as "retry". It can also refuse everything for a while (an outage); every other
request is forwarded unchanged, so the S3 server behind it stays the real one.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from collections import Counter
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# name -> (HTTP status, S3 error code, message), as S3 words them.
S3_FAULTS: dict[str, tuple[int, str, str]] = {
    "InternalError": (500, "InternalError", "We encountered an internal error. Please try again."),
    "ServiceUnavailable": (503, "ServiceUnavailable", "Service is unable to handle request."),
    "SlowDown": (503, "SlowDown", "Please reduce your request rate."),
}


def _error_body(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
        f"<Message>{message}</Message></Error>"
    ).encode()


class FaultyProxy:
    def __init__(
        self,
        upstream: str,
        put_failure_rate: float,
        seed: int = 7,
        *,
        faults: Iterable[str] = ("SlowDown",),
        methods: Iterable[str] = ("PUT",),
    ) -> None:
        """``put_failure_rate`` of the requests whose method is in ``methods`` get one of
        ``faults`` (names of S3_FAULTS, drawn at random) instead of being forwarded."""
        self.upstream = urlsplit(upstream)
        self.put_failure_rate = put_failure_rate
        self.faults = tuple(faults)
        unknown = set(self.faults) - set(S3_FAULTS)
        if unknown or not self.faults:
            raise ValueError(f"faults must be among {sorted(S3_FAULTS)}, not {sorted(unknown)}")
        self.methods = frozenset(methods)
        self.outage_until = 0.0
        self.failed_puts = 0  # every request failed on purpose (the name predates `methods`)
        self.forwarded = 0
        self.answered: Counter[str] = Counter()  # fault name -> how many times answered
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def outage(self, seconds: float) -> None:
        self.outage_until = time.monotonic() + seconds

    def _fault_for(self, method: str) -> str | None:
        """The fault to answer this request with, or None to forward it."""
        with self._lock:
            if time.monotonic() < self.outage_until:
                fault: str | None = "SlowDown"
            elif method in self.methods and self._random.random() < self.put_failure_rate:
                fault = self._random.choice(self.faults)
            else:
                self.forwarded += 1
                return None
            self.failed_puts += 1
            self.answered[fault] += 1
            return fault

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                return None

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy._fault_for(self.command)
                if fault is not None:
                    status, code, message = S3_FAULTS[fault]
                    error = _error_body(code, message)
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(error)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(error)
                    return
                upstream = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=30
                )
                try:
                    upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
                    answer = upstream.getresponse()
                    data = answer.read()
                    self.send_response(answer.status)
                    for name, value in answer.getheaders():
                        if name.lower() not in (
                            "transfer-encoding",
                            "content-length",
                            "connection",
                        ):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                finally:
                    upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay

        return Handler

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

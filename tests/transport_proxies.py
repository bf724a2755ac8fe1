"""Network middlemen for the transport-security tests, on 127.0.0.1.

* ``TlsFront``: HTTPS in front of an HTTP server (the moto S3 server), with a certificate
  the test's own CA signed: what a private MinIO behind a site's CA looks like.
* ``RecordingProxy``: an HTTP proxy as a university has one: it asks for basic credentials
  (407 without them), tunnels HTTPS (CONNECT) and forwards plain HTTP, and keeps what it saw
  (the headers of forwarded requests, the targets of tunnels) for the test to check.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import socket
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)


def _splice(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until both sides ended; then close both."""
    other = threading.Thread(target=_pump, args=(b, a), daemon=True)
    other.start()
    _pump(a, b)
    other.join(60)
    a.close()
    b.close()


class TlsFront:
    """Accepts TLS on a free port and passes the plain bytes to ``upstream`` (host, port)."""

    def __init__(self, upstream: tuple[str, int], cert_file: Path, key_file: Path) -> None:
        self.upstream = upstream
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(cert_file, key_file)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.handshake_failures = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            wrapped = self._context.wrap_socket(client, server_side=True)
        except (OSError, ssl.SSLError):
            self.handshake_failures += 1  # e.g. a client that does not trust our CA
            client.close()
            return
        _splice(wrapped, socket.create_connection(self.upstream))

    def close(self) -> None:
        self._listener.close()


@dataclass
class Seen:
    """What went through a RecordingProxy."""

    forwarded: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    tunnels: list[str] = field(default_factory=list)
    refused: int = 0  # requests without the right Proxy-Authorization (answered 407)

    def puts(self) -> list[dict[str, str]]:
        """The headers (lower-case names) of every PUT forwarded."""
        return [headers for method, _, headers in self.forwarded if method == "PUT"]


class RecordingProxy:
    def __init__(self, user: str, password: str) -> None:
        self.seen = Seen()
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                return None

            def _allowed(self) -> bool:
                if self.headers.get("Proxy-Authorization") == expected:
                    return True
                proxy.seen.refused += 1
                self.send_response(407)
                self.send_header("Proxy-Authenticate", 'Basic realm="test"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return False

            def do_CONNECT(self) -> None:  # noqa: N802 - http.server's naming
                if not self._allowed():
                    return
                host, _, port = self.path.rpartition(":")
                upstream = socket.create_connection((host, int(port)))
                proxy.seen.tunnels.append(self.path)
                self.send_response(200, "Connection established")
                self.end_headers()
                self.close_connection = True
                _splice(self.connection, upstream)

            def _forward(self) -> None:
                if not self._allowed():
                    return
                target = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() != "proxy-authorization"
                }
                proxy.seen.forwarded.append(
                    (self.command, self.path, {k.lower(): v for k, v in headers.items()})
                )
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                path = target.path + (f"?{target.query}" if target.query else "")
                connection.request(self.command, path or "/", body=body, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
                self.send_response(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                connection.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

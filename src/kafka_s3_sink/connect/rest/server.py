"""Serving the REST app: uvicorn on a socket this module opens, without uvicorn's signal
handlers (the service owns shutdown), telling the caller when the port accepts connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp


def listen_socket(host: str, port: int) -> socket.socket:
    """A listening socket for host:port (IPv4 or IPv6, as the host resolves).

    Built with getaddrinfo's protocol number (IPPROTO_TCP), not 0 as socket.create_server
    does: asyncio only sets TCP_NODELAY on sockets that say TCP, and without it every
    keep-alive request waits ~40 ms on Nagle's algorithm and delayed ACKs."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise OSError(
            exc.errno, f"REST API cannot listen on {host}:{port}: {exc.strerror}"
        ) from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart without waiting
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise OSError(
            exc.errno, f"REST API cannot listen on {host}:{port}: {exc.strerror}"
        ) from exc
    return sock


class _Server(uvicorn.Server):
    """uvicorn without its own SIGINT/SIGTERM handlers: the service owns shutdown."""

    def __init__(self, config: uvicorn.Config, ready: asyncio.Event | None) -> None:
        super().__init__(config)
        self.ready = ready

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.ready is not None:
            self.ready.set()


# Connections (and requests) served at once: past it uvicorn answers 503 at once, so that
# clients holding connections open cannot pile up threads or memory.
MAX_CONCURRENCY = 64
# An idle keep-alive connection is closed after this long.
KEEP_ALIVE_S = 5
# Request line plus headers: Kafka Connect clients send well under 8 KiB.
MAX_HEADER_BYTES = 16 * 1024


async def serve(
    app: ASGIApp,
    host: str,
    port: int,
    ready: asyncio.Event | None = None,
    tls: tuple[str, str] | None = None,
) -> None:
    """Serve ``app`` on host:port until cancelled, then shut down gracefully (in-flight
    requests get up to 5 s). A port in use raises OSError here instead of uvicorn's
    sys.exit(1); ``ready`` is set once the port accepts connections. ``tls``: (certificate
    file, key file) to serve HTTPS; a file that cannot be read raises OSError/SSLError."""
    sock = listen_socket(host, port)
    certfile, keyfile = tls or (None, None)
    config = uvicorn.Config(
        app,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        limit_concurrency=MAX_CONCURRENCY,
        timeout_keep_alive=KEEP_ALIVE_S,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        log_config=None,  # keep the service's logging setup
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    server = _Server(config, ready)
    running = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        await asyncio.shield(running)
    except asyncio.CancelledError:
        server.should_exit = True
        await running
        raise
    finally:
        sock.close()

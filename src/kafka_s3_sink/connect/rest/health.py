"""``GET /health`` as Kafka Connect 3.9+ answers it (KIP-1017), and the start-up gate.

200 ``{"status": "healthy", ...}`` once the worker is ready; 503 with ``"starting"`` while it
starts (or waits for the broker, the topic, the object store), and 503 with ``"unhealthy"``
when it cannot reach what it needs.  The messages begin as Kafka Connect's do, so probes
and dashboards written for it match; what follows says what is missing.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

HEALTHY = "Worker has completed startup and is ready to handle requests."
STARTING = "Worker is still starting up."
UNHEALTHY = (
    "Worker was unable to handle this request and may be unable to handle other requests."
)

# () -> (status, message): "healthy", "starting" or "unhealthy", and the message to show.
HealthCheck = Callable[[], tuple[str, str]]


def health_endpoint(health: HealthCheck | None) -> Callable[[Request], object]:
    async def answer(_: Request) -> Response:
        status, message = health() if health is not None else ("healthy", HEALTHY)
        return JSONResponse(
            {"status": status, "message": message},
            status_code=200 if status == "healthy" else 503,
        )

    return answer


# Answered while starting: they say how the start-up goes.  Not ``GET /`` nor
# ``/openapi.json``: scripts and tools written for a port bound only once everything ran
# take their 200 as "ready".
_ALWAYS_OPEN = ("/health", "/metrics")


class StartupGate:
    """ASGI middleware: until start-up completes, every other endpoint answers 503 at once
    (the connectors and the config topic are not loaded yet; a POST would otherwise hang on
    a broker that is not there).  Generic text only: it runs before the credentials check."""

    def __init__(self, app: ASGIApp, starting: Callable[[], bool]) -> None:
        self.app = app
        self.starting = starting

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and self.starting()
            and scope["path"].rstrip("/") not in _ALWAYS_OPEN
        ):
            response = JSONResponse(
                {"error_code": 503, "message": f"{STARTING} Try again once GET /health is 200."},
                status_code=503,
                headers={"Retry-After": "5"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

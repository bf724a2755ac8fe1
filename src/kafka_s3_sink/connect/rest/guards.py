"""What every request must pass before it reaches an endpoint.

In this order, each answered in Kafka Connect's error shape:

1. ``Host`` names this machine (an IP address, localhost, its host names, or one of
   REST_ALLOWED_HOSTS): a page of another site whose name was re-pointed at 127.0.0.1 (DNS
   rebinding) sends its own name, and gets 421;
2. no cross-site request: an ``Origin`` other than the API's own, or ``Sec-Fetch-Site:
   cross-site``, gets 403 (a browser page of another site can otherwise POST ``text/plain``
   bodies without any preflight);
3. credentials, when configured: 401 without them (before anything else is read); a
   browser showing the web console (/ui) may carry the bearer token in a cookie instead of
   the header, set by opening ``/ui/?token=<token>`` once;
4. a request that carries a body says it is JSON, or gets 415 (the content types a form or
   ``fetch`` may send without a preflight are exactly the non-JSON ones);
5. the body is read here, whole, within MAX_BODY_BYTES (413) and ``body_timeout_s`` (408),
   so that a client sending it slowly holds nothing for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import time
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .credentials import Credentials

# The web console's bearer token: a browser cannot add an Authorization header to a page it
# opens, so /ui?token=... is accepted once and turned into this cookie (SameSite=Strict, and
# cross-site requests are refused anyway, so another site cannot make it ride along).
TOKEN_COOKIE = "kafka-s3-sink-token"
TOKEN_QUERY = "token"
_CONSOLE_PAGE = "/ui"

# Connector configs are a few KiB; the cap stops one request from eating the service's memory.
MAX_BODY_BYTES = 1 << 20
_WITH_BODY = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class AccessPolicy:
    credentials: Credentials = field(default_factory=Credentials)
    # Host names accepted besides IP addresses; None: any (REST_ALLOWED_HOSTS=*).
    allowed_hosts: frozenset[str] | None = frozenset({"localhost"})
    tls: bool = False
    body_timeout_s: float = 10.0
    max_body_bytes: int = MAX_BODY_BYTES


class AccessGuard:
    """ASGI middleware applying an AccessPolicy to every HTTP request."""

    def __init__(self, app: ASGIApp, policy: AccessPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(
            scope["method"], headers, _console_token(scope, headers), scope.get("path", "")
        )
        if refusal is not None:
            await _answer(send, *refusal)
            return
        if not _carries_body(headers):
            await self.app(scope, receive, send)
            return
        body = await self._read_body(receive, headers)
        if isinstance(body, tuple):
            await _answer(send, *body)
            return
        await self.app(scope, _replay(body, receive), send)

    def _refusal(
        self,
        method: str,
        headers: dict[str, str],
        console_token: str | None = None,
        path: str = "",
    ) -> tuple[int, str, dict[str, str]] | None:
        host = headers.get("host", "")
        if not self._host_allowed(host):
            return 421, f"Host {host!r} is not a name of this API (see REST_ALLOWED_HOSTS)", {}
        origin = headers.get("origin")
        if (origin is not None and not self._same_origin(origin, host)) or headers.get(
            "sec-fetch-site"
        ) == "cross-site":
            return 403, "Cross-site requests are refused", {}
        credentials = self.policy.credentials
        if (
            credentials.required
            and not credentials.accepts(headers.get("authorization"))
            and not (console_token and credentials.accepts(f"Bearer {console_token}"))
        ):
            challenge = 'Basic realm="kafka-s3-sink"' if credentials.users else "Bearer"
            message = "Credentials are required"
            if not credentials.users and (path == "/ui" or path.startswith("/ui/")):
                # A browser has no way to send a bearer token by itself: say how.
                message += "; open /ui/?token=<the REST bearer token> once to open the console"
            return 401, message, {"WWW-Authenticate": challenge}
        if method in _WITH_BODY and "content-type" in headers:
            if not _is_json(headers["content-type"]):
                return 415, "The request body must be JSON (Content-Type: application/json)", {}
        elif _carries_body(headers) and method in _WITH_BODY:
            return 415, "The request body must be JSON (Content-Type: application/json)", {}
        return None

    def _host_allowed(self, host: str) -> bool:
        allowed = self.policy.allowed_hosts
        if allowed is None:
            return True
        name = _host_name(host)
        if not name:
            return False
        try:
            ipaddress.ip_address(name)
            return True  # a page's origin is then the address itself: nothing to rebind
        except ValueError:
            return name.lower().rstrip(".") in allowed

    def _same_origin(self, origin: str, host: str) -> bool:
        parts = urlsplit(origin)
        scheme = "https" if self.policy.tls else "http"
        return parts.scheme == scheme and parts.netloc.lower() == host.lower()

    async def _read_body(
        self, receive: Receive, headers: dict[str, str]
    ) -> bytes | tuple[int, str, dict[str, str]]:
        limit = self.policy.max_body_bytes
        too_large = (413, f"The request body is larger than {limit} bytes", {})
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return too_large
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + self.policy.body_timeout_s
        while True:
            try:
                message = await asyncio.wait_for(receive(), max(deadline - time.monotonic(), 0))
            except TimeoutError:
                timeout = self.policy.body_timeout_s
                return 408, f"The request body did not arrive within {timeout:g} s", {}
            if message["type"] == "http.disconnect":
                return 400, "The client went away before sending the whole body", {}
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _console_token(scope: Scope, headers: dict[str, str]) -> str | None:
    """The bearer token a console browser sends: its cookie, or ?token= on the page itself."""
    cookies = SimpleCookie()
    with contextlib.suppress(CookieError):
        cookies.load(headers.get("cookie", ""))  # unquotes what set_cookie quoted
    if TOKEN_COOKIE in cookies and cookies[TOKEN_COOKIE].value:
        return cookies[TOKEN_COOKIE].value
    if scope["method"] == "GET" and scope.get("path", "").rstrip("/") == _CONSOLE_PAGE:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if query.get(TOKEN_QUERY):
            return query[TOKEN_QUERY][0]
    return None


def _carries_body(headers: dict[str, str]) -> bool:
    length = headers.get("content-length", "0").strip()
    return "transfer-encoding" in headers or (length != "0" and length != "")


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _host_name(host: str) -> str:
    if host.startswith("["):  # [::1]:8083
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body read already, then waits on the client."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _answer(send: Send, status: int, message: str, extra: dict[str, str]) -> None:
    body = json.dumps({"error_code": status, "message": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in extra.items()),
    ]
    if status in (400, 408, 413):
        headers.append((b"connection", b"close"))  # the rest of the body is not read
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

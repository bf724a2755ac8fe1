"""``kafka-s3-sink health``: ask the running service's GET /health, as a container
HEALTHCHECK or a monitoring script would, with the .env's port, TLS and credentials."""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request

from .security import rest_access
from .settings.variables import Settings


def check_health(settings: Settings, timeout_s: float = 5.0) -> tuple[bool, str]:
    """(healthy, one line to print)."""
    access = rest_access(settings)
    scheme = "https" if access.tls else "http"
    url = f"{scheme}://127.0.0.1:{settings['REST_PORT']}/health"
    request = urllib.request.Request(url)
    credentials = access.credentials
    if credentials.tokens:
        request.add_header("Authorization", f"Bearer {credentials.tokens[0]}")
    elif credentials.users:
        user, password = next(iter(credentials.users.items()))
        pair = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {pair}")
    # The certificate names the service, not 127.0.0.1: this is a local liveness probe.
    context = ssl._create_unverified_context() if access.tls else None
    try:
        with urllib.request.urlopen(request, timeout=timeout_s, context=context) as response:
            body = json.loads(response.read() or b"{}")
            return True, f"{body.get('status')}: {body.get('message')}"
    except urllib.error.HTTPError as error:
        try:
            body = json.loads(error.read() or b"{}")
        except ValueError:
            body = {}
        return False, f"{body.get('status', error.code)}: {body.get('message', error.reason)}"
    except OSError as error:
        return False, f"no answer from {url}: {error}"

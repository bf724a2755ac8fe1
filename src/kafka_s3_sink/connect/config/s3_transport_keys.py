"""The S3 sink's encryption and proxy keys, read with Confluent's meaning.

* ``s3.ssea.name``: "" (no header: the bucket's default encryption), ``AES256`` (SSE-S3) or
  ``aws:kms`` (SSE-KMS, with ``s3.sse.kms.key.id`` or the account's aws/s3 key);
* ``s3.sse.customer.key`` (older name ``s3.sse.key``): with ``AES256``, SSE-C with this
  base64 256-bit key; ignored otherwise, as Confluent ignores it;
* ``s3.proxy.url``: every S3 request through this HTTP(S) proxy; ``s3.proxy.user`` and
  ``s3.proxy.password`` (or a ``user:password@`` in the URL) log in to it.

A connector writing to the service's own store gets the service's secrets (the SSE-C key
and the proxy password of .env) the way it gets its S3 keys: only when it names the same
algorithm, or the same proxy and user, and gives none of its own; they never go elsewhere.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ...pipeline.params import Params, invalid
from ...pipeline.spec import ConnectorConfigError
from ...store.spec import StoreSpec
from .policy import same_endpoint

SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")


@dataclass(frozen=True)
class S3TransportKeys:
    sse_algorithm: str = ""
    sse_kms_key_id: str = ""
    sse_customer_key: str = ""
    proxy_url: str = ""
    proxy_user: str = ""
    proxy_password: str = ""
    ca_file: str = ""


def read_s3_transport(
    p: Params, defaults: StoreSpec | None, same_place: bool
) -> S3TransportKeys:
    """Raises ConnectorConfigError naming the key at fault (never echoing a secret)."""
    algorithm = _algorithm(p.get_optional("s3.ssea.name") or "")
    kms_key = p.get_optional("s3.sse.kms.key.id") or ""
    key_name = "s3.sse.customer.key"
    customer_key = p.get_optional(key_name) or ""
    if not customer_key and p.get_optional("s3.sse.key"):
        key_name, customer_key = "s3.sse.key", p.get_optional("s3.sse.key") or ""
    if customer_key:
        _check_customer_key(key_name, customer_key)
    elif (
        same_place
        and defaults is not None
        and algorithm == "AES256"
        and defaults.sse_algorithm == "AES256"
    ):
        customer_key = defaults.sse_customer_key  # the .env's SSE-C key, as AWS_SECRET_KEY
    proxy_url, proxy_user, proxy_password = _proxy(p)
    if not proxy_url and same_place and defaults is not None:
        # The .env store is reached the way the service reaches it.
        proxy_url, proxy_user = defaults.proxy_url, defaults.proxy_user
        proxy_password = defaults.proxy_password
    elif (
        proxy_url
        and not proxy_password
        and defaults is not None
        and defaults.proxy_url
        and same_endpoint(proxy_url, defaults.proxy_url)
        and proxy_user == defaults.proxy_user
    ):
        proxy_password = defaults.proxy_password  # the .env's password, for its own proxy only
    return S3TransportKeys(
        sse_algorithm=algorithm,
        sse_kms_key_id=kms_key if algorithm.startswith("aws:kms") else "",
        sse_customer_key=customer_key if algorithm == "AES256" else "",
        proxy_url=proxy_url,
        proxy_user=proxy_user,
        proxy_password=proxy_password,
        ca_file=defaults.ca_file if defaults is not None else "",
    )


def _algorithm(text: str) -> str:
    if not text:
        return ""
    for name in SSE_ALGORITHMS:
        if text.lower() == name.lower():
            return name
    raise invalid("s3.ssea.name", text, "String must be one of: , AES256, aws:kms, aws:kms:dsse")


def _check_customer_key(key: str, value: str) -> None:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ConnectorConfigError(
            key,
            f"Invalid value [hidden] for configuration {key}: the base64 text of a 256-bit "
            "key is expected (openssl rand -base64 32)",
        )


def _proxy(p: Params) -> tuple[str, str, str]:
    """(URL without credentials, user, password); the keys win over a user part of the URL."""
    url = p.get_optional("s3.proxy.url") or ""
    user = p.get_optional("s3.proxy.user") or ""
    password = p.get_optional("s3.proxy.password") or ""
    if not url:
        if user or password:
            key = "s3.proxy.user" if user else "s3.proxy.password"
            raise ConnectorConfigError(key, f"{key} needs s3.proxy.url")
        return "", "", ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        shown = parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]).geturl() if parts else "?"
        raise invalid("s3.proxy.url", shown, "an http(s)://host:port proxy URL is expected")
    user = user or unquote(parts.username or "")
    password = password or unquote(parts.password or "")
    bare = parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]).geturl()
    return bare, user, password

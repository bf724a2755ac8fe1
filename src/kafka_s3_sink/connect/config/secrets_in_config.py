"""Which values of a connector config are secrets, and their masked form.

A secret is the value of a key whose name says so (``*password*``, ``*secret*``,
``*sasl.jaas.config``, ``s3.sse.customer.key``, as Kafka Connect's PASSWORD keys), or the
password of a ``user:password@`` part of ``store.url`` or ``s3.proxy.url``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ...pipeline.params import is_secret_key
from .providers import is_reference

HIDDEN = "[hidden]"  # what Kafka Connect shows for a PASSWORD value (Password.HIDDEN)
URL_KEYS = ("store.url", "s3.proxy.url")  # URLs that may carry user:password@


def secret_values(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, secret) for every secret of ``config``."""
    found: list[tuple[str, str]] = []
    for key, value in config.items():
        if not isinstance(value, str) or not value or is_reference(value):
            continue  # a ${provider:...} reference names where a secret is: not one itself
        if is_secret_key(key):
            found.append((key, value))
        elif key in URL_KEYS and url_password(value):
            found.append((key, url_password(value) or ""))
    return found


def is_secret_entry(key: str, value: Any) -> bool:
    """Whether the whole value of ``key`` is to be kept secret (encrypted at rest)."""
    if is_reference(value):
        return False
    return is_secret_key(key) or (
        key in URL_KEYS and isinstance(value, str) and url_password(value) is not None
    )


def url_password(url: str) -> str | None:
    try:
        return urlsplit(url).password or None
    except ValueError:
        return None


def mask_url(url: str) -> str:
    """``http://user:pass@host`` -> ``http://user:[hidden]@host``."""
    parts = urlsplit(url)
    if url_password(url) is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{user}:{HIDDEN}@{host}").geturl()


def mask_config(config: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: HIDDEN
        if is_secret_key(key) and not is_reference(value)
        else (mask_url(value) if key in URL_KEYS and isinstance(value, str) else value)
        for key, value in config.items()
    }


def scrub(text: str, config: Mapping[str, Any]) -> str:
    """``text`` (a trace, a message) with every secret of ``config`` replaced."""
    for _, secret in secret_values(config):
        if len(secret) >= 3:  # hiding "a" would garble the text and hide nothing
            text = text.replace(secret, HIDDEN)
    return text

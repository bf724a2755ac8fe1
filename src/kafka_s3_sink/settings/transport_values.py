"""Parsers of the transport-security settings (TLS and SASL to Kafka, encryption and proxy
for S3): each takes the text of one variable and raises ValueError (or a Hint) when it is
not of the right form.  Combinations (a SASL mechanism without its password, ...) are
checked where the settings are turned into client options (``transport.py``)."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

# librdkafka's security.protocol values, as Kafka names them.
KAFKA_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
# The SASL mechanisms that log in with a user name and a password.
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
# Confluent's s3.ssea.name values (the AWS SDK's SSEAlgorithm names).
SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")


class TransportHint(ValueError):
    """A parse failure whose text says more than the option's ``expects``."""


def kafka_protocol(text: str) -> str:
    value = text.strip().upper()
    if value not in KAFKA_PROTOCOLS:
        raise ValueError
    return value


def sasl_mechanism(text: str) -> str:
    value = text.strip().upper()
    if value not in SASL_MECHANISMS:
        if value.startswith(("GSSAPI", "OAUTHBEARER")):
            raise TransportHint(f"{value} needs more than a user and password: not supported")
        raise ValueError
    return value


def sse_algorithm(text: str) -> str:
    """AES256 or aws:kms as Confluent spells them (case as the AWS header wants it)."""
    for name in SSE_ALGORITHMS:
        if text.strip().lower() == name.lower():
            return name
    raise ValueError


def sse_customer_key(text: str) -> str:
    """SSE-C: the base64 text of a 256-bit key (what ``openssl rand -base64 32`` prints)."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise TransportHint("it is not base64 text") from None
    if len(raw) != 32:
        raise TransportHint(f"it decodes to {len(raw)} bytes, not 32 (a 256-bit key)")
    return text.strip()


def proxy_url(text: str) -> str:
    """http(s)://host:port of an HTTP proxy; the password goes in its own setting, where
    it is masked, not in the URL."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TransportHint("give http://host:port (or https://)")
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise TransportHint("the port is not a number") from None
    if parts.password is not None:
        raise TransportHint("put the password in S3_PROXY_PASSWORD, not in the URL")
    return text.strip()

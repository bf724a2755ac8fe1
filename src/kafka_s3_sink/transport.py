"""The transport-security settings of ``.env`` checked together and turned into client
options: TLS and SASL for every Kafka client (librdkafka names), and the S3 settings whose
combinations matter.  Files are checked here, at start-up, so that a wrong path stops the
service with one line naming the variable, not a librdkafka error minutes later."""

from __future__ import annotations

import logging
from pathlib import Path

from .settings.variables import ConfigError, Settings

log = logging.getLogger(__name__)

_TLS = ("SSL", "SASL_SSL")
_SASL = ("SASL_PLAINTEXT", "SASL_SSL")


def kafka_security(settings: Settings) -> dict[str, str]:
    """librdkafka settings for KAFKA_SECURITY_PROTOCOL and its companions; ConfigError
    when they do not go together or a file cannot be read."""
    protocol = settings["KAFKA_SECURITY_PROTOCOL"]
    out: dict[str, str] = {"security.protocol": protocol.lower()}
    mechanism = settings["KAFKA_SASL_MECHANISM"]
    user, password = settings["KAFKA_SASL_USERNAME"], settings["KAFKA_SASL_PASSWORD"]
    if protocol in _SASL:
        for name, value in (
            ("KAFKA_SASL_MECHANISM", mechanism),
            ("KAFKA_SASL_USERNAME", user),
            ("KAFKA_SASL_PASSWORD", password),
        ):
            if not value:
                raise ConfigError(f"{name} is not set: KAFKA_SECURITY_PROTOCOL={protocol} needs it")
        out.update({"sasl.mechanism": mechanism, "sasl.username": user, "sasl.password": password})
        if protocol == "SASL_PLAINTEXT" and mechanism == "PLAIN":
            log.warning(
                "KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT with PLAIN sends KAFKA_SASL_PASSWORD "
                "unencrypted: anyone on the path can read it; use SASL_SSL or SCRAM"
            )
    elif mechanism or user or password:
        raise ConfigError(
            "KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD need "
            f"KAFKA_SECURITY_PROTOCOL=SASL_SSL or SASL_PLAINTEXT (it is {protocol})"
        )
    files = {
        "KAFKA_TLS_CA_FILE": "ssl.ca.location",
        "KAFKA_TLS_CERT_FILE": "ssl.certificate.location",
        "KAFKA_TLS_KEY_FILE": "ssl.key.location",
    }
    given = [name for name in files if settings[name]]
    if given and protocol not in _TLS:
        raise ConfigError(
            f"{given[0]} needs KAFKA_SECURITY_PROTOCOL=SSL or SASL_SSL (it is {protocol})"
        )
    if bool(settings["KAFKA_TLS_CERT_FILE"]) != bool(settings["KAFKA_TLS_KEY_FILE"]):
        raise ConfigError("KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE go together: set both")
    for name in given:
        _readable(name, settings[name])
        out[files[name]] = settings[name]
    if settings["KAFKA_TLS_KEY_PASSWORD"]:
        if not settings["KAFKA_TLS_KEY_FILE"]:
            raise ConfigError("KAFKA_TLS_KEY_PASSWORD is set without KAFKA_TLS_KEY_FILE")
        out["ssl.key.password"] = settings["KAFKA_TLS_KEY_PASSWORD"]
    return out


def check_s3_transport(settings: Settings) -> None:
    """ConfigError for S3 encryption and proxy settings that do not go together."""
    algorithm = settings["S3_SSE_ALGORITHM"]
    if settings["S3_SSE_CUSTOMER_KEY"] and algorithm != "AES256":
        raise ConfigError(
            "S3_SSE_CUSTOMER_KEY needs S3_SSE_ALGORITHM=AES256 (SSE-C, as Confluent's "
            f"s3.ssea.name=AES256 with s3.sse.customer.key); it is {algorithm or 'unset'}"
        )
    if settings["S3_SSE_KMS_KEY_ID"] and not algorithm.startswith("aws:kms"):
        raise ConfigError(
            f"S3_SSE_KMS_KEY_ID needs S3_SSE_ALGORITHM=aws:kms; it is {algorithm or 'unset'}"
        )
    if (settings["S3_PROXY_USER"] or settings["S3_PROXY_PASSWORD"]) and not settings[
        "S3_PROXY_URL"
    ]:
        raise ConfigError("S3_PROXY_USER and S3_PROXY_PASSWORD need S3_PROXY_URL")
    if settings["S3_PROXY_PASSWORD"] and not settings["S3_PROXY_USER"]:
        raise ConfigError("S3_PROXY_PASSWORD needs S3_PROXY_USER")
    if settings["S3_CA_FILE"]:
        text = _readable("S3_CA_FILE", settings["S3_CA_FILE"])
        if "-----BEGIN CERTIFICATE-----" not in text:
            raise ConfigError(f"S3_CA_FILE={settings['S3_CA_FILE']} holds no PEM certificate")


def _readable(name: str, path: str) -> str:
    try:
        return Path(path).read_text(encoding="ascii", errors="replace")
    except OSError as error:
        raise ConfigError(f"{name}={path} cannot be read: {error.strerror or error}") from None

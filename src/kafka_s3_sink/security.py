"""The security settings of ``.env`` turned into the control plane's objects: who may call
the REST API (AccessPolicy), what a connector config may ask for (ConnectorPolicy), and the
key that encrypts stored secrets (SecretBox).  Files named by the settings are read here,
once, at start-up; a file that cannot be used stops start-up with ConfigError naming it.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path

from .connect.config.policy import ConnectorPolicy
from .connect.config.providers import ConfigProviders
from .connect.rest.credentials import Credentials, CredentialsError, read_token, read_users
from .connect.rest.guards import AccessPolicy
from .connect.state.secret_box import SecretBox, SecretError
from .settings.reference_connectors import store_spec
from .settings.variables import OPTIONS_BY_KEY, ConfigError, Settings, is_loopback

log = logging.getLogger(__name__)


def rest_access(settings: Settings) -> AccessPolicy:
    try:
        users = (
            read_users(Path(settings["REST_BASIC_AUTH_FILE"]))
            if settings["REST_BASIC_AUTH_FILE"]
            else {}
        )
        tokens = (
            (read_token(Path(settings["REST_BEARER_TOKEN_FILE"])),)
            if settings["REST_BEARER_TOKEN_FILE"]
            else ()
        )
    except CredentialsError as error:
        raise ConfigError(str(error)) from None
    tls = bool(settings["REST_TLS_CERT_FILE"])
    if (users or tokens) and not tls and not is_loopback(settings["REST_HOST"]):
        log.warning(
            "the REST API takes credentials over plain HTTP on %s: anyone on the path can "
            "read them; set REST_TLS_CERT_FILE and REST_TLS_KEY_FILE",
            settings["REST_HOST"],
        )
    return AccessPolicy(
        credentials=Credentials(users, tokens), allowed_hosts=allowed_hosts(settings), tls=tls
    )


def allowed_hosts(settings: Settings) -> frozenset[str] | None:
    """Host names the API answers to (IP addresses always): None when REST_ALLOWED_HOSTS=*."""
    extra = settings["REST_ALLOWED_HOSTS"] or ()
    if "*" in extra:
        return None
    names = {"localhost", *(name.lower().rstrip(".") for name in extra)}
    if not is_loopback(settings["REST_HOST"]):
        names.update({socket.gethostname().lower(), socket.getfqdn().lower()})
        names.add(settings["REST_HOST"].lower())
    return frozenset(names)


def tls_files(settings: Settings) -> tuple[str, str] | None:
    if not settings["REST_TLS_CERT_FILE"]:
        return None
    return settings["REST_TLS_CERT_FILE"], settings["REST_TLS_KEY_FILE"]


def secret_box(settings: Settings) -> SecretBox | None:
    if not settings["CONFIG_ENCRYPTION_KEY_FILE"]:
        return None
    path = Path(settings["CONFIG_ENCRYPTION_KEY_FILE"])
    try:
        box = SecretBox.from_file(path)
    except SecretError as error:
        raise ConfigError(str(error)) from None
    if path.stat().st_mode & 0o077:
        log.warning("CONFIG_ENCRYPTION_KEY_FILE %s is readable by others: chmod 600 it", path)
    return box


def connector_policy(settings: Settings, box: SecretBox | None) -> ConnectorPolicy:
    buckets = settings["CONNECTOR_BUCKETS"] or ()
    return ConnectorPolicy(
        store=store_spec(settings),
        places=settings["CONNECTOR_STORES"] or (),
        buckets=None if "*" in buckets else buckets,
        reserved_topics=frozenset({settings["CONFIG_STORAGE_TOPIC"]}),
        secrets_allowed=box is not None,
        providers=ConfigProviders(
            enabled=frozenset(settings["CONFIG_PROVIDERS"] or ()),
            allowed_paths=tuple(Path(p) for p in settings["CONFIG_PROVIDERS_ALLOWED_PATHS"] or ()),
            reserved_env=frozenset(OPTIONS_BY_KEY) | {"AWS_SECRET_ACCESS_KEY"},
        ),
        sinetstream_config=Path(settings["SINETSTREAM_CONFIG"])
        if settings["SINETSTREAM_CONFIG"]
        else None,
    )

"""What the operator lets a connector config ask for: where it may write, which topics it
may never read, whether it may carry secrets.

Anyone who can call the REST API can write a config, so a config may only name the stores
the operator listed (CONNECTOR_STORES, CONNECTOR_BUCKETS; by default the ``.env`` store
alone) and only the ``.env`` store is written with the service's own keys: a connector
pointed elsewhere would otherwise sign its requests with them, or write files wherever the
service may write.  Stored configs read back from the config topic pass the same checks
(anyone able to write that topic can write a config too).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ...store.spec import StoreSpec
from .providers import ConfigProviders

AWS = "s3"  # the place "AWS S3" in CONNECTOR_STORES: no store.url


@dataclass(frozen=True)
class ConnectorPolicy:
    store: StoreSpec  # the .env store: the default of every connector
    places: tuple[str, ...] = ()  # more allowed places: file:///root, http(s)://host:port, s3
    buckets: tuple[str, ...] | None = ()  # more allowed buckets; None: any
    reserved_topics: frozenset[str] = frozenset()  # never read: the config topic
    secrets_allowed: bool = False  # a key is configured to encrypt them at rest
    providers: ConfigProviders = ConfigProviders()  # ${provider:...} references
    sinetstream_config: Path | None = None  # the .env's SINETSTREAM_CONFIG

    def sinetstream_files_allowed(self) -> tuple[Path, ...]:
        """Where a connector's SINETStream config file may be: the .env's own, and the
        folders the file provider may read."""
        own = () if self.sinetstream_config is None else (self.sinetstream_config,)
        return (*own, *self.providers.allowed_paths)

    def own_place(self, endpoint: str | None, local_root: Path | None) -> bool:
        return is_same_place(self.store, endpoint, local_root)

    def allows_place(self, endpoint: str | None, local_root: Path | None) -> bool:
        if self.own_place(endpoint, local_root):
            return True
        if local_root is not None:
            return any(_below(local_root, place) for place in self.places)
        if endpoint is None:
            return AWS in self.places
        return any(same_endpoint(endpoint, place) for place in self.places)

    def allows_bucket(self, bucket: str) -> bool:
        return self.buckets is None or bucket == self.store.bucket or bucket in self.buckets

    def describe_places(self) -> str:
        own = self.store.local_root or self.store.endpoint_url
        own_text = f"file://{own}" if self.store.local_root else (own or "AWS S3")
        return ", ".join(dict.fromkeys([str(own_text), *self.places]))


def is_same_place(store: StoreSpec, endpoint: str | None, local_root: Path | None) -> bool:
    """Whether (endpoint, local_root) is where ``store`` writes."""
    if local_root is not None or store.local_root is not None:
        return (
            local_root is not None
            and store.local_root is not None
            and _real(local_root) == _real(store.local_root)
        )
    if endpoint is None or store.endpoint_url is None:
        return endpoint is None and store.endpoint_url is None
    return same_endpoint(endpoint, store.endpoint_url)


def same_endpoint(url: str, other: str) -> bool:
    """Same scheme, host, port and path; the user part of a URL does not count."""
    return _endpoint_key(url) == _endpoint_key(other)


def _endpoint_key(url: str) -> tuple[str, str, int | None, str] | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return parts.scheme, parts.hostname.lower(), port, parts.path.rstrip("/")


def _below(root: Path, place: str) -> bool:
    parts = urlsplit(place)
    if parts.scheme != "file" or parts.netloc or not parts.path.startswith("/"):
        return False
    return _real(root).is_relative_to(_real(Path(parts.path)))


def _real(path: Path) -> Path:
    # Symbolic links and ".." resolved, so that file:///allowed/../etc is not "below".
    return Path(os.path.realpath(path))

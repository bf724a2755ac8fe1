"""A SINETStream config file, read as SINETStream readers read it, into converter keys.

``value.converter.sinetstream.config.file`` (the ``.env``'s SINETSTREAM_CONFIG for the
reference connectors) names a ``.sinetstream_config.yml``; ``value.converter.sinetstream.
service`` (SINETSTREAM_SERVICE) the service in it, optional when it holds one service.
The service's ``data_encryption``, ``crypto``, ``data_compression`` and ``compression``
blocks become the dotted keys pipeline/sinetstream_options.py reads; keys the connector
config gives itself win, as a SINETStream reader's arguments win over its config file.

The file is read each time the config is parsed (connector start, restart, change): only
its name is stored in the config topic, never the password it holds.  A connector created
through the REST API may name a file only below CONFIG_PROVIDERS_ALLOWED_PATHS (or the
``.env``'s own): anyone who can call the API could otherwise make the service read files.
Errors name the file and the setting, never a value from it.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from ...pipeline.sinetstream_options import FILE_KEY, SERVICE_KEY
from ...pipeline.spec import ConnectorConfigError

PREFIX = "value.converter."
_FILE = PREFIX + FILE_KEY
_SERVICE = PREFIX + SERVICE_KEY
_SCALARS = {
    "data_encryption": ("data_encryption",),
    "data_compression": ("data_compression",),
    "crypto.algorithm": ("crypto", "algorithm"),
    "crypto.key_length": ("crypto", "key_length"),
    "crypto.mode": ("crypto", "mode"),
    "crypto.padding": ("crypto", "padding"),
    "crypto.key_derivation.algorithm": ("crypto", "key_derivation", "algorithm"),
    "crypto.key_derivation.salt_bytes": ("crypto", "key_derivation", "salt_bytes"),
    "crypto.key_derivation.iteration": ("crypto", "key_derivation", "iteration"),
    "crypto.key_derivation.prf": ("crypto", "key_derivation", "prf"),
    "compression.algorithm": ("compression", "algorithm"),
    "compression.level": ("compression", "level"),
    "compression.gzip.wbits": ("compression", "gzip", "wbits"),
    "compression.zstd.max_window_size": ("compression", "zstd", "max_window_size"),
}


class _Encrypted:
    """A ``!sinetstream/encrypted`` value: sealed for one user's private key."""


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!sinetstream/encrypted", lambda loader, node: _Encrypted())


def expand(config: Mapping[str, str], allowed: Iterable[Path] | None) -> dict[str, str]:
    """``config`` with the settings of its SINETStream config file added, if it names one.

    ``allowed``: folders (or files) the file must lie in; None: any (the .env's own path).
    """
    name = config.get(_FILE, "").strip()
    if not name:
        return dict(config)
    path = Path(name)
    if not path.is_absolute():
        raise ConnectorConfigError(_FILE, f"{_FILE} must be an absolute path, got {name!r}")
    if allowed is not None and not any(_below(path, place) for place in allowed):
        raise ConnectorConfigError(
            _FILE,
            f"{_FILE} {name} is not below CONFIG_PROVIDERS_ALLOWED_PATHS: a connector may "
            "read only files there (or the .env's SINETSTREAM_CONFIG)",
        )
    service = config.get(_SERVICE, "").strip() or None
    settings = service_settings(path, service)
    merged = dict(config)
    for key, value in settings.items():
        merged.setdefault(PREFIX + key, value)
    return merged


def service_settings(path: Path, service: str | None) -> dict[str, str]:
    """The reader settings of ``service`` in the SINETStream config file ``path``."""
    params = _service(_load(path), path, service)
    where = f"SINETStream config {path}" + (f", service {service}" if service else "")
    out: dict[str, str] = {}
    for key, steps in _SCALARS.items():
        value = _dig(params, steps)
        if value is None:
            continue
        if isinstance(value, dict | list | bytes | _Encrypted):
            raise ConnectorConfigError(_FILE, f"{where}: {'.'.join(steps)} must be a scalar")
        out[key] = str(value).lower() if isinstance(value, bool) else str(value)
    crypto = params.get("crypto")
    if isinstance(crypto, dict):
        out.update(_secrets(crypto, where))
    return out


def _load(path: Path) -> Any:
    try:
        text = path.read_bytes()
    except OSError as error:
        raise ConnectorConfigError(
            _FILE, f"cannot read the SINETStream config {path}: {error.strerror}"
        ) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        # Only the position: the text around it could be a password.
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConnectorConfigError(
            _FILE, f"the SINETStream config {path} is not valid YAML{at}"
        ) from None


def _service(content: Any, path: Path, service: str | None) -> dict[str, Any]:
    """The service's block; config files v2/v3 nest the services under ``config``."""
    services = content
    if isinstance(content, dict) and "header" in content:
        services = content.get("config")
    if not isinstance(services, dict) or not services:
        raise ConnectorConfigError(_FILE, f"the SINETStream config {path} defines no service")
    if service is None:
        if len(services) > 1:
            names = ", ".join(sorted(str(name) for name in services))
            raise ConnectorConfigError(
                _SERVICE,
                f"the SINETStream config {path} defines several services ({names}): "
                "say which (SINETSTREAM_SERVICE, or value.converter.sinetstream.service)",
            )
        service = next(iter(services))
    params = services.get(service)
    if not isinstance(params, dict):
        names = ", ".join(sorted(str(name) for name in services))
        raise ConnectorConfigError(
            _SERVICE, f"no service {service!r} in the SINETStream config {path} (it has {names})"
        )
    return params


def _secrets(crypto: Mapping[str, Any], where: str) -> dict[str, str]:
    """crypto.password / key / _keys -> the password of key version 1 and versioned keys."""
    out: dict[str, str] = {}
    versioned = crypto.get("_keys")
    if isinstance(versioned, dict):  # as a config server hands them out
        for version, key in versioned.items():
            out[f"crypto.secret_key.{version}"] = _key_text(key, f"{where}: crypto._keys")
    # Version 1 from key or password, unless _keys has it: a writer that used a password
    # before the site moved to versioned keys left version-1 messages behind.
    if "crypto.secret_key.1" not in out:
        if crypto.get("key") is not None:
            out["crypto.secret_key.1"] = _key_text(crypto["key"], f"{where}: crypto.key")
        elif crypto.get("password") is not None:
            out["crypto.password"] = _password(crypto["password"], where)
    return out


def _password(password: Any, where: str) -> str:
    if isinstance(password, _Encrypted):
        raise ConnectorConfigError(
            _FILE,
            f"{where}: crypto.password is !sinetstream/encrypted (sealed for a user's private "
            "key): give it as a value or a path: to a file only the service can read",
        )
    if isinstance(password, str):
        return password
    if isinstance(password, dict):
        if password.get("value") is not None:
            return str(password["value"])
        if password.get("path") is not None:
            # Read whole, newline included: that is what the writer derives its key from.
            try:
                return Path(os.path.expanduser(str(password["path"]))).read_text()
            except OSError as error:
                raise ConnectorConfigError(
                    _FILE, f"{where}: cannot read crypto.password.path: {error.strerror}"
                ) from None
    raise ConnectorConfigError(_FILE, f"{where}: crypto.password: a string, value: or path:")


def _key_text(key: Any, what: str) -> str:
    if isinstance(key, bytes):
        return base64.b64encode(key).decode()
    if isinstance(key, str):  # base64 text, as the connector key takes it
        return key
    raise ConnectorConfigError(_FILE, f"{what}: a key is !!binary or base64 text")


def _dig(tree: Mapping[str, Any], steps: tuple[str, ...]) -> Any:
    node: Any = tree
    for step in steps:
        if not isinstance(node, dict):
            return None
        node = node.get(step)
    return node


def _below(path: Path, place: Path) -> bool:
    real = Path(os.path.realpath(path))
    return real == Path(os.path.realpath(place)) or real.is_relative_to(os.path.realpath(place))

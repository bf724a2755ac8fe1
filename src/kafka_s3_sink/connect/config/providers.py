"""Config providers, as Kafka Connect has them: ``${provider:[path:]key}`` in a config value.

A connector config may name where a secret lives instead of holding it:
``"aws.secret.access.key": "${file:/run/secrets/s3.properties:secret}"``.  The reference is
what is stored in the config topic and shown by GET; it is resolved each time the config
is parsed (when the connector is created or changed, and when its tasks start), so the
secret itself is neither stored nor shown.  The providers (``CONFIG_PROVIDERS``):

* ``env``: ``${env:VAR}``, a variable of the service's environment (not one of the
  service's own settings, such as AWS_SECRET_KEY: those are not a connector's to take);
* ``file``: ``${file:/path/to/file.properties:key}``, a key of a Java properties file;
* ``directory``: ``${directory:/path/to/dir:file}``, the content of a file in a directory.

File and directory paths must lie below one of ``CONFIG_PROVIDERS_ALLOWED_PATHS``
(Kafka Connect's ``allowed.paths``); with none listed, they read nothing.  A reference that
cannot be resolved fails the config with a 400 naming its key (Kafka Connect would leave
the text as it is and fail later, or store it as the value).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ...pipeline.spec import ConnectorConfigError

PROVIDERS = ("env", "file", "directory")
# Kafka Connect's ConfigTransformer pattern: ${provider:path:key} or ${provider:key}.
_REFERENCE = re.compile(r"\$\{([^}]*?):(?:([^}]*?):)?([^}]*?)\}")


def is_reference(value: object) -> bool:
    """Whether ``value`` is wholly one provider reference (it then names a secret's place,
    and is not a secret itself)."""
    return isinstance(value, str) and _REFERENCE.fullmatch(value) is not None


@dataclass(frozen=True)
class ConfigProviders:
    enabled: frozenset[str] = frozenset()
    allowed_paths: tuple[Path, ...] = ()
    reserved_env: frozenset[str] = frozenset()  # the service's own settings

    def resolve(self, config: Mapping[str, str]) -> dict[str, str]:
        """``config`` with every reference replaced by its value."""
        return {
            key: _REFERENCE.sub(lambda m, key=key: self._lookup(key, m), value)
            if "${" in value
            else value
            for key, value in config.items()
        }

    def _lookup(self, key: str, match: re.Match[str]) -> str:
        provider, path, name = match.group(1), match.group(2), match.group(3)
        if provider not in self.enabled:
            enabled = ", ".join(sorted(self.enabled)) or "none"
            raise ConnectorConfigError(
                key,
                f"{key} refers to config provider {provider!r}, which is not enabled "
                f"(CONFIG_PROVIDERS: {enabled}; known: {', '.join(PROVIDERS)})",
            )
        if provider == "env":
            return self._env(key, name if path is None else f"{path}:{name}")
        if path is None:
            raise ConnectorConfigError(
                key, f"{key}: ${{{provider}:...}} needs a path and a key: ${{{provider}:PATH:KEY}}"
            )
        target = self._allowed(key, Path(path) if provider == "file" else Path(path) / name)
        if provider == "file":
            return self._property(key, target, name)
        return self._read(key, target)

    def _env(self, key: str, variable: str) -> str:
        if variable in self.reserved_env:
            raise ConnectorConfigError(
                key, f"{key}: {variable} is one of the service's own settings, not a connector's"
            )
        value = os.environ.get(variable)
        if value is None:
            raise ConnectorConfigError(key, f"{key}: environment variable {variable} is not set")
        return value

    def _allowed(self, key: str, path: Path) -> Path:
        real = Path(os.path.realpath(path))
        if not any(real == root or root in real.parents for root in self._roots()):
            listed = ", ".join(str(p) for p in self.allowed_paths) or "none"
            raise ConnectorConfigError(
                key,
                f"{key}: {path} is not below CONFIG_PROVIDERS_ALLOWED_PATHS (listed: {listed})",
            )
        return real

    def _roots(self) -> list[Path]:
        return [Path(os.path.realpath(p)) for p in self.allowed_paths]

    def _read(self, key: str, path: Path) -> str:
        try:
            return path.read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise ConnectorConfigError(key, f"{key}: cannot read {path}: {error}") from None

    def _property(self, key: str, path: Path, name: str) -> str:
        properties = parse_properties(self._read(key, path))
        if name not in properties:
            raise ConnectorConfigError(key, f"{key}: {path} has no key {name!r}")
        return properties[name]


def parse_properties(text: str) -> dict[str, str]:
    """The ``key=value`` / ``key: value`` lines of a Java properties file (no continuation
    lines or escapes beyond the plain ones secrets files use)."""
    properties: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        match = re.match(r"([^=:\s]+)\s*[=:\s]\s*(.*)", line)
        if match:
            properties[match.group(1)] = match.group(2)
    return properties

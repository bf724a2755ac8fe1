"""Typed reading of a Kafka Connect config map, with errors that name the key.

Kafka Connect's ConfigDef parses every value from its string form (the REST API turns JSON
numbers and booleans into strings first) and trims the white space around it; ``Params``
does the same, and records which keys were read so that the caller can reject the keys no
builder understood instead of ignoring them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from .spec import ConnectorConfigError

T = TypeVar("T")

# Keys whose value is a secret: never echoed back in an error message.
SECRET_MARKERS = ("password", "secret")


# Secrets whose key names do not say so: the S3 sink's SSE-C key (Confluent PASSWORD keys).
SECRET_KEY_SUFFIXES = ("sasl.jaas.config", "s3.sse.customer.key", "s3.sse.key")


def is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(marker in lowered for marker in SECRET_MARKERS) or lowered.endswith(
        SECRET_KEY_SUFFIXES
    )


def normalize_config(config: Mapping[str, Any]) -> dict[str, str]:
    """The string map Kafka Connect would see for a JSON config object.

    JSON numbers and booleans become their text (``"tasks.max": 1`` as the reference
    deployment's script sends it); ``null`` means "not set"; nested objects are refused, as
    Kafka Connect refuses them.
    """
    out: dict[str, str] = {}
    for key, value in config.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, int | float | str):
            out[key] = str(value)
        else:
            raise ConnectorConfigError(
                key,
                f"Invalid value for configuration {key}: expected a string, got JSON "
                f"{type(value).__name__}",
            )
    return out


def invalid(key: str, value: str, reason: str) -> ConnectorConfigError:
    """Kafka Connect's wording: ``Invalid value X for configuration K: reason``."""
    shown = "[hidden]" if is_secret_key(key) else value
    return ConnectorConfigError(key, f"Invalid value {shown} for configuration {key}: {reason}")


def class_aliases(class_name: str, suffixes: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The names Kafka Connect accepts for a plugin class.

    The fully qualified name, the simple name, and the simple name without its plugin-type
    suffix (``S3SinkConnector`` -> ``S3Sink``, ``StringConverter`` -> ``String``).
    """
    simple = class_name.rsplit(".", 1)[-1]
    names = [class_name, simple]
    for suffix in suffixes:
        if simple.endswith(suffix) and len(simple) > len(suffix):
            names.append(simple[: -len(suffix)])
    return tuple(dict.fromkeys(names))


def alias_table(
    classes: Mapping[str, T], suffixes: tuple[str, ...] = ()
) -> dict[str, tuple[str, T]]:
    """alias -> (fully qualified name, thing) for every class of ``classes``."""
    table: dict[str, tuple[str, T]] = {}
    for class_name, thing in classes.items():
        for alias in class_aliases(class_name, suffixes):
            table[alias] = (class_name, thing)
    return table


class Params:
    """A view of the config under ``prefix`` (``value.converter.``, ``transforms.a.``...)."""

    def __init__(
        self, config: Mapping[str, str], prefix: str = "", used: set[str] | None = None
    ) -> None:
        self.config = config
        self.prefix = prefix
        self.used: set[str] = set() if used is None else used

    def sub(self, prefix: str) -> Params:
        return Params(self.config, self.prefix + prefix, self.used)

    def full(self, key: str) -> str:
        return self.prefix + key

    def has(self, key: str) -> bool:
        return self.full(key) in self.config

    def raw(self, key: str) -> str | None:
        """The untrimmed value (separators, where white space matters), marking it read."""
        full = self.full(key)
        self.used.add(full)
        return self.config.get(full)

    def get_str(self, key: str, default: str | None = None) -> str:
        """The trimmed value; without a default the key is required."""
        value = self.raw(key)
        if value is not None:
            return value.strip()
        if default is None:
            full = self.full(key)
            raise ConnectorConfigError(
                full, f'Missing required configuration "{full}" which has no default value.'
            )
        return default

    def get_optional(self, key: str) -> str | None:
        value = self.raw(key)
        return None if value is None or not value.strip() else value.strip()

    def get_int(self, key: str, default: int | None = None, *, minimum: int | None = None) -> int:
        text = self.get_str(key, None if default is None else str(default))
        try:
            value = int(text)
        except ValueError:
            raise invalid(self.full(key), text, "Not a number of type INT") from None
        if minimum is not None and value < minimum:
            raise invalid(self.full(key), text, f"Value must be at least {minimum}")
        return value

    def get_bool(self, key: str, default: bool) -> bool:
        text = self.get_str(key, "true" if default else "false").lower()
        if text not in ("true", "false"):
            raise invalid(self.full(key), text, "Expected value to be either true or false")
        return text == "true"

    def get_choice(self, key: str, default: str, choices: Iterable[str]) -> str:
        """One of ``choices`` (case-insensitive), returned as spelled in ``choices``."""
        text = self.get_str(key, default)
        by_lower = {choice.lower(): choice for choice in choices}
        if text.lower() not in by_lower:
            raise invalid(
                self.full(key), text, f"String must be one of: {', '.join(by_lower.values())}"
            )
        return by_lower[text.lower()]

    def get_list(self, key: str, default: str = "") -> list[str]:
        """A comma-separated list, items trimmed, empty items dropped (ConfigDef.Type.LIST)."""
        text = self.get_str(key, default)
        return [item.strip() for item in text.split(",") if item.strip()]

    def get_plugin(
        self, key: str, table: Mapping[str, tuple[str, T]], what: str, default: str | None = None
    ) -> tuple[str, T]:
        """Resolve a class name (or alias) to (canonical name, thing); error lists the choices."""
        text = self.get_str(key, default)
        found = table.get(text)
        if found is None:
            canonical = sorted({name for name, _ in table.values()})
            raise invalid(
                self.full(key),
                text,
                f"{what} not supported by kafka-s3-sink; supported: {', '.join(canonical)}",
            )
        return found

    def names(self) -> list[str]:
        """The keys under this view's prefix, in config order."""
        return [key for key in self.config if key.startswith(self.prefix)]

    def reject_unknown(self, what: str, supported: Iterable[str]) -> None:
        """Fail on a key under the prefix that is not one of ``supported`` (a typo, say)."""
        names = tuple(supported)
        for key in self.names():
            name = key[len(self.prefix) :]
            if name not in names:
                raise ConnectorConfigError(
                    key,
                    f"Unknown configuration {key}: {what} has no parameter {name!r}; "
                    f"its parameters: {', '.join(names) or 'none'}",
                )
            self.used.add(key)

"""Secret values of connector configs, encrypted before they are stored.

The config topic can be read by anyone with read access to the topic (and the config file by
anyone who can read the file), so a secret given through the REST API (``aws.secret.access.key``,
a password, a ``store.url`` with a password) is stored as ``kafka-s3-sink:fernet:<token>``:
Fernet (AES-128-CBC + HMAC-SHA256) under the worker key of CONFIG_ENCRYPTION_KEY_FILE, the same
file on every worker of one config topic.  Nothing of the key is derived from public data; a
record encrypted under another key is shown as a FAILED connector saying so, never guessed at.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from ..config.secrets_in_config import is_secret_entry

SEALED = "kafka-s3-sink:fernet:"


class SecretError(ValueError):
    """A sealed value cannot be opened: no key, or another key than the one it was sealed with."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)  # ValueError: not a Fernet key

    @classmethod
    def from_file(cls, path: Path) -> SecretBox:
        try:
            return cls(path.read_bytes().strip())
        except OSError as error:
            raise SecretError(
                f"CONFIG_ENCRYPTION_KEY_FILE {path} cannot be read: {error}"
            ) from None
        except ValueError:
            raise SecretError(
                f"CONFIG_ENCRYPTION_KEY_FILE {path} does not hold a Fernet key "
                "(kafka-s3-sink keygen PATH writes one)"
            ) from None

    def seal(self, config: Mapping[str, str]) -> dict[str, str]:
        return {
            key: SEALED + self._fernet.encrypt(value.encode()).decode()
            if is_secret_entry(key, value) and not value.startswith(SEALED)
            else value
            for key, value in config.items()
        }

    def open(self, config: Mapping[str, str]) -> dict[str, str]:
        opened: dict[str, str] = {}
        for key, value in config.items():
            if isinstance(value, str) and value.startswith(SEALED):
                try:
                    value = self._fernet.decrypt(value[len(SEALED) :].encode()).decode()
                except (InvalidToken, UnicodeDecodeError):
                    raise SecretError(
                        f"the value of {key} was encrypted with another key than "
                        "CONFIG_ENCRYPTION_KEY_FILE"
                    ) from None
            # A value that is not sealed is taken as it is: configs stored before encryption.
            opened[key] = value
        return opened


def seal(box: SecretBox | None, config: Mapping[str, str]) -> dict[str, str]:
    """``config`` as it may be stored: with no box, secrets were refused before (parser)."""
    return box.seal(config) if box is not None else dict(config)


def open_sealed(box: SecretBox | None, config: Mapping[str, str]) -> dict[str, str]:
    if box is not None:
        return box.open(config)
    sealed = [key for key, value in config.items() if str(value).startswith(SEALED)]
    if sealed:
        raise SecretError(
            f"{', '.join(sealed)} are encrypted and CONFIG_ENCRYPTION_KEY_FILE is not set"
        )
    return dict(config)


def write_key(path: Path) -> None:
    """A new Fernet key in ``path``, readable by its owner only; an existing file is kept."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(Fernet.generate_key() + b"\n")

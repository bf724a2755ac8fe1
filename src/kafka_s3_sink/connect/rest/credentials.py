"""Who may call the REST API: basic-auth users and bearer tokens, read once at start-up.

Basic auth follows Kafka Connect's BasicAuthSecurityRestExtension, whose JAAS
PropertyFileLoginModule reads a Java properties file of ``user=password`` (or ``user:
password``) lines; the whole value is the password.  Passwords and tokens are compared with
``hmac.compare_digest`` so that the time of an answer says nothing about how much of a
guess was right.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass, field
from pathlib import Path


class CredentialsError(ValueError):
    """A credentials file cannot be used; the message names it and says why."""


@dataclass(frozen=True)
class Credentials:
    users: dict[str, str] = field(default_factory=dict)  # user -> password
    tokens: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return bool(self.users or self.tokens)

    def accepts(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header value names a known user or token."""
        if not authorization:
            return False
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "basic" and self.users:
            return self._basic(value)
        if scheme.lower() == "bearer" and self.tokens:
            # Every token is compared, so that the time does not say which one was close.
            matches = [hmac.compare_digest(value.encode(), t.encode()) for t in self.tokens]
            return any(matches)
        return False

    def _basic(self, value: str) -> bool:
        try:
            user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        if not sep:
            return False
        # An unknown user costs the same comparison as a known one.
        stored = self.users.get(user)
        same = hmac.compare_digest(password.encode(), (stored or "\0" + password).encode())
        return stored is not None and same


def read_users(path: Path) -> dict[str, str]:
    """A Java properties file of ``user=password`` / ``user: password`` lines."""
    users: dict[str, str] = {}
    for number, line in enumerate(_read(path).splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith(("#", "!")):
            continue
        cut = min((i for i in (text.find("="), text.find(":")) if i >= 0), default=-1)
        user, password = (text[:cut].strip(), text[cut + 1 :].strip()) if cut > 0 else ("", "")
        if not user or not password:
            raise CredentialsError(
                f"REST_BASIC_AUTH_FILE {path}, line {number}: expected user=password "
                "(or user: password)"
            )
        users[user] = password
    if not users:
        raise CredentialsError(f"REST_BASIC_AUTH_FILE {path} names no user")
    return users


def read_token(path: Path) -> str:
    token = _read(path).strip()
    if len(token) < 16 or any(c.isspace() for c in token):
        raise CredentialsError(
            f"REST_BEARER_TOKEN_FILE {path}: expected one token of at least 16 characters, "
            "without spaces"
        )
    return token


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CredentialsError(f"{path} cannot be read: {error}") from None

"""SinetStreamConverter's reader options: decryption and decompression, as connector keys.

The keys are those of a SINETStream config file's service, dotted, under
``value.converter.`` (``crypto.key_derivation.iteration`` for ``crypto: key_derivation:
iteration:``), so that a reader's YAML reads across one to one:

* ``data_encryption`` (false), ``crypto.algorithm`` (AES), ``crypto.key_length`` (128),
  ``crypto.mode`` (required with encryption), ``crypto.padding`` (none),
  ``crypto.key_derivation.algorithm`` (pbkdf2), ``.salt_bytes`` (8), ``.iteration``
  (10000), ``.prf`` (HMAC-SHA256): the writer's defaults;
* ``crypto.password``: the password of key version 1, the only version a SINETStream
  writer with a password writes;
* ``crypto.password.<N>``, ``crypto.secret_key.<N>`` (base64): the password, or the AES
  key itself, of key version ``N`` (keys rotated by a SINETStream config server are
  versioned AES keys); all versions are kept, and each message picks its own;
* ``data_compression`` (false), ``compression.algorithm`` (gzip or zstd),
  ``compression.gzip.wbits``, ``compression.zstd.max_window_size``; ``compression.level``
  is the writer's and is accepted without effect.

``sinetstream.config.file`` and ``sinetstream.service`` name a SINETStream config file
instead; the control plane reads it into these keys (connect/config/sinetstream_file.py).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from .params import Params, invalid
from .sinetstream_codec import Decompress, Decrypt
from .sinetstream_compression import ALGORITHMS, GZIP, gzip_decompressor, zstd_decompressor
from .sinetstream_crypto import (
    KDF_ALGORITHMS,
    MODES,
    PADDINGS,
    PRFS,
    CryptoConfigError,
    CryptoParams,
    Decryptor,
    KeySecret,
)
from .spec import ConnectorConfigError

FILE_KEY = "sinetstream.config.file"
SERVICE_KEY = "sinetstream.service"
_PASSWORD = "crypto.password"
_VERSIONED = re.compile(r"crypto\.(password|secret_key)\.(\d+)")
# Every key this module reads (versioned passwords and keys besides).
OPTION_KEYS = (
    FILE_KEY,
    SERVICE_KEY,
    "data_encryption",
    "crypto.algorithm",
    "crypto.key_length",
    "crypto.mode",
    "crypto.padding",
    _PASSWORD,
    "crypto.key_derivation.algorithm",
    "crypto.key_derivation.salt_bytes",
    "crypto.key_derivation.iteration",
    "crypto.key_derivation.prf",
    "data_compression",
    "compression.algorithm",
    "compression.level",
    "compression.gzip.wbits",
    "compression.zstd.max_window_size",
)


def option_names(params: Params) -> list[str]:
    """The option keys present under ``params``: the settings of a switched-off feature
    (crypto.* with data_encryption false) are kept and unused, as SINETStream does."""
    names = (name[len(params.prefix) :] for name in params.names())
    return [name for name in names if name in OPTION_KEYS or _VERSIONED.fullmatch(name)]


@dataclass(frozen=True)
class ReaderOptions:
    """How to undo what the writer did; None parts are off."""

    decryptor: Decryptor | None
    decompress: Decompress | None

    @property
    def decrypt(self) -> Decrypt | None:
        return None if self.decryptor is None else self.decryptor.decrypt

    @property
    def latest_key_version(self) -> int:
        return 0 if self.decryptor is None else self.decryptor.max_key_version


def read_options(params: Params) -> ReaderOptions | None:
    """The reader options under ``params`` (``value.converter.``); None when both are off."""
    params.raw(FILE_KEY)  # read by the control plane before we are called
    params.raw(SERVICE_KEY)
    decryptor = _decryptor(params) if params.get_bool("data_encryption", False) else None
    decompress = _decompressor(params) if params.get_bool("data_compression", False) else None
    if decryptor is None and decompress is None:
        return None
    return ReaderOptions(decryptor, decompress)


def _decryptor(params: Params) -> Decryptor:
    kdf = params.sub("crypto.key_derivation.")
    padding_text = params.get_str("crypto.padding", "none")
    if padding_text.lower() not in PADDINGS:
        raise invalid(params.full("crypto.padding"), padding_text, "one of none, pkcs7")
    mode = params.get_str("crypto.mode")
    if mode.upper() not in MODES:
        raise invalid(params.full("crypto.mode"), mode, f"one of {', '.join(MODES)}")
    crypto = CryptoParams(
        mode=mode.upper(),
        keys=_key_versions(params),
        algorithm=params.get_choice("crypto.algorithm", "AES", ("AES",)),
        key_length=params.get_int("crypto.key_length", 128),
        padding=PADDINGS[padding_text.lower()],
        kdf_algorithm=kdf.get_choice("algorithm", "pbkdf2", KDF_ALGORITHMS),
        salt_bytes=kdf.get_int("salt_bytes", 8, minimum=0),
        iteration=kdf.get_int("iteration", 10000, minimum=1),
        prf=kdf.get_choice("prf", "HMAC-SHA256", tuple(PRFS)),
    )
    try:
        return Decryptor(crypto)
    except CryptoConfigError as error:
        raise ConnectorConfigError(params.full("crypto.mode"), str(error)) from None


def _key_versions(params: Params) -> dict[int, KeySecret]:
    keys: dict[int, KeySecret] = {}
    password = params.raw(_PASSWORD)  # untrimmed: white space may be part of a password
    if password:
        keys[1] = KeySecret(password=password)
    for name in params.names():
        match = _VERSIONED.fullmatch(name[len(params.prefix) :])
        if match is None:
            continue
        kind, version = match.group(1), int(match.group(2))
        text = params.raw(match.group(0)) or ""
        if version in keys:
            raise ConnectorConfigError(name, f"{name}: key version {version} is given twice")
        if kind == "password":
            keys[version] = KeySecret(password=text)
        else:
            try:
                keys[version] = KeySecret(key=base64.b64decode(text.strip(), validate=True))
            except (binascii.Error, ValueError):
                raise invalid(name, text, "expected the AES key in base64") from None
    if not keys:
        raise ConnectorConfigError(
            params.full(_PASSWORD),
            f"{params.full('data_encryption')} is true: set {params.full(_PASSWORD)} "
            f"(or {params.full('crypto.password.<N>')} / "
            f"{params.full('crypto.secret_key.<N>')} per key version)",
        )
    return keys


def _decompressor(params: Params) -> Decompress:
    algorithm = params.get_choice("compression.algorithm", GZIP, ALGORITHMS)
    params.get_optional("compression.level")  # the writer's; decompression has none
    if algorithm == GZIP:
        wbits = params.get_optional("compression.gzip.wbits")
        if wbits is not None and not _is_int(wbits):
            raise invalid(params.full("compression.gzip.wbits"), wbits, "Not a number")
        return gzip_decompressor(None if wbits is None else int(wbits))
    window = params.get_int("compression.zstd.max_window_size", 0, minimum=0)
    return zstd_decompressor(window)


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True

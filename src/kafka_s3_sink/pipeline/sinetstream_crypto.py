"""Decryption of SINETStream messages (``data_encryption: true``), as the writers encrypt.

What a SINETStream writer puts after the v3 header (key version > 0) is::

    salt (key_derivation.salt_bytes) | IV, nonce or counter | ciphertext | tag (AEAD modes)

and the plaintext is the v2 (Avro) message.  The AES key of a key version is either derived
from a password by PBKDF2 with the message's salt, or given as it is (the versioned keys a
SINETStream config server hands out).  The layout per mode, as the Python writer makes it:

=========== ================================= =====================================
mode        after the salt                    notes
=========== ================================= =====================================
CBC         IV (16)                           padding ``pkcs7`` or none
CFB         IV (16)                           8-bit segments (CFB8)
OFB         IV (16)
CTR         initial counter block (16)        128-bit big-endian counter
OPENPGP     encrypted IV (18)                 CFB-128 resynchronised on it
EAX         nonce (16), tag (8) at the end    salt + nonce authenticated too
GCM         nonce (16), tag (16) at the end   salt + nonce authenticated too
=========== ================================= =====================================

Nothing here logs, and no reason text holds key material: a reason ends in dead-letter
sidecars and REST traces.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

try:  # cryptography >= 47 keeps the old feedback modes apart, as "decrepit"
    from cryptography.hazmat.decrepit.ciphers.modes import CFB, CFB8, OFB
except ImportError:  # pragma: no cover - older cryptography
    from cryptography.hazmat.primitives.ciphers.modes import CFB, CFB8, OFB  # type: ignore

from .aes_eax import EaxTagMismatch, eax_decrypt
from .sinetstream_codec import UndecodableMessage

BLOCK = 16
# crypto.mode -> canonical name; OPENPGPCFB is the writer's second name for OPENPGP.
MODES = {
    "CBC": "CBC",
    "CFB": "CFB",
    "OFB": "OFB",
    "CTR": "CTR",
    "OPENPGP": "OPENPGP",
    "OPENPGPCFB": "OPENPGP",
    "EAX": "EAX",
    "GCM": "GCM",
}
AEAD_MODES = ("EAX", "GCM")
# What sits between the salt and the ciphertext, and the tag length (0: no tag).
_IV_BYTES = {"CBC": 16, "CFB": 16, "OFB": 16, "CTR": 16, "OPENPGP": 18, "EAX": 16, "GCM": 16}
_TAG_BYTES = {"EAX": 8, "GCM": 16}
PADDINGS = {"none": None, "nopadding": None, "pkcs7": "pkcs7"}
KEY_LENGTHS = (128, 192, 256)
KDF_ALGORITHMS = ("pbkdf2", "PBKDF2WithHmacSHA256")  # both PBKDF2 with ``prf``
PRFS = {"HMAC-SHA256": "sha256", "HMAC-SHA384": "sha384", "HMAC-SHA512": "sha512"}
_KEY_CACHE_SIZE = 1024


@dataclass(frozen=True)
class KeySecret:
    """What one key version is made from: a password (PBKDF2) or the AES key itself."""

    password: str | None = field(default=None, repr=False)
    key: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.password is None) == (self.key is None):
            raise ValueError("a key version needs a password or a key, not both")


@dataclass(frozen=True)
class CryptoParams:
    """The ``crypto`` block of a SINETStream config, with the writer's defaults."""

    mode: str
    keys: Mapping[int, KeySecret] = field(repr=False)
    algorithm: str = "AES"
    key_length: int = 128
    padding: str | None = None
    kdf_algorithm: str = "pbkdf2"
    salt_bytes: int = 8
    iteration: int = 10000
    prf: str = "HMAC-SHA256"


class CryptoConfigError(ValueError):
    """A crypto setting the writer would not accept either; the message names it."""


def check_params(params: CryptoParams) -> None:
    """Refuse what no SINETStream writer can have produced (raise CryptoConfigError)."""
    if params.algorithm != "AES":
        raise CryptoConfigError(f"crypto.algorithm {params.algorithm!r}: only AES exists")
    if params.mode not in MODES:
        raise CryptoConfigError(f"crypto.mode {params.mode!r}: one of {', '.join(MODES)}")
    if params.key_length not in KEY_LENGTHS:
        raise CryptoConfigError(f"crypto.key_length {params.key_length}: 128, 192 or 256")
    if params.padding not in (None, "pkcs7"):
        raise CryptoConfigError(f"crypto.padding {params.padding!r}: none or pkcs7")
    if params.kdf_algorithm not in KDF_ALGORITHMS:
        raise CryptoConfigError(
            f"crypto.key_derivation.algorithm {params.kdf_algorithm!r}: "
            f"one of {', '.join(KDF_ALGORITHMS)}"
        )
    if params.prf not in PRFS:
        raise CryptoConfigError(
            f"crypto.key_derivation.prf {params.prf!r}: one of {', '.join(PRFS)}"
        )
    if params.salt_bytes < 0 or params.iteration < 1:
        raise CryptoConfigError("crypto.key_derivation: salt_bytes >= 0 and iteration >= 1")
    if not params.keys:
        raise CryptoConfigError("data_encryption is on but no password or key is given")
    for version, secret in params.keys.items():
        if not 1 <= version <= 0xFFFF:
            raise CryptoConfigError(f"key version {version}: 1 to 65535")
        if secret.key is not None and len(secret.key) * 8 != params.key_length:
            raise CryptoConfigError(
                f"the key of key version {version} has {len(secret.key) * 8} bits, "
                f"crypto.key_length is {params.key_length}"
            )


def password_bytes(password: str) -> bytes:
    # The Python writer hands a str password to PyCryptodome, which encodes it as
    # latin-1; UTF-8 for the rest, which that writer cannot take at all.
    try:
        return password.encode("latin-1")
    except UnicodeEncodeError:
        return password.encode("utf-8")


class Decryptor:
    """``decrypt(body, key_version)`` -> the v2 plaintext; UndecodableMessage with the reason."""

    def __init__(self, params: CryptoParams) -> None:
        check_params(params)
        self.params = params
        self.mode = MODES[params.mode]
        self.max_key_version = max(params.keys)
        self._iv_bytes = _IV_BYTES[self.mode]
        self._tag_bytes = _TAG_BYTES.get(self.mode, 0)
        self._unpad = params.padding == "pkcs7"
        # A writer derives its key once, with one salt, for all its messages: deriving it
        # (10 000 PBKDF2 rounds by default) per message would cost milliseconds each.
        self._keys: dict[tuple[int, bytes], bytes] = {}
        self._lock = threading.Lock()
        self._decrypt_mode: Callable[[bytes, bytes, memoryview, memoryview, memoryview], bytes]
        self._decrypt_mode = getattr(self, f"_{self.mode.lower()}")

    def describe(self) -> str:
        return f"AES-{self.params.key_length}-{self.mode}"

    def decrypt(self, body: bytes | memoryview, key_version: int) -> bytes:
        view = memoryview(body)
        p = self.params
        minimum = p.salt_bytes + self._iv_bytes + self._tag_bytes
        if len(view) < minimum:
            raise UndecodableMessage(
                f"truncated encrypted SINETStream message (key version {key_version}): "
                f"{len(view)} bytes after the header, {self.describe()} needs at least "
                f"{minimum} (salt, IV or nonce, tag)"
            )
        salt = bytes(view[: p.salt_bytes])
        iv = view[p.salt_bytes : p.salt_bytes + self._iv_bytes]
        end = len(view) - self._tag_bytes
        ciphertext = view[p.salt_bytes + self._iv_bytes : end]
        tag = view[end:]
        key = self._key(key_version, salt)
        plaintext = self._decrypt_mode(key, salt, iv, ciphertext, tag)
        if self._unpad:
            plaintext = self._remove_padding(plaintext, key_version)
        return plaintext

    def _key(self, key_version: int, salt: bytes) -> bytes:
        secret = self.params.keys.get(key_version)
        if secret is None:
            known = ", ".join(str(v) for v in sorted(self.params.keys))
            raise UndecodableMessage(
                f"encrypted SINETStream message with unknown key version {key_version}: "
                f"the configured key versions are {known}"
            )
        if secret.key is not None:
            return secret.key
        cached = self._keys.get((key_version, salt))
        if cached is not None:
            return cached
        assert secret.password is not None
        key = hashlib.pbkdf2_hmac(
            PRFS[self.params.prf],
            password_bytes(secret.password),
            salt,
            self.params.iteration,
            self.params.key_length // 8,
        )
        with self._lock:
            if len(self._keys) >= _KEY_CACHE_SIZE:
                self._keys.clear()  # salts are per writer: a full cache means many writers
            self._keys[(key_version, salt)] = key
        return key

    def _wrong_key(self, what: str) -> UndecodableMessage:
        return UndecodableMessage(
            f"cannot decrypt SINETStream message ({self.describe()}): {what} "
            "(wrong password or key for its key version, other crypto settings than the "
            "writer's, or a corrupted message)"
        )

    def _remove_padding(self, data: bytes, key_version: int) -> bytes:
        unpadder = sym_padding.PKCS7(BLOCK * 8).unpadder()
        try:
            return unpadder.update(data) + unpadder.finalize()
        except ValueError:
            raise self._wrong_key(f"invalid PKCS7 padding (key version {key_version})") from None

    # --- one method per mode: (key, salt, iv, ciphertext, tag) -> plaintext ---------------

    def _cbc(
        self, key: bytes, salt: bytes, iv: memoryview, data: memoryview, tag: memoryview
    ) -> bytes:
        if len(data) % BLOCK:
            raise self._wrong_key(f"ciphertext of {len(data)} bytes, not whole blocks")
        return _run(Cipher(algorithms.AES(key), modes.CBC(bytes(iv))), data)

    def _cfb(
        self, key: bytes, salt: bytes, iv: memoryview, data: memoryview, tag: memoryview
    ) -> bytes:
        # PyCryptodome's CFB default, which the writer keeps, is 8-bit segments.
        return _run(Cipher(algorithms.AES(key), CFB8(bytes(iv))), data)

    def _ofb(
        self, key: bytes, salt: bytes, iv: memoryview, data: memoryview, tag: memoryview
    ) -> bytes:
        return _run(Cipher(algorithms.AES(key), OFB(bytes(iv))), data)

    def _ctr(
        self, key: bytes, salt: bytes, iv: memoryview, data: memoryview, tag: memoryview
    ) -> bytes:
        return _run(Cipher(algorithms.AES(key), modes.CTR(bytes(iv))), data)

    def _openpgp(
        self, key: bytes, salt: bytes, iv: memoryview, data: memoryview, tag: memoryview
    ) -> bytes:
        # OpenPGP CFB: the 18 bytes are IV + its last two bytes again, CFB-encrypted under a
        # zero IV; the data is CFB-128 under the last 16 of those 18 bytes.
        encrypted_iv = bytes(iv)
        clear = _run(Cipher(algorithms.AES(key), CFB(bytes(BLOCK))), memoryview(encrypted_iv))
        if clear[BLOCK - 2 : BLOCK] != clear[BLOCK:]:
            raise self._wrong_key("OpenPGP IV check bytes do not match")
        return _run(Cipher(algorithms.AES(key), CFB(encrypted_iv[-BLOCK:])), data)

    def _gcm(
        self, key: bytes, salt: bytes, iv: memoryview, data: memoryview, tag: memoryview
    ) -> bytes:
        decryptor = Cipher(algorithms.AES(key), modes.GCM(bytes(iv), bytes(tag))).decryptor()
        # The writer authenticates its salt and nonce as associated data.
        decryptor.authenticate_additional_data(salt + bytes(iv))
        try:
            return decryptor.update(bytes(data)) + decryptor.finalize()
        except InvalidTag:
            raise self._wrong_key("the GCM authentication tag does not match") from None

    def _eax(
        self, key: bytes, salt: bytes, iv: memoryview, data: memoryview, tag: memoryview
    ) -> bytes:
        try:
            return eax_decrypt(key, iv, data, tag, salt + bytes(iv))
        except EaxTagMismatch:
            raise self._wrong_key("the EAX authentication tag does not match") from None


def _run(cipher: Cipher[modes.Mode], data: memoryview) -> bytes:
    decryptor = cipher.decryptor()
    return decryptor.update(bytes(data)) + decryptor.finalize()

"""AES in EAX mode, decryption only, built from the AES-CTR and CMAC of ``cryptography``.

``cryptography`` has no EAX, yet SINETStream writers offer it (``crypto.mode: EAX``). EAX
(Bellare, Rogaway, Wagner 2004) is CTR encryption keyed by an OMAC of the nonce, and a tag
made of three OMACs, each with its own one-block tweak::

    N' = OMAC0(nonce)   H' = OMAC1(associated data)   C' = OMAC2(ciphertext)
    tag = N' xor H' xor C'   (the first ``len(tag)`` bytes)
    plaintext = AES-CTR(key, initial counter block N')(ciphertext)
"""

from __future__ import annotations

import hmac

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

_BLOCK = 16


class EaxTagMismatch(ValueError):
    """The tag does not match: wrong key, or the message was altered."""


def _omac(key: bytes, tweak: int, data: bytes | memoryview) -> bytes:
    mac = CMAC(algorithms.AES(key))
    mac.update(tweak.to_bytes(_BLOCK, "big"))
    mac.update(bytes(data))
    return mac.finalize()


def eax_decrypt(
    key: bytes,
    nonce: bytes | memoryview,
    ciphertext: bytes | memoryview,
    tag: bytes | memoryview,
    associated_data: bytes = b"",
) -> bytes:
    """The plaintext, once the tag (4 to 16 bytes) is verified; EaxTagMismatch if not."""
    if not 4 <= len(tag) <= _BLOCK:
        raise EaxTagMismatch(f"EAX tag of {len(tag)} bytes (4 to 16 expected)")
    n = _omac(key, 0, nonce)
    h = _omac(key, 1, associated_data)
    c = _omac(key, 2, ciphertext)
    expected = bytes(a ^ b ^ d for a, b, d in zip(n, h, c, strict=True))[: len(tag)]
    # Checked before decrypting, in constant time: nothing unauthenticated is returned.
    if not hmac.compare_digest(expected, bytes(tag)):
        raise EaxTagMismatch("EAX tag does not match")
    decryptor = Cipher(algorithms.AES(key), modes.CTR(n)).decryptor()
    return decryptor.update(bytes(ciphertext)) + decryptor.finalize()

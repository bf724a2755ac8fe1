"""EAX decryption against the EAX paper's vectors and against PyCryptodome (the library the
SINETStream Python writer encrypts with)."""

from __future__ import annotations

import os

import pytest
from Cryptodome.Cipher import AES

from kafka_s3_sink.pipeline.aes_eax import EaxTagMismatch, eax_decrypt

# Bellare, Rogaway, Wagner: "The EAX Mode of Operation", appendix test vectors 1 and 2.
VECTORS = [
    (
        "233952DEE4D5ED5F9B9C6D6FF80FF478",
        "62EC67F9C3A4A407FCB2A8C49031A8B3",
        "6BFB914FD07EAE6B",
        "",
        "E037830E8389F27B025A2D6527E79D01",
    ),
    (
        "91945D3F4DCBEE0BF45EF52255F095A4",
        "BECAF043B0A23D843194BA972C66DEBD",
        "FA3BFD4806EB53FA",
        "F7FB",
        "19DD5C4C9331049D0BDAB0277408F67967E5",
    ),
]


@pytest.mark.parametrize(("key", "nonce", "header", "msg", "cipher"), VECTORS)
def test_paper_vectors(key: str, nonce: str, header: str, msg: str, cipher: str) -> None:
    data = bytes.fromhex(cipher)
    split = len(bytes.fromhex(msg))
    out = eax_decrypt(
        bytes.fromhex(key), bytes.fromhex(nonce), data[:split], data[split:], bytes.fromhex(header)
    )
    assert out == bytes.fromhex(msg)


@pytest.mark.parametrize("tag_length", [4, 8, 16])
@pytest.mark.parametrize("key_length", [16, 24, 32])
@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 1000])
def test_what_pycryptodome_encrypts(tag_length: int, key_length: int, size: int) -> None:
    key, header, msg = os.urandom(key_length), os.urandom(24), os.urandom(size)
    cipher = AES.new(key, AES.MODE_EAX, mac_len=tag_length)
    cipher.update(header)
    data, tag = cipher.encrypt_and_digest(msg)
    assert eax_decrypt(key, cipher.nonce, data, tag, header) == msg
    with pytest.raises(EaxTagMismatch):
        eax_decrypt(key, cipher.nonce, data, bytes([tag[0] ^ 1]) + tag[1:], header)
    with pytest.raises(EaxTagMismatch):
        eax_decrypt(key, cipher.nonce, data, tag, header + b"x")

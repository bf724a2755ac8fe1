"""ByteArrayFormat: each value's bytes followed by ``format.bytearray.separator``.

The default separator is the line separator of the JVM, ``\\n`` on the Linux hosts Kafka
Connect runs on.  It is taken as it is, not unescaped: in the JSON config of a connector
``"\\n"`` already is a newline.  Extension ``format.bytearray.extension`` (``.bin``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import FormatError


@dataclass(frozen=True)
class ByteArrayFormat:
    extension: str = ".bin"
    separator: bytes = b"\n"
    needs_schema = False
    takes_bytes_as_they_are = True

    def check(self, value: Any) -> None:
        if not isinstance(value, bytes | bytearray | memoryview):
            kind = "text" if isinstance(value, str) else type(value).__name__
            raise FormatError(
                f"ByteArrayFormat writes bytes, but the value is {kind}: convert it with "
                "ByteArrayConverter or the ByteArrayCast transform, or write JsonFormat"
            )

    def prepare(self, value: Any, schema: object = None) -> Any:
        return value

    def encode(self, values: list[Any]) -> bytes:
        if not values:
            return b""
        # value, separator, value, separator: the separator after the last value too (an
        # empty last item, so that the body is built in one copy).
        return self.separator.join([*values, b""])

"""JsonFormat: one JSON document per value followed by ``\\n``, written as Jackson writes it
(compact, UTF-8 unescaped, bytes as base64, times as epoch milliseconds).  Extension ``.json``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .base import FormatError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _JsonLine(bytes):
    """A record already serialized by JsonFormat.prepare (a bytes value would be base64)."""


@dataclass(frozen=True)
class JsonFormat:
    extension: str = ".json"
    decimal_numeric: bool = False  # json.decimal.format=NUMERIC
    needs_schema = False

    def check(self, value: Any) -> None:
        """Nothing here: prepare() serializes each record once and fails for that record."""

    def prepare(self, value: Any, schema: object = None) -> _JsonLine:
        return _JsonLine(self.line(value))

    def line(self, value: Any) -> bytes:
        if isinstance(value, bytes | bytearray | memoryview):
            # A bytes value is a base64 JSON string, which never needs escaping: the same
            # bytes as json.dumps gives, at a fraction of the cost (the ByteArrayConverter case).
            return b'"' + base64.b64encode(value) + b'"\n'
        try:
            text = json.dumps(
                value, default=self._default, ensure_ascii=False, separators=(",", ":")
            )
        except (TypeError, ValueError) as error:
            raise FormatError(f"JsonFormat cannot write the value: {error}") from None
        return text.encode() + b"\n"

    def encode(self, values: list[Any]) -> bytes:
        return b"".join(v if isinstance(v, _JsonLine) else self.line(v) for v in values)

    def _default(self, value: Any) -> Any:
        if isinstance(value, bytes | bytearray | memoryview):
            return base64.b64encode(value).decode("ascii")
        if isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=UTC)
            delta = moment - _EPOCH
            return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
        if isinstance(value, Decimal):
            if self.decimal_numeric:
                return int(value) if value == value.to_integral_value() else float(value)
            # Kafka Connect's BASE64 decimal: the unscaled value, two's complement, big endian.
            exponent = value.as_tuple().exponent
            scale = -exponent if isinstance(exponent, int) else 0
            unscaled = int(value.scaleb(scale))
            size = max(1, (unscaled.bit_length() + 8) // 8)
            return base64.b64encode(unscaled.to_bytes(size, "big", signed=True)).decode()
        raise TypeError(f"a {type(value).__name__} has no JSON form")

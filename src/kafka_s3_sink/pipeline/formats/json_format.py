"""JsonFormat: one JSON document per value followed by ``\\n``, written as Jackson writes it
(compact, UTF-8 unescaped, bytes as base64, times as epoch milliseconds).  Extension ``.json``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from .base import FormatError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# orjson writes strings, integers and floats exactly as json.dumps(ensure_ascii=False,
# separators=(",", ":")) does, several times faster, except floats below 1e-4: Python
# writes 1e-05 and 1e-09 where orjson writes 0.00001 and 1e-9.  An output showing either
# form goes through json.dumps instead (the test may also match inside a string: that
# only costs the slower path).  orjson refuses integers beyond 64 bits: json.dumps then.
_DIGITS = frozenset(b"0123456789")
_E = ord("e")


def _may_differ_from_json_module(text: bytes) -> bool:
    if b"0.0000" in text:
        return True
    # Each "-" (a memchr: few in a document, where "e" may be in every word): is it a
    # one-digit negative exponent after a digit, "1e-9" (Python: "1e-09")?
    size = len(text)
    at = text.find(b"-", 2)
    while at != -1:
        end = at + 2
        if (
            text[at - 1] == _E
            and text[at - 2] in _DIGITS
            and end < size + 1
            and at + 1 < size
            and text[at + 1] in _DIGITS
            and (end == size or text[end] not in _DIGITS)
        ):
            return True
        at = text.find(b"-", at + 1)
    return False


class _JsonLine(bytes):
    """A record already serialized by JsonFormat.prepare (a bytes value would be base64)."""


@dataclass(frozen=True)
class JsonFormat:
    extension: str = ".json"
    decimal_numeric: bool = False  # json.decimal.format=NUMERIC
    # Every value is a JSON document as parsed (the schemaless JsonConverter and no
    # transform): nothing but dicts, lists, str, int, float, bool and None.
    documents: bool = False
    needs_schema = False
    takes_bytes_as_they_are = False

    def for_documents(self) -> JsonFormat:
        """This format, told that its values are parsed JSON documents: it may then write
        them with the fast encoder, to the same bytes."""
        return replace(self, documents=True)

    def check(self, value: Any) -> None:
        """Nothing here: prepare() serializes each record once and fails for that record."""

    def prepare(self, value: Any, schema: object = None) -> bytes:
        # Exact dict or list: a parsed document.  Subclasses are other converters' values,
        # or documents the json module read with a non-finite number (orjson: null).
        kind = type(value)
        if self.documents and (kind is dict or kind is list):
            try:
                text = orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE)
            except TypeError:
                pass  # json.dumps below writes it, or says what is wrong, as before
            else:
                if not _may_differ_from_json_module(text):
                    # A line as it is: a document is never bytes, so encode() knows it.
                    return text
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
        if self.documents:  # prepared lines are bytes, documents never are
            return b"".join(v if isinstance(v, bytes) else self.prepare(v) for v in values)
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

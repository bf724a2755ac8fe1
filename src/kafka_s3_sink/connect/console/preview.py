"""What an object looks like in the console: an image, text, JSON or a hex dump.

Objects are whatever producers sent, so nothing here trusts a name: images are recognised
by their first bytes, and only raster formats a browser shows without running anything
(JPEG, PNG, GIF, WebP) are ever served as images; everything else is served as
``application/octet-stream`` for download (see routes.py: never as HTML or SVG).
"""

from __future__ import annotations

import gzip
import json
import zlib

# How much of an object the preview reads and shows: a camera's 10 MB frame is shown as an
# <img> from the raw endpoint, never inlined in JSON.
TEXT_LIMIT = 256 * 1024
HEX_LIMIT = 1024
DECOMPRESSED_LIMIT = 4 * 1024 * 1024

_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_type(body: bytes) -> str | None:
    for magic, media in _IMAGE_MAGIC:
        if body.startswith(magic):
            return media
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "image/webp"
    return None


def hex_dump(body: bytes, limit: int = HEX_LIMIT) -> str:
    """Offset, 16 bytes in hex, and their printable ASCII, per line (as ``xxd``)."""
    lines = []
    for start in range(0, min(len(body), limit), 16):
        chunk = body[start : start + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{start:08x}  {hexes:<47}  {text}")
    return "\n".join(lines)


def gunzip(body: bytes) -> bytes | None:
    """The decompressed bytes of a gzip'd object (at most DECOMPRESSED_LIMIT), or None."""
    if not body.startswith(b"\x1f\x8b"):
        return None
    try:
        inflater = zlib.decompressobj(wbits=31)
        out = inflater.decompress(body, DECOMPRESSED_LIMIT)
        # Concatenated members (one per gzip'd write) follow the first one's end.
        while inflater.eof and inflater.unused_data and len(out) < DECOMPRESSED_LIMIT:
            rest = inflater.unused_data
            inflater = zlib.decompressobj(wbits=31)
            out += inflater.decompress(rest, DECOMPRESSED_LIMIT - len(out))
        return out
    except (zlib.error, gzip.BadGzipFile):
        return None


def preview(body: bytes) -> dict:
    """``kind`` (image, json, text, binary), what to show, and whether it was gunzipped."""
    unpacked = gunzip(body)
    shown = body if unpacked is None else unpacked
    result: dict = {"gzip": unpacked is not None, "size": len(body), "shown_size": len(shown)}
    media = image_type(shown)
    if media is not None:
        return {**result, "kind": "image", "media_type": media}
    text = _text(shown[:TEXT_LIMIT])
    if text is not None:
        stripped = text.strip()
        if stripped[:1] in ("{", "["):
            try:
                pretty = json.dumps(json.loads(stripped), indent=2, ensure_ascii=False)
                return {**result, "kind": "json", "text": pretty}
            except ValueError:
                pass
        lines = [line for line in stripped.splitlines() if line.strip()]
        # JSON Lines (JsonFormat objects of several records): each record pretty-printed.
        if len(lines) > 1 and all(line.lstrip()[:1] in ("{", "[") for line in lines):
            try:
                records = [json.loads(line) for line in lines]
                pretty = "\n".join(json.dumps(r, indent=2, ensure_ascii=False) for r in records)
                return {**result, "kind": "json", "text": pretty}
            except ValueError:
                pass
        return {**result, "kind": "text", "text": text, "truncated": len(shown) > TEXT_LIMIT}
    return {
        **result,
        "kind": "binary",
        "hex": hex_dump(shown),
        "truncated": len(shown) > HEX_LIMIT,
    }


def _text(body: bytes) -> str | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(body) - 3:  # not only a character cut at the limit
            return None
        text = body[: error.start].decode("utf-8")
    # Control characters other than whitespace say "binary", whatever decodes.
    if any(ord(c) < 32 and c not in "\t\n\r\f" for c in text):
        return None
    return text

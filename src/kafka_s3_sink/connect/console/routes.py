"""The console's endpoints under /ui: its static pages and the JSON they call.

Everything here sits behind the REST API's AccessGuard (the same Host, cross-site and
credentials checks).  It reads the archive of the .env store only, under TOPICS_DIR and
DEAD_LETTER_PREFIX, and writes nothing but the objects of a re-run dead letter.
Connector actions (pause, resume, restart) are not here: the pages call the REST API.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from urllib.parse import quote
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from ...engine.metrics import StatsRegistry
from ...engine.sink_task import SinkTask
from ...pipeline.spec import ConnectorSpec
from ...store import ObjectStore
from ...store.spec import StoreSpec
from ..rest.guards import TOKEN_COOKIE, TOKEN_QUERY
from .archive import ArchiveIndex
from .deadletters import DeadLetters, rerun
from .hours import hour_counts
from .layout import group_records, is_leaf
from .overview import overview
from .preview import hex_dump, image_type, preview
from .rates import RateHistory

RECORDS_PER_PAGE = 100
DEAD_LETTERS_PER_PAGE = 50
MAX_RANGE_DAYS = 31
_STATIC = {"console.js": "text/javascript", "console.css": "text/css"}
# What the pages may load and do: their own files and JSON, images from the raw endpoint.
_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# Stored bytes are the producers': never run as a page, whatever they hold.
_RAW_POLICY = "default-src 'none'; img-src 'self'; sandbox"


class BadRequest(ValueError):
    pass


@dataclass
class ConsoleSources:
    """What the console reads: the counters, the running tasks, and the .env store."""

    stats: StatsRegistry
    tasks: Callable[[], list[SinkTask]]
    store: Callable[[], Awaitable[ObjectStore]]
    store_of: Callable[[StoreSpec], Awaitable[ObjectStore]]
    store_description: str
    topics_dir: str = "topics"
    dead_letter_prefix: str = "dead-letter"
    timestamp_extension: str = "-timestamp.txt"
    tls: bool = False
    cache_ttl_s: float = 30.0
    # The zone of the hour folders (TIMEZONE): tells an hour of the past from the current one.
    timezone: str = "Asia/Tokyo"
    rates: RateHistory = field(init=False)

    def __post_init__(self) -> None:
        self.rates = RateHistory(self.stats)


class Console:
    def __init__(self, sources: ConsoleSources) -> None:
        self.sources = sources
        self.rates = sources.rates
        self.index = ArchiveIndex(sources.store, ttl_s=sources.cache_ttl_s)
        self.dead = DeadLetters(self.index, sources.store, sources.dead_letter_prefix)
        self.topics_prefix = sources.topics_dir.strip("/") + "/"
        self.zone = ZoneInfo(sources.timezone)

    def routes(self) -> list[BaseRoute]:
        api = [
            Route("/api/overview", self.overview),
            Route("/api/folder", self.folder),
            Route("/api/hours", self.hours),
            Route("/api/object", self.object),
            Route("/api/raw", self.raw),
            Route("/api/deadletters", self.dead_letters),
            Route("/api/deadletters/rerun", self.rerun, methods=["POST"]),
            Route("/static/{name}", self.static),
        ]
        return [Route("/ui", self.page), Mount("/ui", routes=api)]

    # -- pages -------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        if TOKEN_QUERY in request.query_params:
            # The guard accepted the token: keep it in a cookie the pages' requests carry,
            # and drop it from the address bar (and so from the history) at once.
            response: Response = RedirectResponse("/ui/", status_code=303)
            response.set_cookie(
                TOKEN_COOKIE,
                request.query_params[TOKEN_QUERY],
                httponly=True,
                samesite="strict",
                secure=self.sources.tls,
                path="/",
            )
            return response
        html = resources.files(__package__).joinpath("static/index.html").read_bytes()
        return Response(html, media_type="text/html", headers=_page_headers())

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _STATIC:
            return _error(404, f"no such file: {name}")
        body = resources.files(__package__).joinpath(f"static/{name}").read_bytes()
        return Response(body, media_type=_STATIC[name], headers=_page_headers())

    # -- JSON ----------------------------------------------------------------------------

    async def overview(self, _: Request) -> Response:
        return JSONResponse(
            {
                "store": self.sources.store_description,
                "connectors": overview(self.sources.stats, self.sources.tasks),
                "rates": self.rates.series(),
                "rate_interval_s": self.rates.interval_s,
                "time": time.time(),
            }
        )

    async def folder(self, request: Request) -> Response:
        prefix = request.query_params.get("prefix", self.topics_prefix)
        fresh = request.query_params.get("fresh") == "1"
        try:
            self._check_prefix(prefix)
            page = _int(request, "page", 0)
        except BadRequest as error:
            return _error(400, str(error))
        if not is_leaf(prefix):
            listing = await self.index.folder(prefix, fresh)
            if listing.folders:
                rest = prefix.removeprefix(self.topics_prefix)
                return JSONResponse(
                    {
                        "prefix": prefix,
                        "kind": "folders",
                        # A topic's own folder: the page offers its records-per-hour chart.
                        "topic": rest[:-1] if rest.count("/") == 1 and rest != prefix else None,
                        "folders": listing.folders,
                        "objects": len(listing.objects),
                        "listing_calls": self.index.listing_calls,
                    }
                )
        objects = await self.index.objects(prefix, fresh)
        records = group_records(objects, self.sources.timestamp_extension)
        chosen = records[page * RECORDS_PER_PAGE : (page + 1) * RECORDS_PER_PAGE]
        return JSONResponse(
            {
                "prefix": prefix,
                "kind": "records",
                "objects": len(objects),
                "total": len(records),
                "page": page,
                "size": RECORDS_PER_PAGE,
                "records": [r.as_json() for r in chosen],
                "listing_calls": self.index.listing_calls,
            }
        )

    async def hours(self, request: Request) -> Response:
        """Records per hour of a topic's time folders between two days (both included)."""
        topic = request.query_params.get("topic", "")
        try:
            first = date.fromisoformat(request.query_params.get("from", ""))
            last = date.fromisoformat(request.query_params.get("to", ""))
            base = f"{self.topics_prefix}{topic}/"
            self._check_prefix(base)
            if not topic or "/" in topic:
                raise BadRequest("topic: a topic name")
        except ValueError as error:
            return _error(400, f"from, to: days as YYYY-MM-DD; {error}")
        if last < first or last - first > timedelta(days=MAX_RANGE_DAYS):
            return _error(400, f"to must be after from, at most {MAX_RANGE_DAYS} days later")
        hours = await hour_counts(
            self.index,
            base,
            first,
            last,
            zone=self.zone,
            timestamp_extension=self.sources.timestamp_extension,
            fresh=request.query_params.get("fresh") == "1",
        )
        return JSONResponse(
            {"topic": topic, "hours": hours, "listing_calls": self.index.listing_calls}
        )

    async def _read(self, request: Request) -> tuple[str, bytes] | Response:
        """The object named by ?key= (within what the console may show), or the error."""
        key = request.query_params.get("key", "")
        try:
            self._check_key(key)
        except BadRequest as error:
            return _error(400, str(error))
        store = await self.sources.store()
        try:
            return key, await store.get(key)
        except Exception as error:
            return _error(404, f"{key} cannot be read: {type(error).__name__}")

    async def object(self, request: Request) -> Response:
        read = await self._read(request)
        if isinstance(read, Response):
            return read
        key, body = read
        folder = key.rpartition("/")[0] + "/"
        listed = next((o for o in await self.index.objects(folder) if o.key == key), None)
        answer: dict = {
            "key": key,
            "size": len(body),
            "modified": listed.modified if listed else None,
            "raw": f"/ui/api/raw?key={quote(key)}",
            "download": f"/ui/api/raw?key={quote(key)}&download=1",
            "preview": preview(body),
        }
        if self.dead.owns(key):
            answer["dead_letter"] = await self.dead.reason(key)
            answer["preview"]["hex"] = hex_dump(body, 4096)
        else:
            answer["pair"] = await self._pair(key, folder)
        return JSONResponse(answer)

    async def _pair(self, key: str, folder: str) -> dict | None:
        """The record's other object (payload or timestamp), with the timestamp's text."""
        objects = await self.index.objects(folder)
        for record in group_records(objects, self.sources.timestamp_extension):
            keys = [o.key for o in (record.payload, record.timestamp) if o is not None]
            if key not in keys:
                continue
            pair = record.as_json()
            if record.timestamp is not None:
                store = await self.sources.store()
                try:
                    text = (await store.get(record.timestamp.key))[:200]
                    pair["timestamp_text"] = text.decode("utf-8", "replace").strip()
                except Exception:
                    pair["timestamp_text"] = None
            return pair
        return None

    async def raw(self, request: Request) -> Response:
        read = await self._read(request)
        if isinstance(read, Response):
            return read
        key, body = read
        media = image_type(body)
        download = request.query_params.get("download") == "1" or media is None
        name = key.rpartition("/")[2]
        # Header values are Latin-1: a plain name for old clients, the exact one as RFC 6266's
        # filename* (percent-encoded UTF-8).
        plain = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                        for c in name)
        headers = {
            "Content-Security-Policy": _RAW_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=60",
        }
        if download:
            headers["Content-Disposition"] = (
                f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"
            )
        return Response(body, media_type=media or "application/octet-stream", headers=headers)

    async def dead_letters(self, request: Request) -> Response:
        try:
            page = _int(request, "page", 0)
        except BadRequest as error:
            return _error(400, str(error))
        fresh = request.query_params.get("fresh") == "1"
        return JSONResponse(await self.dead.page(page, DEAD_LETTERS_PER_PAGE, fresh))

    async def rerun(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, 'expected {"key": "<the dead letter\'s .bin key>"}')
        key = body.get("key") if isinstance(body, dict) else None
        if not isinstance(key, str) or not self.dead.owns(key) or not key.endswith(".bin"):
            return _error(400, "key: the .bin key of a dead letter")
        try:
            self._check_key(key)
            record = await self.dead.record(key)
        except (BadRequest, ValueError) as error:
            return _error(400, str(error))
        except Exception as error:
            return _error(404, f"{key} cannot be read: {type(error).__name__}")
        specs = _running_specs(self.sources.tasks())
        results = await rerun(record, specs, self.sources.store_of)
        for result in results:
            for written in result.get("written", []):
                self.index.forget(written.rpartition("/")[0] + "/")
        if not results:
            return _error(409, f"no running connector reads topic {record.topic}")
        return JSONResponse({"key": key, "results": results})

    # -- checks --------------------------------------------------------------------------

    def _roots(self) -> tuple[str, str]:
        return self.topics_prefix, self.dead.prefix

    def _check_prefix(self, prefix: str) -> None:
        if not prefix.endswith("/") or not prefix.startswith(self._roots()):
            raise BadRequest(f"prefix: a folder under {' or '.join(self._roots())}")
        _check_parts(prefix.rstrip("/"))

    def _check_key(self, key: str) -> None:
        if not key.startswith(self._roots()) or key.endswith("/"):
            raise BadRequest(f"key: an object under {' or '.join(self._roots())}")
        _check_parts(key)


def _check_parts(path: str) -> None:
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise BadRequest(f"{path!r}: empty, . or .. parts are not keys")


def _running_specs(tasks: list[SinkTask]) -> list[ConnectorSpec]:
    specs: dict[str, ConnectorSpec] = {}
    for task in tasks:
        specs.setdefault(task.spec.name, task.spec)
    return list(specs.values())


def _int(request: Request, name: str, default: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) > 1_000_000:
        raise BadRequest(f"{name}: a whole number")
    return int(text)


def _page_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": _PAGE_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
        "Referrer-Policy": "no-referrer",
    }


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error_code": status, "message": message}, status_code=status)

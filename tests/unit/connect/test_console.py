"""The web console's JSON (connect/console/) over a real local-directory store, no servers."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kafka_s3_sink.connect.console.routes import Console, ConsoleSources
from kafka_s3_sink.connect.rest.app import create_app
from kafka_s3_sink.connect.rest.credentials import Credentials
from kafka_s3_sink.connect.rest.guards import TOKEN_COOKIE, AccessPolicy
from kafka_s3_sink.engine.metrics import StatsRegistry
from kafka_s3_sink.store import LocalObjectStore, ObjectStore
from kafka_s3_sink.store.paging import local_page

from .fake_registry import PLUGINS, FakeRegistry, FakeValidator, mask

HOUR = "topics/cams/year=2026/month=11/day=29/hour=10/"
JPEG = bytes.fromhex("ffd8ffe000104a46494600") + b"\0" * 20


def put(root: Path, key: str, body: bytes) -> None:
    path = root / "bucket" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    put(tmp_path, f"{HOUR}cams+0+0000000000.jpeg", JPEG + b"\n")
    put(tmp_path, f"{HOUR}cams+0+0000000000-timestamp.txt", b"2026-11-29T01:00:00.123\n")
    put(tmp_path, f"{HOUR}cams+1+0000000007.jpeg", b'{"a": [1, 2]}\n')
    put(tmp_path, f"{HOUR}cams+1+0000000007-timestamp.txt", b"2026-11-29T01:00:01.000\n")
    put(tmp_path, "topics/cams/year=2026/month=11/day=29/hour=11/cams+0+0000000001.jpeg",
        gzip.compress(b"hello\n", mtime=0))
    put(tmp_path, "dead-letter/cams/cams+2+0000000003.bin", b"\x00\x01not sinetstream")
    reason = {"reason": "not a SINETStream message", "topic": "cams", "partition": 2,
              "offset": 3, "timestamp_ms": 1, "value_is_null": False, "key_base64": None,
              "headers": []}
    put(tmp_path, "dead-letter/cams/cams+2+0000000003.reason.json", json.dumps(reason).encode())
    put(tmp_path, "elsewhere/secret.txt", b"not browsable")
    return tmp_path


def console_for(root: Path) -> tuple[Console, LocalObjectStore]:
    store = LocalObjectStore(root, "bucket")

    async def env_store() -> ObjectStore:
        return store

    async def store_of(_spec: object) -> ObjectStore:
        return store

    sources = ConsoleSources(StatsRegistry(), lambda: [], env_store, store_of, "local test")
    return Console(sources), store


def client_for(console: Console, access: AccessPolicy | None = None) -> TestClient:
    app = create_app(FakeRegistry(), FakeValidator(), PLUGINS, mask, "0.1.0",
                     access=access, console=console.routes())
    return TestClient(app, base_url="http://127.0.0.1:8083")


def test_local_pages_follow_s3_key_order_and_resume_after_a_key(tmp_path: Path) -> None:
    for key in ["a/x", "a-b", "a/y/z", "b", "a/y0"]:
        put(tmp_path, key, b"1")
    bucket = tmp_path / "bucket"
    first = local_page(bucket, "", None, 2, False)
    assert [o.key for o in first.objects] == ["a-b", "a/x"] and first.next_after == "a/x"
    rest = local_page(bucket, "", first.next_after, 10, False)
    assert [o.key for o in rest.objects] == ["a/y/z", "a/y0", "b"] and rest.next_after is None
    folder = local_page(bucket, "a/", None, 10, True)
    assert folder.folders == ["a/y/"] and [o.key for o in folder.objects] == ["a/x", "a/y0"]
    with pytest.raises(ValueError):
        local_page(bucket, "a", None, 10, True)


def test_folders_records_and_hour_counts(archive: Path) -> None:
    console, _ = console_for(archive)
    client = client_for(console)
    top = client.get("/ui/api/folder").json()
    assert top["kind"] == "folders" and top["folders"] == ["topics/cams/"]
    assert top["topic"] is None
    assert client.get("/ui/api/folder", params={"prefix": "topics/cams/"}).json()["topic"] == "cams"
    hour = client.get("/ui/api/folder", params={"prefix": HOUR}).json()
    assert hour["kind"] == "records" and hour["total"] == 2 and hour["objects"] == 4
    first = hour["records"][0]
    assert first["payload"]["key"].endswith("cams+0+0000000000.jpeg")
    assert first["timestamp"]["key"].endswith("-timestamp.txt")
    hours = client.get(
        "/ui/api/hours", params={"topic": "cams", "from": "2026-11-28", "to": "2026-11-29"}
    ).json()["hours"]
    assert [(h["label"], h["records"]) for h in hours] == [
        ("2026-11-29 10h", 2),
        ("2026-11-29 11h", 1),
    ]
    outside = client.get("/ui/api/folder", params={"prefix": "elsewhere/"})
    assert outside.status_code == 400
    escape = client.get("/ui/api/folder", params={"prefix": "topics/../elsewhere/"})
    assert escape.status_code == 400


def test_a_view_shown_again_is_answered_from_the_cache(archive: Path) -> None:
    console, _ = console_for(archive)
    client = client_for(console)
    client.get("/ui/api/folder", params={"prefix": HOUR})
    calls = console.index.listing_calls
    for page in (0, 1, 0):
        client.get("/ui/api/folder", params={"prefix": HOUR, "page": page})
    assert console.index.listing_calls == calls
    client.get("/ui/api/folder", params={"prefix": HOUR, "fresh": "1"})
    assert console.index.listing_calls == calls + 1


def test_object_previews_by_content(archive: Path) -> None:
    client = client_for(console_for(archive)[0])

    def preview(key: str) -> dict:
        return client.get("/ui/api/object", params={"key": key}).json()

    image = preview(f"{HOUR}cams+0+0000000000.jpeg")
    assert image["preview"]["kind"] == "image"
    assert image["pair"]["timestamp_text"] == "2026-11-29T01:00:00.123"
    assert preview(f"{HOUR}cams+1+0000000007.jpeg")["preview"]["kind"] == "json"
    unzipped = preview("topics/cams/year=2026/month=11/day=29/hour=11/cams+0+0000000001.jpeg")
    assert unzipped["preview"] == {"gzip": True, "size": unzipped["size"], "shown_size": 6,
                                   "kind": "text", "text": "hello\n", "truncated": False}
    dead = preview("dead-letter/cams/cams+2+0000000003.bin")
    assert dead["dead_letter"]["reason"] == "not a SINETStream message"
    assert dead["preview"]["hex"].startswith("00000000  00 01 6e 6f 74")
    assert client.get("/ui/api/object", params={"key": "elsewhere/secret.txt"}).status_code == 400


def test_raw_bytes_are_never_served_as_a_page(archive: Path) -> None:
    put(archive, f"{HOUR}cams+3+0000000001.jpeg", b"<script>alert(1)</script>")
    client = client_for(console_for(archive)[0])
    image = client.get("/ui/api/raw", params={"key": f"{HOUR}cams+0+0000000000.jpeg"})
    assert image.headers["content-type"] == "image/jpeg" and image.content.startswith(JPEG)
    page = client.get("/ui/api/raw", params={"key": f"{HOUR}cams+3+0000000001.jpeg"})
    assert page.headers["content-type"] == "application/octet-stream"
    assert page.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    put(archive, f"{HOUR}温度.txt", b"21.5")
    named = client.get("/ui/api/raw", params={"key": f"{HOUR}温度.txt", "download": "1"})
    assert named.headers["content-disposition"] == (
        "attachment; filename=\"__.txt\"; filename*=UTF-8''%E6%B8%A9%E5%BA%A6.txt"
    )


def test_dead_letters_list_with_reasons(archive: Path) -> None:
    client = client_for(console_for(archive)[0])
    listed = client.get("/ui/api/deadletters").json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert (item["reason"], item["offset"], item["partition"]) == (
        "not a SINETStream message", 3, 2
    )
    # No running connector reads the topic here: nothing to re-run it with.
    answer = client.post("/ui/api/deadletters/rerun", json={"key": item["key"]})
    assert answer.status_code == 409
    assert client.post("/ui/api/deadletters/rerun", json={"key": "topics/x.bin"}).status_code == 400


def test_pages_and_static_files_are_served_from_the_package(archive: Path) -> None:
    client = client_for(console_for(archive)[0])
    page = client.get("/ui/")
    assert page.status_code == 200 and "/ui/static/console.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/ui/static/console.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/ui/static/index.html").status_code == 404
    assert client.get("/ui/static/..%2Froutes.py").status_code == 404


def test_a_bearer_token_opens_the_console_through_a_cookie(archive: Path) -> None:
    token = "t0ken-for-the-console-1234"
    access = AccessPolicy(credentials=Credentials({}, (token,)))
    client = client_for(console_for(archive)[0], access)
    refused = client.get("/ui/")
    assert refused.status_code == 401
    assert "/ui/?token=" in refused.json()["message"]  # says how to open it
    assert client.get("/ui/?token=wrong-token-wrong-token").status_code == 401
    opened = client.get(f"/ui/?token={token}", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/ui/"
    cookie = opened.headers["set-cookie"]
    assert TOKEN_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    # The client keeps the cookie: pages, the console's JSON and the REST API now answer.
    assert client.get("/ui/").status_code == 200
    assert client.get("/ui/api/folder").status_code == 200
    assert client.get("/connectors").status_code == 200
    # The token in the query is taken on the page only, not on the API.
    bare = TestClient(client.app, base_url="http://127.0.0.1:8083")
    assert bare.get(f"/connectors?token={token}").status_code == 401


def test_previews_choose_by_content_not_by_name() -> None:
    from kafka_s3_sink.connect.console.preview import preview

    assert preview(b"\x89PNG\r\n\x1a\n....")["kind"] == "image"
    binary = preview(bytes(range(40)))
    assert binary["kind"] == "binary" and binary["hex"].startswith("00000000  00 01 02")
    # A gzip'd batch of JSON lines (gzip members one after the other): each record shown.
    batch = gzip.compress(b'{"n": 1}\n', mtime=0) + gzip.compress(b'{"n": 2}\n', mtime=0)
    shown = preview(batch)
    assert shown["gzip"] and shown["kind"] == "json"
    assert '"n": 1' in shown["text"] and '"n": 2' in shown["text"]
    assert preview("温度 21.5\n".encode())["kind"] == "text"


def test_rates_are_the_counters_differences_over_time() -> None:
    from kafka_s3_sink.connect.console.rates import RateHistory

    stats = StatsRegistry()
    now = [1000.0]
    history = RateHistory(stats, clock=lambda: now[0], keep=3)
    task = stats.for_task("c", 0)
    for records in (0, 10, 30, 60):
        task.records, task.bytes = records, records * 100
        history.sample()
        now[0] += 2.0
    points = history.series()["c"]
    assert [p["records_per_s"] for p in points] == [10.0, 15.0]  # 3 samples kept
    assert [p["bytes_per_s"] for p in points] == [1000.0, 1500.0]


def test_the_cache_shares_a_listing_and_stays_within_its_bound(tmp_path: Path) -> None:
    import asyncio

    from kafka_s3_sink.connect.console.archive import ArchiveIndex

    for i in range(30):
        put(tmp_path, f"f{i % 3}/o{i:02d}", b"1")
    store = LocalObjectStore(tmp_path, "bucket")

    async def env_store() -> ObjectStore:
        return store

    async def scenario() -> tuple[int, int]:
        index = ArchiveIndex(env_store, page_size=4, max_entries=25)
        lists = await asyncio.gather(*(index.objects("f0/") for _ in range(5)))
        assert all(len(found) == 10 for found in lists)
        shared = index.listing_calls  # 10 objects in pages of 4: 3 calls, once for all 5
        await index.objects("f1/")
        await index.objects("f2/")  # over 25 entries: f0/ is dropped, f2/ and f1/ kept
        before = index.listing_calls
        await index.objects("f2/")
        await index.objects("f0/")
        return shared, index.listing_calls - before

    assert asyncio.run(scenario()) == (3, 3)


def test_the_pages_are_declared_package_data() -> None:
    import tomllib

    root = Path(__file__).resolve().parents[3]
    declared = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["kafka_s3_sink.connect.console"]
    static = root / "src" / "kafka_s3_sink" / "connect" / "console" / "static"
    files = {p.name for p in static.iterdir()}
    covered = {p.name for pattern in declared for p in static.parent.glob(pattern)}
    assert files == covered == {"index.html", "console.css", "console.js"}


def test_a_settled_hour_is_kept_longer_than_a_current_one(tmp_path: Path) -> None:
    import asyncio

    from kafka_s3_sink.connect.console.archive import ArchiveIndex

    put(tmp_path, "old/a", b"1")
    put(tmp_path, "now/a", b"1")
    store = LocalObjectStore(tmp_path, "bucket")
    now = [0.0]

    async def env_store() -> ObjectStore:
        return store

    async def scenario() -> list[int]:
        index = ArchiveIndex(env_store, ttl_s=30, settled_ttl_s=600, clock=lambda: now[0])
        calls = []
        for at in (0.0, 60.0, 700.0):
            now[0] = at
            before = index.listing_calls
            await index.objects("old/", settled=True)
            await index.objects("now/")
            calls.append(index.listing_calls - before)
        return calls

    # At 60 s only the current folder is listed again; at 700 s both are.
    assert asyncio.run(scenario()) == [2, 1, 2]

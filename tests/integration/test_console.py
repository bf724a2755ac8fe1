"""The web console (/ui) in a real headless Chromium, against the real service, Kafka and S3.

Messages are sent with the real SINETStream writer; the browser is Debian's ``chromium``
driven by its ``chromedriver`` (scripts/test installs both).  Each page is saved as a
screenshot under $CONSOLE_ARTIFACTS (default: the test's tmp folder); with
UPDATE_CONSOLE_SCREENSHOTS=1 they also replace docs/console/*.png, which the README shows.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from confluent_kafka import Producer
from harness import (
    Service,
    env_value,
    hour_dir,
    local_env,
    read_topic,
    rest,
    s3_env,
    wait_for_api,
    wait_until,
)
from helpers import make_bucket, produce_sinetstream

pytestmark = pytest.mark.integration

DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
TEXT_PAYLOAD = '{"sensor": "room-3", "temperature": 21.5, "unit": "C"}'

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extra")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service as DriverService  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip(
        "Debian's chromium and chromium-driver are not installed (scripts/test installs them "
        "with apt-get where it can)",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1280,900", "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=DriverService(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    where = os.environ.get("CONSOLE_ARTIFACTS")
    folder = Path(where) if where else tmp_path_factory.mktemp("console-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(driver, shots: Path, name: str) -> None:
    """The whole page (not only the window) as ``<name>.png``."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.execute_script("return window.innerWidth")
    driver.set_window_size(max(width, 360), min(max(height + 120, 600), 2400))
    path = shots / f"{name}.png"
    driver.save_screenshot(str(path))
    if os.environ.get("UPDATE_CONSOLE_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SHOTS / path.name)
    assert path.stat().st_size > 1000


def wait_for(driver, condition, what: str, timeout: float = 30):
    # The overview redraws itself every 5 s: an element found just before is then stale.
    return WebDriverWait(
        driver, timeout, 0.2, ignored_exceptions=(StaleElementReferenceException,)
    ).until(lambda d: condition(d), message=f"waiting for {what}")


def click(driver, css: str, what: str) -> None:
    """Click the element ``css`` names, finding it again if a redraw replaced it."""

    def clicked(d) -> bool:
        found = d.find_elements(By.CSS_SELECTOR, css)
        if not found:
            return False
        found[0].click()
        return True

    wait_for(driver, clicked, what)


def camera_jpeg(driver) -> bytes:
    """A real JPEG, drawn and encoded by the browser itself (no imaging library needed)."""
    driver.get("about:blank")
    data_url = driver.execute_script(
        """
        const c = document.createElement('canvas'); c.width = 160; c.height = 120;
        const g = c.getContext('2d');
        g.fillStyle = '#2456c7'; g.fillRect(0, 0, 160, 120);
        g.fillStyle = '#ffd166'; g.fillRect(20, 20, 60, 40);
        g.fillStyle = '#fff'; g.font = '16px sans-serif'; g.fillText('cam-1 10:00', 20, 95);
        return c.toDataURL('image/jpeg', 0.9);
        """
    )
    return base64.b64decode(data_url.split(",", 1)[1])


def status_of(env_file: Path, name: str) -> str:
    code, body = rest(env_file, "GET", f"/connectors/{name}/status")
    return body["connector"]["state"] if code == 200 else f"HTTP {code}"


def ui_url(env_file: Path, fragment: str = "") -> str:
    return f"http://127.0.0.1:{env_value(env_file, 'REST_PORT')}/ui/{fragment}"


def test_console_overview_archive_dead_letters_and_pause(
    tmp_path, kafka_broker, s3_endpoint, topic_factory, browser, shots
):
    topic = topic_factory(partitions=2)
    bucket = make_bucket(s3_endpoint, "console")
    env_file = s3_env(
        tmp_path, kafka_broker.bootstrap, topic, s3_endpoint, bucket,
        S3_OBJECT_EXTENSION=".jpeg",
        PROGRESS_INTERVAL_S="1",
    )
    jpeg = camera_jpeg(browser)
    readings = [f'{{"sensor": "room-{i % 4}", "n": {i}}}'.encode() for i in range(40)]
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        produce_sinetstream(kafka_broker.bootstrap, topic, [jpeg, TEXT_PAYLOAD.encode()])
        produce_sinetstream(kafka_broker.bootstrap, topic, readings)
        producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
        producer.produce(topic, value=b"plain bytes, not SINETStream", partition=0)
        producer.flush(30)

        # -- overview: both reference connectors RUNNING, with what they archived ----------
        browser.set_window_size(1280, 900)
        browser.get(ui_url(env_file))

        def counted(driver) -> bool:
            cards = driver.find_elements(By.CSS_SELECTOR, "section.connector")
            if len(cards) != 2:
                return False
            for card in cards:
                state = card.find_element(By.CSS_SELECTOR, "[data-state]").text
                records = card.find_element(By.CSS_SELECTOR, "[data-stat=records] b").text
                if state != "RUNNING" or records.replace(",", "") != str(len(readings) + 2):
                    return False
            return True

        wait_for(browser, counted, "both connectors RUNNING with 42 records each", 60)
        names = {c.get_attribute("data-connector")
                 for c in browser.find_elements(By.CSS_SELECTOR, "section.connector")}
        assert names == {"s3-sink-data", "s3-sink-timestamp"}
        dead = browser.find_element(
            By.CSS_SELECTOR, "[data-connector=s3-sink-data] [data-stat=dead_letters] b"
        )
        assert dead.text == "1"
        assert bucket in browser.find_element(By.ID, "store").text
        # The rate chart draws a line once the sampler (every 2 s) gave three points.
        wait_for(browser, lambda d: int(d.find_element(By.CSS_SELECTOR, "svg.chart")
                                         .get_attribute("data-points")) >= 3,
                 "records/s samples", 30)
        screenshot(browser, shots, "overview")

        # -- archive: topic -> year -> month -> day -> hour, then the objects ----------------
        records = read_topic(kafka_broker.bootstrap, topic, len(readings) + 3)
        image_record = next(r for r in records if r.value and jpeg[:20] in r.value)
        hour = hour_dir(topic, image_record.timestamp_ms) + "/"
        browser.set_window_size(1280, 900)
        browser.get(ui_url(env_file, f"#/archive?prefix=topics/{topic}/"))
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#hour-chart rect.bar"),
                 "the records-per-hour chart")
        bars = browser.find_elements(By.CSS_SELECTOR, "#hour-chart rect.bar")
        assert sum(int(b.get_attribute("data-count")) for b in bars) == len(readings) + 2
        screenshot(browser, shots, "archive-topic")
        browser.set_window_size(1280, 900)
        for level in hour[len(f"topics/{topic}/"):].rstrip("/").split("/"):
            link = wait_for(browser, lambda d, level=level: d.find_elements(
                By.XPATH, f"//div[@class='folders']/a[text()='{level}']"), level)
            link[0].click()
        wait_for(browser, lambda d: d.find_elements(By.ID, "records"), "the hour's records")
        assert "42 records" in browser.find_element(By.ID, "record-count").text
        screenshot(browser, shots, "archive-hour")

        image_key = f"{hour}{topic}+{image_record.partition}+{image_record.offset:010d}.jpeg"
        browser.set_window_size(1280, 900)
        browser.find_element(By.CSS_SELECTOR, f"a[data-key='{image_key}']").click()
        image = wait_for(browser, lambda d: d.find_elements(By.ID, "preview-image"), "the image")[0]
        wait_for(browser, lambda d: d.execute_script(
            "const i = arguments[0]; return i.complete && i.naturalWidth;", image), "image load")
        size = browser.execute_script(
            "return [arguments[0].naturalWidth, arguments[0].naturalHeight]", image)
        assert size == [160, 120]
        timestamp = browser.find_element(By.ID, "timestamp-text").text
        assert len(timestamp) == 23 and timestamp[10] == "T"  # yyyy-MM-ddTHH:mm:ss.SSS
        screenshot(browser, shots, "object-image")

        text_record = next(r for r in records if r.value and TEXT_PAYLOAD.encode() in r.value)
        text_key = (f"{hour_dir(topic, text_record.timestamp_ms)}/"
                    f"{topic}+{text_record.partition}+{text_record.offset:010d}.jpeg")
        browser.set_window_size(1280, 900)
        browser.get(ui_url(env_file, f"#/object?key={quote(text_key, safe='/')}"))
        shown = wait_for(browser, lambda d: d.find_elements(By.ID, "preview-text"), "the text")[0]
        assert shown.get_attribute("data-kind") == "json"
        assert json.loads(shown.text) == json.loads(TEXT_PAYLOAD)
        screenshot(browser, shots, "object-text")

        # -- dead letters: the plain message, its reason, its bytes, a re-run ----------------
        browser.set_window_size(1280, 900)
        browser.get(ui_url(env_file, "#/dead"))
        row = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-dead-letter]"),
                       "the dead letter")[0]
        assert "SINETStream" in row.find_element(By.CSS_SELECTOR, "td.reason").text
        row.find_element(By.CSS_SELECTOR, "button[data-action=hex]").click()
        hex_view = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr pre.hex"),
                            "the hex view")[0]
        assert "plain bytes, not" in hex_view.text
        row.find_element(By.CSS_SELECTOR, "button[data-action=rerun]").click()
        wait_for(browser, lambda d: "s3-sink-data:" in row.text, "the re-run's answer")
        assert "archived" not in row.text  # still not SINETStream: nothing written
        screenshot(browser, shots, "dead-letters")

        # -- a phone-sized screen: nothing wider than the screen ----------------------------
        browser.set_window_size(390, 844)
        browser.get(ui_url(env_file, "#/"))
        wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "section.connector")) == 2,
                 "the overview on a phone")
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1")
        screenshot(browser, shots, "overview-phone")

        # -- pause from the console pauses the connector (checked over REST) ----------------
        browser.set_window_size(1280, 900)
        browser.get(ui_url(env_file, "#/"))
        click(browser, "[data-connector=s3-sink-data] button[data-action=pause]", "Pause")
        wait_until(lambda: status_of(env_file, "s3-sink-data") == "PAUSED", 30, "PAUSED")
        assert status_of(env_file, "s3-sink-timestamp") == "RUNNING"
        wait_for(browser, lambda d: d.find_element(
            By.CSS_SELECTOR, "[data-connector=s3-sink-data] [data-state]").text == "PAUSED",
            "the console showing PAUSED")
        click(browser, "[data-connector=s3-sink-data] button[data-action=resume]", "Resume")
        wait_until(lambda: status_of(env_file, "s3-sink-data") == "RUNNING", 30, "RUNNING")
        assert service.running


def test_a_dead_letter_that_now_decodes_is_archived_by_a_re_run(
    tmp_path, kafka_broker, topic_factory
):
    """A record kept as a dead letter (say, before its password was configured) that the
    current pipeline reads is written where the connectors would have put it."""
    topic = topic_factory(partitions=1)
    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic)
    produce_sinetstream(kafka_broker.bootstrap, topic, [b"kept aside"])
    record = read_topic(kafka_broker.bootstrap, topic, 1)[0]
    bucket_dir = tmp_path / "data" / "mybucket"
    stem = f"dead-letter/{topic}/{topic}+0+0000000041"
    (bucket_dir / stem).parent.mkdir(parents=True)
    (bucket_dir / f"{stem}.bin").write_bytes(record.value)
    reason = {"reason": "encrypted with key version 1", "topic": topic, "partition": 0,
              "offset": 41, "timestamp_ms": record.timestamp_ms, "value_is_null": False,
              "key_base64": None, "headers": []}
    (bucket_dir / f"{stem}.reason.json").write_text(json.dumps(reason))
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        wait_until(lambda: status_of(env_file, "s3-sink-data") == "RUNNING", 30, "RUNNING")
        code, answer = rest(env_file, "POST", "/ui/api/deadletters/rerun",
                            {"key": f"{stem}.bin"})
    assert code == 200, answer
    written = {r["connector"]: r["written"] for r in answer["results"]}
    hour = hour_dir(topic, record.timestamp_ms)
    assert written == {
        "s3-sink-data": [f"{hour}/{topic}+0+0000000041.bin"],
        "s3-sink-timestamp": [f"{hour}/{topic}+0+0000000041-timestamp.txt"],
    }
    assert (bucket_dir / hour / f"{topic}+0+0000000041.bin").read_bytes() == b"kept aside\n"


def test_the_hour_view_of_100000_objects_is_listed_once_then_cached(
    tmp_path, kafka_broker, topic_factory, browser, shots
):
    topic = topic_factory(partitions=1)
    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic)
    hour = f"topics/{topic}/year=2026/month=11/day=29/hour=10/"
    folder = tmp_path / "data" / "mybucket" / hour
    folder.mkdir(parents=True)
    payload, timestamp = tmp_path / "payload", tmp_path / "timestamp"
    payload.write_bytes(b"x\n")
    timestamp.write_bytes(b"2026-11-29T01:00:00.000\n")
    # Hard links: 100,000 real directory entries without writing 100,000 files' blocks.
    for offset in range(50_000):  # a payload and a timestamp object per record
        os.link(payload, folder / f"{topic}+0+{offset:010d}.bin")
        os.link(timestamp, folder / f"{topic}+0+{offset:010d}-timestamp.txt")
    port = env_value(env_file, "REST_PORT")

    def folder_view(page: int) -> tuple[dict, float]:
        url = f"http://127.0.0.1:{port}/ui/api/folder?prefix={hour}&page={page}"
        started = time.monotonic()
        with urllib.request.urlopen(url, timeout=120) as response:
            return json.loads(response.read()), time.monotonic() - started

    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        first, first_s = folder_view(0)
        assert (first["total"], first["objects"]) == (50_000, 100_000)
        listed_by_first = first["listing_calls"]
        # Pages of 5,000 objects: 20 pages listed the hour, nothing more.
        assert 20 <= listed_by_first <= 21
        for page in (1, 250, 499):
            view, seconds = folder_view(page)
            assert view["listing_calls"] == listed_by_first, "listed again instead of cached"
            assert view["records"][0]["offset"] == page * 100
            assert seconds < 10  # a sanity bound only: the calls are what is checked
        assert first_s < 120

        browser.set_window_size(1280, 900)
        browser.get(ui_url(env_file, f"#/archive?prefix={hour}&page=250"))
        count = wait_for(browser, lambda d: d.find_elements(By.ID, "record-count"), "the count")
        assert count[0].text.startswith("50,000 records (100,000 objects) · page 251 of 500")
        again, _ = folder_view(0)
        assert again["listing_calls"] == listed_by_first
        screenshot(browser, shots, "archive-100k")


def test_a_token_or_basic_auth_opens_the_console_in_the_browser(
    tmp_path, kafka_broker, topic_factory, browser
):
    """A browser cannot send the Authorization header for a page: /ui/?token= once, then
    the cookie it leaves carries the token for the pages' calls, the REST API's included.
    With basic auth the browser sends its own credentials."""
    topic = topic_factory(partitions=1)
    token = "console-token-0123456789abcdef"
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    users = tmp_path / "users.properties"
    users.write_text("operator: s3cret-pass\n")
    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic,
                         REST_BEARER_TOKEN_FILE=str(token_file),
                         REST_BASIC_AUTH_FILE=str(users))
    port = env_value(env_file, "REST_PORT")

    def state(name: str) -> str | None:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/connectors/{name}/status",
            headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())["connector"]["state"]
        except OSError:
            return None

    with Service(env_file, tmp_path / "service.log") as service:
        wait_until(lambda: state("s3-sink-data") == "RUNNING", 60, "the API with the token")
        browser.delete_all_cookies()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(ui_url(env_file), timeout=10)
        assert refused.value.code == 401  # the browser would prompt for basic auth here
        browser.get(ui_url(env_file, f"?token={token}"))
        wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "section.connector"))
                 == 2, "the overview, with the token's cookie")
        assert token not in browser.current_url
        click(browser, "[data-connector=s3-sink-data] button[data-action=pause]", "Pause")
        wait_until(lambda: state("s3-sink-data") == "PAUSED", 30, "PAUSED")
        browser.delete_all_cookies()
        # Basic auth: the browser's own credentials (its prompt, or here the URL's) are sent
        # with the pages' calls too.
        browser.get(f"http://operator:s3cret-pass@127.0.0.1:{port}/ui/#/")
        wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "section.connector"))
                 == 2, "the overview, with basic auth")
        click(browser, "[data-connector=s3-sink-data] button[data-action=resume]", "Resume")
        wait_until(lambda: state("s3-sink-data") == "RUNNING", 30, "RUNNING")
        assert service.running


def test_s3_and_local_stores_page_through_a_folder_alike(tmp_path, s3_endpoint):
    """The console's listing, page by page and by folder, is the same on S3 and on disk."""
    import asyncio

    from helpers import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY, s3_client

    from kafka_s3_sink.store import LocalObjectStore, S3ObjectStore, S3Settings

    bucket = make_bucket(s3_endpoint, "paging")
    keys = [f"topics/t/hour={h:02d}/t+0+{o:010d}{ext}" for h in (9, 10) for o in range(7)
            for ext in (".bin", "-timestamp.txt")] + ["topics/t/readme", "topics/u/x"]
    client = s3_client(s3_endpoint)
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=b"1")
        path = tmp_path / bucket / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"1")
    s3 = S3ObjectStore(S3Settings(bucket, S3_REGION, S3_ACCESS_KEY, S3_SECRET_KEY, s3_endpoint,
                                  create_bucket=False))
    local = LocalObjectStore(tmp_path, bucket)

    async def pages(store, prefix: str, delimited: bool) -> list[tuple[list[str], list[str]]]:
        out, after = [], None
        while True:
            page = await store.list_page(prefix, after=after, limit=5, delimited=delimited)
            out.append(([o.key for o in page.objects], page.folders))
            if page.next_after is None:
                return out
            after = page.next_after

    async def both(prefix: str, delimited: bool) -> tuple[list, list]:
        return await pages(s3, prefix, delimited), await pages(local, prefix, delimited)

    on_s3, on_disk = asyncio.run(both("topics/t/", False))
    assert on_s3 == on_disk and len(on_s3) == 6  # 29 objects in pages of 5
    assert [k for keys_, _ in on_s3 for k in keys_] == sorted(k for k in keys
                                                               if k.startswith("topics/t/"))
    on_s3, on_disk = asyncio.run(both("topics/t/", True))
    assert on_s3 == on_disk == [(["topics/t/readme"], ["topics/t/hour=09/", "topics/t/hour=10/"])]
    on_s3, on_disk = asyncio.run(both("topics/", True))
    assert on_s3 == on_disk == [([], ["topics/t/", "topics/u/"])]


def test_a_failed_task_shows_its_trace(tmp_path, kafka_broker, topic_factory, browser, shots):
    """ERRORS_TOLERANCE=none: a message that is not SINETStream fails the tasks, and the
    overview says FAILED with the trace the REST status gives."""
    topic = topic_factory(partitions=1)
    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic, ERRORS_TOLERANCE="none")
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    producer.produce(topic, value=b"not SINETStream at all", partition=0)
    producer.flush(30)
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        browser.set_window_size(1280, 900)
        browser.get(ui_url(env_file, "#/"))
        trace = wait_for(browser, lambda d: d.find_elements(
            By.CSS_SELECTOR, "[data-connector=s3-sink-data] .task pre.trace"), "the trace", 60)
        assert "errors.tolerance=none" in trace[0].text
        task_state = browser.find_element(
            By.CSS_SELECTOR, "[data-connector=s3-sink-data] [data-task-state]").text
        assert task_state == "FAILED"
        code, status = rest(env_file, "GET", "/connectors/s3-sink-data/status")
        assert code == 200 and status["tasks"][0]["state"] == "FAILED"
        screenshot(browser, shots, "overview-failed")

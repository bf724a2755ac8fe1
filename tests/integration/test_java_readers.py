"""Apache's Java readers read the Avro and Parquet files our formats write.

The unit tests read our files with Python readers (fastavro, Apache's Python avro, pyarrow);
the people who consume the sink's objects mostly read them on the JVM.  Here the files our
AvroFormat and ParquetFormat write are read by Avro's ``DataFileReader`` and parquet-avro's
``AvroParquetReader`` (tests/java_readers: a tiny Maven project, built once per version of its
sources into the cache, as bench/kafka_connect.py builds its connector), in one JVM for all
files, with Avro's logical type conversions on.  Every record Java returns is compared with
the value written, each logical value by what Java made of it (a BigDecimal, an Instant, a
LocalDate, a LocalTime), and the schema and codec Java reports with those written.

Brotli Parquet files are the one thing Java cannot read: parquet-java ships no Brotli codec
(it loads ``org.apache.hadoop.io.compress.BrotliCodec``, from a jar not on Maven Central), so
that case only checks Java's reason.

Skipped only where ``java`` or ``mvn`` is missing.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastavro
import pyarrow.parquet as pq
import pytest
from helpers import READING_SCHEMA

from kafka_s3_sink.devtools.kafka_broker import cache_root
from kafka_s3_sink.pipeline.converters import SINETSTREAM_SCHEMA, with_schema
from kafka_s3_sink.pipeline.formats.avro import AvroFormat
from kafka_s3_sink.pipeline.formats.parquet import ParquetFormat
from kafka_s3_sink.pipeline.schema import Schema, from_json

pytestmark = pytest.mark.integration

JAVA_SOURCES = Path(__file__).resolve().parents[1] / "java_readers"
JAR = "java-readers-0.jar"
MAIN_CLASS = "kafkas3sink.javareaders.ReadArchive"

DECIMAL = "org.apache.kafka.connect.data.Decimal"
TIMESTAMP = "org.apache.kafka.connect.data.Timestamp"
DATE = "org.apache.kafka.connect.data.Date"
TIME = "org.apache.kafka.connect.data.Time"

AVRO_CODECS = ["null", "deflate", "snappy", "bzip2"]
# Our codec names -> Parquet's, as parquet-java reports a column chunk's codec.
PARQUET_CODECS = {"none": "UNCOMPRESSED", "snappy": "SNAPPY", "gzip": "GZIP", "zstd": "ZSTD",
                  "lz4_raw": "LZ4_RAW", "brotli": "BROTLI"}
JAVA_CANNOT_READ = {"brotli"}
SINETSTREAM_COUNT = 3000  # ~170 KB: several 64 KB Avro blocks and Parquet pages of msg

# READING_SCHEMA of tests/helpers.py, with what it lacks: a Decimal
# without precision (AvroData's default 64: a 27-byte FIXED column in Parquet), Time, a map
# with non-string keys (Avro: an array of MapEntry records) and an optional int64.
RICH_SCHEMA: dict[str, Any] = {
    **READING_SCHEMA,
    "fields": [
        *READING_SCHEMA["fields"],
        {"field": "amount", "type": "bytes", "name": DECIMAL, "version": 1,
         "parameters": {"scale": "3"}},
        {"field": "clock", "type": "int32", "name": TIME, "version": 1},
        {"field": "codes", "type": "map", "keys": {"type": "int32"},
         "values": {"type": "string", "optional": True}},
        {"field": "maybe", "type": "int64", "optional": True},
    ],
}
RICH_COUNT = 24


def unscaled(n: int) -> str:
    """JsonConverter's BASE64 decimal: the unscaled value, big-endian two's complement."""
    return base64.b64encode(n.to_bytes(n.bit_length() // 8 + 1, "big", signed=True)).decode()


def rich_payload(i: int) -> dict[str, Any]:
    """Record i's JSON payload, a different value in each field from one record to the next
    (negative numbers, empty bytes/arrays/maps, nulls, instants before 1970)."""
    return {
        "id": (i * 37) % 256 - 128,
        "level": -300 * i,
        "count": 70000 + i,
        "total": (2**40 + i) * (-1) ** i,
        "ratio": i * 0.25,  # exact in float32
        "value": 21.25 - i,
        "ok": i % 3 == 0,
        "label": None if i % 4 == 2 else f"north {i} \u2713 \"q\"",
        "raw": base64.b64encode(bytes(range(250, 250 + i % 7))).decode(),  # b"" when i % 7 == 0
        "price": unscaled(12345 - 1000 * i),  # 123.45, 113.45... -106.55
        # 41 digits: more than a long, and more than Python's default decimal context keeps
        "amount": unscaled((10**40 + i) * (-1) ** i),
        "at": 1650243600123 + 1001 * i if i != 5 else -86_399_877,
        "day": 19100 + i if i != 5 else -3,
        "clock": 3_600_000 * (i % 24) + i,
        "tags": [f"t{j}" for j in range(i % 3)],
        "attrs": {f"k{j}": j - i for j in range(i % 4)},
        "codes": [[j * 1000, None if j == 1 else f"c{j}"] for j in range(i % 3)],
        "where": {"lat": 35.0 + i, "lon": -139.5} if i % 2 else None,
        "maybe": None if i % 3 == 1 else i * 2**33,
    }


# --- what Java must return: derived from the JSON payload, not from our writers -----------------


def exact_decimal(payload: str, scale: int) -> Decimal:
    """A BASE64 decimal's value, every digit kept (no context rounding)."""
    n = int.from_bytes(base64.b64decode(payload), "big", signed=True)
    return Decimal((int(n < 0), tuple(int(d) for d in str(abs(n))), -scale))


def _hex_of_base64(text: str) -> dict[str, str]:
    return {"bytes": base64.b64decode(text).hex()}


def expected_json(schema: dict[str, Any], payload: Any) -> Any:
    """The record as ReadArchive prints it, from the JSON envelope's schema and payload.

    Logical types as Confluent's AvroData maps them and Avro's conversions return them;
    a map with string keys as an Avro map, any other as an array of {key, value} records.
    """
    if payload is None:
        return None
    name, kind = schema.get("name"), schema["type"]
    if name == DECIMAL:
        scale = int(schema["parameters"]["scale"])
        return {"decimal": f"{exact_decimal(payload, scale):f}"}
    if name == TIMESTAMP:
        return {"timestamp-millis": payload}
    if name == DATE:
        return {"date": (date(1970, 1, 1) + timedelta(days=payload)).isoformat()}
    if name == TIME:
        return {"time-millis": payload}
    if kind == "bytes":
        return _hex_of_base64(payload)
    if kind == "struct":
        return {f["field"]: expected_json(f, payload.get(f["field"])) for f in schema["fields"]}
    if kind == "array":
        return [expected_json(schema["items"], item) for item in payload]
    if kind == "map":
        if isinstance(payload, dict):
            return {k: expected_json(schema["values"], v) for k, v in payload.items()}
        return [{"key": expected_json(schema["keys"], k),
                 "value": expected_json(schema["values"], v)} for k, v in payload]
    return payload  # ints, floats, booleans, strings: the same in JSON


def sinetstream_value(i: int) -> dict[str, Any]:
    # Every byte value, and a few empty messages (i % 97 == 0).
    msg = bytes((i * 31 + k) % 256 for k in range(i % 97))
    return {"tstamp": 1650243600123456 + i * 1_000_003, "msg": msg}


def sinetstream_expected(value: dict[str, Any]) -> dict[str, Any]:
    return {"tstamp": value["tstamp"], "msg": {"bytes": value["msg"].hex()}}


# --- the files -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str  # the file's name
    format: str  # "avro" | "parquet"
    codec: str  # our codec name
    schema: Schema
    json_schema: dict[str, Any] | None  # the JSON envelope's schema, if any
    values: tuple[Any, ...]  # the Connect values written
    expected: tuple[Any, ...]  # each record as ReadArchive must print it

    def write(self, directory: Path) -> Path:
        fmt = AvroFormat(self.codec) if self.format == "avro" else ParquetFormat(self.codec)
        path = directory / self.name
        path.write_bytes(fmt.encode([fmt.prepare(v, self.schema) for v in self.values]))
        return path


def _cases() -> list[Case]:
    sinet_values = tuple(sinetstream_value(i) for i in range(SINETSTREAM_COUNT))
    sinet_expected = tuple(sinetstream_expected(v) for v in sinet_values)
    payloads = [rich_payload(i) for i in range(RICH_COUNT)]
    rich_values = tuple(with_schema(RICH_SCHEMA, p, "payload") for p in payloads)
    rich_expected = tuple(expected_json(RICH_SCHEMA, p) for p in payloads)
    rich_schema = from_json(RICH_SCHEMA)
    cases = [Case(f"sinetstream-{c}.avro", "avro", c, SINETSTREAM_SCHEMA, None, sinet_values,
                  sinet_expected) for c in AVRO_CODECS]
    cases += [Case(f"sinetstream-{c}.parquet", "parquet", c, SINETSTREAM_SCHEMA, None,
                   sinet_values, sinet_expected) for c in PARQUET_CODECS]
    cases += [Case(f"reading-{c}.avro", "avro", c, rich_schema, RICH_SCHEMA, rich_values,
                   rich_expected) for c in ("null", "snappy")]
    cases += [Case(f"reading-{c}.parquet", "parquet", c, rich_schema, RICH_SCHEMA, rich_values,
                   rich_expected) for c in ("snappy", "zstd")]
    return cases


CASES = _cases()
READABLE = [c for c in CASES if c.format == "avro" or c.codec not in JAVA_CANNOT_READ]


# --- the Java reader -------------------------------------------------------------------------


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in JAVA_SOURCES.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(JAVA_SOURCES)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def build_java_reader(mvn: str) -> Path:
    """Build tests/java_readers (once per version of its sources) into the cache; return the
    directory holding its jar and every jar it needs."""
    root = cache_root() / f"java-readers-{_sources_digest()}"
    jars = root / "jars"
    if (jars / JAR).is_file():
        return jars
    root.mkdir(parents=True, exist_ok=True)
    # Built in a temp dir, renamed last: an interrupted build never looks complete.
    build = Path(tempfile.mkdtemp(prefix="build-", dir=root))
    try:
        shutil.copytree(JAVA_SOURCES, build, dirs_exist_ok=True)
        partial = build / "jars"
        cmd = [mvn, "-q", "-B", "-f", str(build / "pom.xml"), "package",
               "dependency:copy-dependencies", f"-DoutputDirectory={partial}",
               "-DincludeScope=runtime"]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, check=False)
        if res.returncode != 0:
            pytest.fail(f"mvn failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
        shutil.copy2(build / "target" / JAR, partial / JAR)
        try:
            partial.rename(jars)
        except OSError:
            if not (jars / JAR).is_file():  # not a lost race with another build: a real error
                raise
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return jars


@dataclass
class JavaView:
    """What ReadArchive printed about one file."""

    header: dict[str, Any] | None = None
    records: list[Any] | None = None
    error: str | None = None


@pytest.fixture(scope="session")
def java_views(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, JavaView], Path]:
    """Write every case's file, read them all in one JVM; (file name -> JavaView, directory)."""
    java, mvn = shutil.which("java"), shutil.which("mvn")
    if java is None or mvn is None:
        missing = " and ".join(n for n, p in (("java", java), ("mvn", mvn)) if p is None)
        pytest.skip(f"needs a JDK and Maven: {missing} not found on PATH")
    jars = build_java_reader(mvn)
    directory = tmp_path_factory.mktemp("java-readers")
    paths = [str(case.write(directory)) for case in CASES]
    cmd = [java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
           "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
           "-cp", f"{jars}/*", MAIN_CLASS, *paths]
    res = subprocess.run(cmd, capture_output=True, encoding="utf-8", timeout=300, check=False)
    assert res.returncode == 0, f"java failed ({res.returncode}):\n{res.stderr}"
    views: dict[str, JavaView] = {}
    for line in res.stdout.splitlines():
        item = json.loads(line)
        view = views.setdefault(Path(item.pop("file")).name, JavaView())
        if "error" in item:
            view.error = f"{item['error']}\n(stderr:)\n{res.stderr}"
        elif "record" in item:
            assert view.records is not None and item["index"] == len(view.records)
            view.records.append(item["record"])
        else:
            view.header, view.records = item, []
    return views, directory


def view_of(java_views: tuple[dict[str, JavaView], Path], case: Case) -> JavaView:
    view = java_views[0].get(case.name)
    assert view is not None, f"ReadArchive printed nothing about {case.name}"
    assert view.error is None, f"Java cannot read {case.name}: {view.error}"
    assert view.header is not None and view.records is not None
    return view


def written_avro_schema(case: Case, directory: Path) -> Any:
    """The Avro schema our writer stored in the file (container header / Parquet metadata)."""
    body = (directory / case.name).read_bytes()
    if case.format == "avro":
        with io.BytesIO(body) as f:
            return json.loads(fastavro.reader(f).metadata["avro.schema"])
    metadata = pq.ParquetFile(io.BytesIO(body)).schema_arrow.metadata
    return json.loads(metadata[b"parquet.avro.schema"])


def case_id(case: Case) -> str:
    return case.name


# --- the tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", READABLE, ids=case_id)
def test_java_reads_every_record_as_written(java_views: Any, case: Case) -> None:
    view = view_of(java_views, case)
    assert view.header is not None and view.records is not None
    assert view.header["records"] == len(case.values) == len(view.records)
    if case.format == "parquet":
        assert view.header["footer_rows"] == len(case.values)
    assert view.records[0] == case.expected[0]
    assert view.records[-1] == case.expected[-1]
    mismatches = [i for i, (got, want) in enumerate(zip(view.records, case.expected,
                                                        strict=True)) if got != want]
    assert not mismatches, (
        f"{len(mismatches)} records differ, first #{mismatches[0]}:\n"
        f"java:    {view.records[mismatches[0]]}\nwritten: {case.expected[mismatches[0]]}"
    )


@pytest.mark.parametrize("case", READABLE, ids=case_id)
def test_java_reports_the_codec_written(java_views: Any, case: Case) -> None:
    view = view_of(java_views, case)
    assert view.header is not None
    want = case.codec if case.format == "avro" else PARQUET_CODECS[case.codec]
    assert view.header["codec"] == want  # Parquet: the codec of every column chunk


@pytest.mark.parametrize("case", READABLE, ids=case_id)
def test_java_resolves_the_schema_written(java_views: Any, case: Case) -> None:
    view = view_of(java_views, case)
    assert view.header is not None
    java_schema = view.header["schema"]
    # Java parsed the very schema stored in the file: Avro's writer schema, and for Parquet the
    # parquet.avro.schema that parquet-avro reads records with (none derived from the columns).
    assert java_schema == written_avro_schema(case, java_views[1])
    if case.format == "parquet":
        assert json.loads(view.header["avro_schema_metadata"]) == java_schema
    # ...and that schema is the Connect schema's, as Confluent's AvroData names and types it.
    assert case.schema.name is not None
    namespace, _, name = case.schema.name.rpartition(".")
    assert (java_schema["namespace"], java_schema["name"]) == (namespace, name)
    assert java_schema["connect.name"] == case.schema.name
    fields = {f["name"]: f["type"] for f in java_schema["fields"]}
    assert list(fields) == [f.name for f in case.schema.fields]
    for field in case.schema.fields:
        nullable = isinstance(fields[field.name], list) and "null" in fields[field.name]
        assert nullable == field.schema.optional, field.name
    if case.json_schema is not None:
        assert fields["id"] == {"type": "int", "connect.type": "int8"}
        assert fields["level"] == {"type": "int", "connect.type": "int16"}
        assert fields["price"]["logicalType"] == "decimal"
        assert (fields["price"]["precision"], fields["price"]["scale"]) == (10, 2)
        assert (fields["amount"]["precision"], fields["amount"]["scale"]) == (64, 3)
        assert fields["at"]["logicalType"] == "timestamp-millis"
        assert fields["day"]["logicalType"] == "date"
        assert fields["clock"]["logicalType"] == "time-millis"
        assert fields["attrs"]["type"] == "map"
        assert fields["codes"]["items"]["name"] == "MapEntry"
        assert fields["where"][1]["name"] == "ConnectDefault"


def test_the_sinetstream_avro_files_span_several_blocks(java_views: Any) -> None:
    # So the Java reads above went past a block boundary (and its sync marker).
    directory = java_views[1]
    for codec in AVRO_CODECS:
        with (directory / f"sinetstream-{codec}.avro").open("rb") as f:
            assert len(list(fastavro.block_reader(f))) > 1, codec


def test_java_cannot_read_brotli_parquet_for_want_of_a_codec(java_views: Any) -> None:
    """parquet-java has no Brotli codec of its own: it loads Hadoop's
    org.apache.hadoop.io.compress.BrotliCodec, which no jar on Maven Central provides.
    Our brotli files are fine for pyarrow/Spark-with-the-codec; plain Java readers need
    another codec.  Should Java ever read them, the comparison joins the others."""
    views, _ = java_views
    (case,) = [c for c in CASES if c.format == "parquet" and c.codec == "brotli"]
    view = views[case.name]
    if view.error is None:
        pytest.fail("Java now reads Brotli Parquet: move brotli out of JAVA_CANNOT_READ")
    assert "BrotliCodec" in view.error

"""Every connector config key kafka-s3-sink knows, and what it does with it.

* ``supported``: read and honoured as Kafka Connect / the Confluent S3 sink honour it;
* ``accepted-ignored``: accepted (value checked where it has a type) but without effect, the
  reason is in ``meaning``;
* ``rejected``: accepted only with its default value (``allowed``); any other value is refused
  because the feature does not exist here.

A key in no row and under no ``*`` prefix row is refused: Kafka Connect would ignore it
silently, which hides typos such as ``flush_size``.  The README's table is
``markdown_config_table()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["supported", "accepted-ignored", "rejected"]


@dataclass(frozen=True)
class ConfigKey:
    key: str  # a trailing "*" makes it a prefix: every key starting with the rest
    status: Status
    meaning: str
    default: str | None = None  # None: no default (required when status is supported)
    group: str = "Common"
    type: str = "STRING"  # Kafka ConfigDef type, for the validate response
    required: bool = False
    allowed: tuple[str, ...] = ()  # rejected keys: the values accepted (the defaults)

    @property
    def is_prefix(self) -> bool:
        return self.key.endswith("*")


_S: Status = "supported"
_I: Status = "accepted-ignored"
_R: Status = "rejected"
_NO_S3_PARTS = "objects are written with one PUT (multipart only above 64 MiB)"

CONFIG_KEYS: tuple[ConfigKey, ...] = (
    # --- Kafka Connect ---
    ConfigKey(
        "name",
        _S,
        "connector name; must equal the name in the request; at most 200 characters",
        type="STRING",
    ),
    ConfigKey(
        "connector.class",
        _S,
        "io.confluent.connect.s3.S3SinkConnector, or its Kafka "
        "Connect aliases S3SinkConnector and S3Sink",
        required=True,
        type="STRING",
    ),
    ConfigKey(
        "tasks.max",
        _S,
        "number of tasks, 1 to 32; each is a consumer of the connector's group, sharing its "
        "partitions",
        "1",
        type="INT",
    ),
    ConfigKey(
        "topics",
        _S,
        "comma-separated topics to archive (this or topics.regex); internal topics (__*, "
        "the config topic) are refused",
        "",
        type="LIST",
    ),
    ConfigKey(
        "topics.regex",
        _S,
        "Java regular expression; every topic it matches in full is archived (this or "
        "topics), internal topics (__*, the config topic) never",
        "",
        type="STRING",
    ),
    ConfigKey(
        "value.converter",
        _S,
        "SinetStreamConverter, ByteArrayConverter, StringConverter "
        "or JsonConverter; default ByteArrayConverter (our worker's default)",
        "",
        type="CLASS",
    ),
    ConfigKey(
        "value.converter.*",
        _S,
        "converter parameters: JsonConverter schemas.enable "
        "(default true), StringConverter converter.encoding (UTF-8), SinetStreamConverter "
        "decryption and decompression (sinetstream.config.file, sinetstream.service, "
        "data_encryption, crypto.*, data_compression, compression.*: see SINETStream "
        "encryption and compression)",
    ),
    ConfigKey(
        "key.converter", _I, "keys are not written (store.kafka.keys=false)", "", type="CLASS"
    ),
    ConfigKey("key.converter.*", _I, "keys are not written"),
    ConfigKey(
        "header.converter",
        _I,
        "headers are not written (store.kafka.headers=false)",
        "",
        type="CLASS",
    ),
    ConfigKey("header.converter.*", _I, "headers are not written"),
    ConfigKey("config.action.reload", _I, "a changed config is applied when PUT", "restart"),
    ConfigKey(
        "transforms",
        _S,
        "aliases of the value transforms, applied in this order: "
        "ExtractField$Value, TimestampConverter$Value and SINETStream's "
        "MicrosecondTimestampConverter$Value and ByteArrayCast$Value",
        "",
        type="LIST",
    ),
    ConfigKey(
        "transforms.*",
        _S,
        "transforms.<alias>.type and that transform's parameters",
        group="Transforms",
    ),
    ConfigKey(
        "predicates", _R, "transform predicates do not exist here", "", type="LIST", allowed=("",)
    ),
    ConfigKey(
        "errors.tolerance",
        _S,
        "none: an unreadable record fails the connector; all: it "
        "goes to the dead letter and archiving goes on",
        "none",
        "Error Handling",
    ),
    ConfigKey(
        "errors.deadletterqueue.topic.name",
        _S,
        "with errors.tolerance=all, unreadable records are produced to this topic as they "
        "came (key, value, headers, timestamp), as well as kept under DEAD_LETTER_PREFIX",
        "",
        "Error Handling",
    ),
    ConfigKey(
        "errors.deadletterqueue.topic.replication.factor",
        _S,
        "replication of the dead-letter topic, created (1 partition) when missing; a task "
        "that cannot create it fails",
        "3",
        "Error Handling",
        "SHORT",
    ),
    ConfigKey(
        "errors.deadletterqueue.context.headers.enable",
        _S,
        "add Kafka Connect's __connect.errors.* headers to dead-letter records: topic, "
        "partition, offset, connector.name, task.id, stage, class.name, exception.class.name, "
        "exception.message, exception.stacktrace (Python names)",
        "false",
        "Error Handling",
        "BOOLEAN",
    ),
    ConfigKey(
        "errors.log.enable",
        _I,
        "failures are always logged (without record contents)",
        "false",
        "Error Handling",
        "BOOLEAN",
    ),
    ConfigKey(
        "errors.log.include.messages",
        _I,
        "record contents are never logged",
        "false",
        "Error Handling",
        "BOOLEAN",
    ),
    ConfigKey(
        "errors.retry.timeout",
        _I,
        "conversion failures are deterministic: a retry cannot help",
        "0",
        "Error Handling",
        "LONG",
    ),
    ConfigKey(
        "errors.retry.delay.max.ms",
        _I,
        "see errors.retry.timeout",
        "60000",
        "Error Handling",
        "LONG",
    ),
    ConfigKey(
        "consumer.override.*",
        _S,
        "Java consumer settings, passed to librdkafka under "
        "their librdkafka names; ones without an equivalent are refused",
    ),
    ConfigKey("producer.override.*", _I, "no producer settings to override"),
    ConfigKey("admin.override.*", _I, "no admin client settings to override"),
    ConfigKey(
        "group.id",
        _I,
        "not a Kafka Connect key: the group is connect-<name> "
        "(consumer.override.group.id changes it)",
    ),
    ConfigKey("tasks.max.enforce", _I, "one consumer per connector", "true", type="BOOLEAN"),
    # --- Confluent S3 sink: connector ---
    ConfigKey(
        "format.class",
        _S,
        "ByteArrayFormat, JsonFormat, AvroFormat (extra avro), "
        "ParquetFormat (extra parquet), or io.kafkas3sink.format.LosslessJsonLinesFormat "
        "(whole records for restore: docs/lossless-format.md); CsvFormat is refused",
        required=True,
        group="Connector",
        type="CLASS",
    ),
    ConfigKey(
        "flush.size",
        _S,
        "records per object, 1 to 10000",
        required=True,
        group="Connector",
        type="INT",
    ),
    ConfigKey(
        "rotate.interval.ms",
        _S,
        "record-time span of one object, at most 7 days (time-based "
        "partitioners only; ignored with a warning otherwise, as Confluent does)",
        "-1",
        "Connector",
        "LONG",
    ),
    ConfigKey(
        "rotate.schedule.interval.ms",
        _S,
        "wall-clock span of one object, at most 7 days (needs timezone)",
        "-1",
        "Connector",
        "LONG",
    ),
    ConfigKey(
        "rotate.file.on.partition.change",
        _R,
        "an object always ends where the encoded partition changes",
        "true",
        "Connector",
        "BOOLEAN",
        allowed=("true",),
    ),
    ConfigKey(
        "retry.backoff.ms", _I, "the store retries on its own schedule", "5000", "Connector", "LONG"
    ),
    ConfigKey("shutdown.timeout.ms", _I, "see SHUTDOWN_TIMEOUT_S", "3000", "Connector", "LONG"),
    ConfigKey(
        "filename.offset.zero.pad.width",
        _S,
        "digits of the offset in object names, 0 to 64",
        "10",
        "Connector",
        "INT",
    ),
    ConfigKey(
        "behavior.on.null.values",
        _S,
        "null values (tombstones): fail, or ignore "
        "(skipped, offset committed); write is refused (needs store.kafka.keys)",
        "fail",
        "Connector",
    ),
    ConfigKey(
        "report.null.values.to.dlq",
        _I,
        "ignored null values are not reported",
        "true",
        "Connector",
        "BOOLEAN",
    ),
    ConfigKey(
        "tombstone.encoded.partition",
        _I,
        "only with behavior.on.null.values=write",
        "tombstone",
        "Connector",
    ),
    ConfigKey(
        "max.write.duration.ms",
        _I,
        "writes are bounded by the store's timeouts",
        group="Connector",
        type="LONG",
    ),
    ConfigKey(
        "schema.compatibility",
        _S,
        "NONE only: a change of value schema closes the open objects of the partition; "
        "BACKWARD, FORWARD, FULL are refused",
        "NONE",
        "Schema",
    ),
    ConfigKey(
        "schema.cache.size", _I, "schema caches have fixed sizes", "1000", "Connector", "INT"
    ),
    ConfigKey(
        "enhanced.avro.schema.support",
        _I,
        "no Avro converter here: Avro enums and unions never reach the formats",
        "true",
        "Connector",
        "BOOLEAN",
    ),
    ConfigKey(
        "connect.meta.data",
        _S,
        "Avro schemas (AvroFormat, and ParquetFormat's parquet.avro.schema) keep the "
        "Connect name, version, doc, parameters as connect.* properties",
        "true",
        "Connector",
        "BOOLEAN",
    ),
    ConfigKey(
        "avro.codec",
        _S,
        "AvroFormat block codec: null, deflate, snappy or bzip2",
        "null",
        "Connector",
    ),
    ConfigKey(
        "parquet.codec",
        _S,
        "ParquetFormat codec: none, snappy, gzip, brotli, zstd or lz4_raw (lzo and the "
        "deprecated lz4 are refused: pyarrow cannot write them); named in the extension",
        "snappy",
        "Connector",
    ),
    ConfigKey(
        "allow.optional.map.keys",
        _I,
        "maps whose keys are not required strings are always written as key/value entries",
        "false",
        "Connector",
        "BOOLEAN",
    ),
    ConfigKey(
        "json.decimal.format", _S, "JsonFormat decimals: BASE64 or NUMERIC", "BASE64", "Connector"
    ),
    ConfigKey(
        "store.kafka.keys",
        _R,
        "keys are not written",
        "false",
        "Keys and Headers",
        "BOOLEAN",
        allowed=("false",),
    ),
    ConfigKey(
        "store.kafka.headers",
        _R,
        "headers are not written",
        "false",
        "Keys and Headers",
        "BOOLEAN",
        allowed=("false",),
    ),
    ConfigKey(
        "keys.format.class",
        _I,
        "only with store.kafka.keys=true",
        group="Keys and Headers",
        type="CLASS",
    ),
    ConfigKey(
        "headers.format.class",
        _I,
        "only with store.kafka.headers=true",
        group="Keys and Headers",
        type="CLASS",
    ),
    ConfigKey(
        "partitioner.max.open.files",
        _I,
        "objects are written as they fill",
        "-1",
        "Connector",
        "INT",
    ),
    # --- Confluent S3 sink: S3 ---
    ConfigKey(
        "s3.bucket.name",
        _S,
        "bucket (the folder under a file:// store): S3_BUCKET_NAME or one of "
        "CONNECTOR_BUCKETS; not . or .., no /",
        required=True,
        group="S3",
    ),
    ConfigKey(
        "s3.region",
        _S,
        "region of the bucket; default the service's S3_REGION, else us-west-2 as Confluent's",
        "us-west-2",
        "S3",
    ),
    ConfigKey(
        "store.url",
        _S,
        "S3-compatible endpoint (http(s)://host:port, path-style) or "
        "file:///absolute/path for a local directory; unset: AWS S3. Only the .env store "
        "and CONNECTOR_STORES are accepted",
        "",
        "Storage",
    ),
    ConfigKey(
        "storage.class",
        _S,
        "io.confluent.connect.s3.storage.S3Storage (or S3Storage)",
        required=True,
        group="Storage",
        type="CLASS",
    ),
    ConfigKey(
        "topics.dir",
        _S,
        "first part of every object key (no empty, . or .. segment)",
        "topics",
        "Storage",
    ),
    ConfigKey("directory.delim", _S, "separator of the key's directories", "/", "Storage"),
    ConfigKey("file.delim", _S, "separator inside object names", "+", "Storage"),
    ConfigKey(
        "aws.access.key.id",
        _S,
        "access key; unset: the service's AWS_ACCESS_KEY_ID, for the .env store only",
        "",
        "S3",
    ),
    ConfigKey(
        "aws.secret.access.key",
        _S,
        "secret key, stored encrypted (needs CONFIG_ENCRYPTION_KEY_FILE); unset: the "
        "service's AWS_SECRET_KEY, for the .env store only",
        "",
        "S3",
        "PASSWORD",
    ),
    ConfigKey(
        "s3.credentials.provider.class",
        _R,
        "the keys above, or the service's",
        "com.amazonaws.auth.DefaultAWSCredentialsProviderChain",
        "S3",
        "CLASS",
        allowed=(
            "com.amazonaws.auth.DefaultAWSCredentialsProviderChain",
            "software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider",
        ),
    ),
    ConfigKey(
        "s3.credentials.provider.*",
        _R,
        "custom credential providers do not exist here",
        group="S3",
        allowed=("",),
    ),
    ConfigKey(
        "s3.compression.type",
        _S,
        "none or gzip (adds .gz; ByteArray and JSON formats)",
        "none",
        "S3",
    ),
    ConfigKey("s3.compression.level", _S, "gzip level, -1 (default: 6) to 9", "-1", "S3", "INT"),
    ConfigKey("format.bytearray.extension", _S, "ByteArrayFormat object extension", ".bin", "S3"),
    ConfigKey(
        "format.bytearray.separator",
        _S,
        "written after each ByteArrayFormat value, as given (white space kept)",
        "\\n (the JVM line separator)",
        "S3",
    ),
    ConfigKey(
        "s3.part.size", _I, _NO_S3_PARTS + "; checked to be 5 MiB to 2 GiB", "26214400", "S3", "INT"
    ),
    ConfigKey("s3.part.retries", _I, "the store retries on its own schedule", "3", "S3", "INT"),
    ConfigKey(
        "s3.retry.backoff.ms", _I, "the store retries on its own schedule", "200", "S3", "LONG"
    ),
    ConfigKey("s3.http.send.expect.continue", _I, _NO_S3_PARTS, "true", "S3", "BOOLEAN"),
    ConfigKey("s3.send.digest", _I, _NO_S3_PARTS, "false", "S3", "BOOLEAN"),
    ConfigKey(
        "s3.path.style.access.enabled",
        _I,
        "path-style with store.url, virtual-hosted on AWS: the keys are the same either way",
        "true",
        "S3",
        "BOOLEAN",
    ),
    ConfigKey(
        "s3.elastic.buffer.enable", _I, "objects are built in memory", "false", "S3", "BOOLEAN"
    ),
    ConfigKey(
        "s3.elastic.buffer.init.capacity", _I, "objects are built in memory", "131072", "S3", "INT"
    ),
    ConfigKey(
        "enable.conditional.writes",
        _I,
        "a replay rewrites the same bytes under the same keys",
        "false",
        "S3",
        "BOOLEAN",
    ),
    ConfigKey(
        "s3.ssea.name",
        _S,
        "server-side encryption of each object: AES256 (SSE-S3; SSE-C with "
        "s3.sse.customer.key) or aws:kms (SSE-KMS); empty: no header, the bucket's default",
        "",
        "S3",
    ),
    ConfigKey(
        "s3.sse.customer.key",
        _S,
        "SSE-C key (base64 of 256 bits), used with s3.ssea.name=AES256 only, as Confluent; "
        "stored encrypted, shown [hidden]. The .env store's S3_SSE_CUSTOMER_KEY when unset there",
        "",
        "S3",
        "PASSWORD",
    ),
    ConfigKey(
        "s3.sse.key",
        _S,
        "older name of s3.sse.customer.key",
        "",
        "S3",
        "PASSWORD",
    ),
    ConfigKey(
        "s3.sse.kms.key.id",
        _S,
        "KMS key of s3.ssea.name=aws:kms (unset: the account's aws/s3 key); ignored otherwise",
        "",
        "S3",
    ),
    ConfigKey("s3.acl.canned", _R, "objects get the bucket's default ACL", "", "S3", allowed=("",)),
    ConfigKey(
        "s3.wan.mode",
        _R,
        "no S3 Transfer Acceleration",
        "false",
        "S3",
        "BOOLEAN",
        allowed=("false",),
    ),
    ConfigKey(
        "s3.proxy.url",
        _S,
        "HTTP(S) proxy for every S3 request, http(s)://[user:password@]host:port; unset at "
        "the .env store: the service's S3_PROXY_URL",
        "",
        "S3",
    ),
    ConfigKey("s3.proxy.user", _S, "proxy user (wins over one in s3.proxy.url)", "", "S3"),
    ConfigKey(
        "s3.proxy.password",
        _S,
        "proxy password, stored encrypted, shown [hidden]; unset for the .env's proxy and "
        "user: the service's S3_PROXY_PASSWORD",
        "",
        "S3",
        "PASSWORD",
    ),
    ConfigKey(
        "s3.object.tagging",
        _R,
        "objects are not tagged",
        "false",
        "S3",
        "BOOLEAN",
        allowed=("false",),
    ),
    ConfigKey("s3.object.tagging.key.value.pairs", _I, "objects are not tagged", "", "S3", "LIST"),
    ConfigKey("s3.object.behavior.on.tagging.error", _I, "objects are not tagged", "ignore", "S3"),
    ConfigKey(
        "s3.schema.partition.affix.type",
        _R,
        "object paths never carry the schema name",
        "NONE",
        "S3",
        allowed=("NONE",),
    ),
    # --- Confluent storage-common: partitioner ---
    ConfigKey(
        "partitioner.class",
        _S,
        "DefaultPartitioner, TimeBasedPartitioner, "
        "HourlyPartitioner, DailyPartitioner or FieldPartitioner",
        "io.confluent.connect.storage.partitioner.DefaultPartitioner",
        "Partitioner",
        "CLASS",
    ),
    ConfigKey(
        "partition.field.name",
        _S,
        "FieldPartitioner: comma-separated fields of the value (name=value directories)",
        "",
        "Partitioner",
        "LIST",
    ),
    ConfigKey(
        "partition.duration.ms",
        _S,
        "TimeBasedPartitioner: span of one directory, at most 366 days",
        "-1",
        "Partitioner",
        "LONG",
    ),
    ConfigKey(
        "path.format",
        _S,
        "TimeBasedPartitioner: Joda-Time pattern of the directory, "
        "e.g. 'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH",
        "",
        "Partitioner",
    ),
    ConfigKey(
        "locale",
        _S,
        "time-based partitioners: required, any locale (numeric patterns only)",
        "",
        "Partitioner",
    ),
    ConfigKey(
        "timezone",
        _S,
        "time-based partitioners and rotate.schedule.interval.ms: IANA zone of the paths",
        "",
        "Partitioner",
    ),
    ConfigKey(
        "timestamp.extractor",
        _S,
        "Record (Kafka record time), RecordField (a field of the value) or Wallclock",
        "Wallclock",
        "Partitioner",
    ),
    ConfigKey(
        "timestamp.field",
        _S,
        "RecordField: the field (dotted for nested) holding ms, "
        "a numeric string or an ISO-8601 date-time",
        "timestamp",
        "Partitioner",
    ),
    ConfigKey(
        "schema.generator.class", _I, "Hive schemas do not exist here", group="Schema", type="CLASS"
    ),
    ConfigKey(
        "hive.integration",
        _R,
        "no Hive integration",
        "false",
        "Hive",
        "BOOLEAN",
        allowed=("false",),
    ),
    ConfigKey("hive.*", _I, "no Hive integration", group="Hive"),
)
CONFIG_KEYS_BY_NAME = {entry.key: entry for entry in CONFIG_KEYS if not entry.is_prefix}
_PREFIXES = sorted(
    (entry for entry in CONFIG_KEYS if entry.is_prefix), key=lambda entry: -len(entry.key)
)


def lookup(key: str) -> ConfigKey | None:
    """The row of ``key``: its own, else the longest ``*`` prefix row that covers it."""
    entry = CONFIG_KEYS_BY_NAME.get(key)
    if entry is not None:
        return entry
    return next((row for row in _PREFIXES if key.startswith(row.key[:-1])), None)


def markdown_config_table() -> str:
    """The README table: key, status, default, meaning."""
    lines = ["| key | status | default | meaning |", "|---|---|---|---|"]
    for entry in CONFIG_KEYS:
        default = "(required)" if entry.required else (entry.default or "")
        cells = (f"`{entry.key}`", entry.status, f"`{default}`" if default else "", entry.meaning)
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"

"""The reference deployment's two connectors, built from ``.env`` as its register.sh does.

``kafka-s3-sink run`` archives with exactly these configs (contract section 2) run through
the same parser as any connector POSTed to the REST API, so the ``.env`` path and the Kafka
Connect path are one code path.  The settings of ours (time zone, path format, ...) map onto
the connector keys that mean the same thing.
"""

from __future__ import annotations

from ..store.spec import StoreSpec
from .variables import Settings

SINETSTREAM_CONVERTER = "jp.ad.sinet.sinetstream.connect.converters.SinetStreamConverter"
EXTRACT_FIELD = "org.apache.kafka.connect.transforms.ExtractField$Value"
BYTE_ARRAY_CAST = "jp.ad.sinet.sinetstream.connect.transforms.ByteArrayCast$Value"
LOSSLESS_FORMAT = "io.kafkas3sink.format.LosslessJsonLinesFormat"
MICROSECOND_TIMESTAMP = (
    "jp.ad.sinet.sinetstream.connect.transforms.MicrosecondTimestampConverter$Value"
)


def store_spec(settings: Settings) -> StoreSpec:
    """The service's own store: the default for connectors that name no other."""
    return StoreSpec(
        bucket=settings["S3_BUCKET_NAME"],
        region=settings["S3_REGION"],
        endpoint_url=settings["S3_ENDPOINT_URL"] or None,
        access_key_id=settings["AWS_ACCESS_KEY_ID"],
        secret_access_key=settings["AWS_SECRET_KEY"],
        local_root=settings.local_root,
        create_bucket=settings.create_bucket or settings.local_root is not None,
        sse_algorithm=settings["S3_SSE_ALGORITHM"],
        sse_kms_key_id=settings["S3_SSE_KMS_KEY_ID"],
        sse_customer_key=settings["S3_SSE_CUSTOMER_KEY"],
        proxy_url=settings["S3_PROXY_URL"],
        proxy_user=settings["S3_PROXY_USER"],
        proxy_password=settings["S3_PROXY_PASSWORD"],
        ca_file=settings["S3_CA_FILE"],
    )


def _common(settings: Settings) -> dict[str, str]:
    config = {
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "value.converter": SINETSTREAM_CONVERTER,
        "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "tasks.max": "1",
        "flush.size": "1",
        "partitioner.class": "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
        "path.format": settings["PATH_FORMAT"],
        "partition.duration.ms": str(settings["PARTITION_DURATION_MS"]),
        "timestamp.extractor": "Record",
        "locale": "C",
        "timezone": settings["TIMEZONE"],
        "s3.region": settings["S3_REGION"],
        "s3.bucket.name": settings["S3_BUCKET_NAME"],
        "topics": settings["KAFKA_TOPIC"],
        "topics.dir": settings["TOPICS_DIR"],
        "format.bytearray.separator": settings["LINE_SEPARATOR"].decode("latin-1"),
        "errors.tolerance": settings["ERRORS_TOLERANCE"],
    }
    store_url = settings["S3_ENDPOINT_URL"] or settings["STORE_URL"]
    if store_url:
        config["store.url"] = store_url
    # The SINETStream config file is named, not copied: its password stays out of the
    # config topic, and the file is read when the connectors start.
    if settings["SINETSTREAM_CONFIG"]:
        config["value.converter.sinetstream.config.file"] = settings["SINETSTREAM_CONFIG"]
        if settings["SINETSTREAM_SERVICE"]:
            config["value.converter.sinetstream.service"] = settings["SINETSTREAM_SERVICE"]
    # What register.sh would write for these settings; the secrets (S3_SSE_CUSTOMER_KEY,
    # S3_PROXY_PASSWORD) stay out of the stored config and come from the service's store,
    # as AWS_SECRET_KEY does.
    for key, variable in _S3_TRANSPORT_KEYS.items():
        if settings[variable]:
            config[key] = settings[variable]
    return config


_S3_TRANSPORT_KEYS = {
    "s3.ssea.name": "S3_SSE_ALGORITHM",
    "s3.sse.kms.key.id": "S3_SSE_KMS_KEY_ID",
    "s3.proxy.url": "S3_PROXY_URL",
    "s3.proxy.user": "S3_PROXY_USER",
}


def reference_connector_configs(settings: Settings) -> dict[str, dict[str, str]]:
    """Connector name -> config, for the payload and the timestamp connector."""
    data = {
        **_common(settings),
        "transforms": "ExtractField,ByteArrayCast",
        "transforms.ExtractField.type": EXTRACT_FIELD,
        "transforms.ExtractField.field": "msg",
        "transforms.ByteArrayCast.type": BYTE_ARRAY_CAST,
        "format.bytearray.extension": settings["S3_OBJECT_EXTENSION"],
    }
    timestamp = {
        **_common(settings),
        "transforms": "Timestamp,ExtractField,ByteArrayCast",
        "transforms.Timestamp.type": MICROSECOND_TIMESTAMP,
        "transforms.Timestamp.field": "tstamp",
        "transforms.Timestamp.format": settings["TIMESTAMP_FORMAT"],
        "transforms.Timestamp.target.type": "string",
        "transforms.ExtractField.type": EXTRACT_FIELD,
        "transforms.ExtractField.field": "tstamp",
        "transforms.ByteArrayCast.type": BYTE_ARRAY_CAST,
        "format.bytearray.extension": settings["TIMESTAMP_EXTENSION"],
    }
    configs = {settings["DATA_CONNECTOR"]: data, settings["TIMESTAMP_CONNECTOR"]: timestamp}
    if settings["LOSSLESS_CONNECTOR"]:
        configs[settings["LOSSLESS_CONNECTOR"]] = lossless_connector_config(settings)
    return configs


def lossless_connector_config(settings: Settings) -> dict[str, str]:
    """The optional third connector: every record whole, in batches, in the same hour
    folders as the reference objects (docs/lossless-format.md)."""
    config = _common(settings)
    # The lossless format writes the record as it came: no converter, no separator.
    for key in [k for k in config if k.startswith("value.converter")]:
        del config[key]
    del config["format.bytearray.separator"]
    config.update(
        {
            "format.class": LOSSLESS_FORMAT,
            "flush.size": str(settings["LOSSLESS_FLUSH_SIZE"]),
            "rotate.schedule.interval.ms": str(settings["LOSSLESS_ROTATE_INTERVAL_MS"]),
        }
    )
    return config

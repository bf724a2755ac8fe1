"""Settings: ``.env`` + process environment -> one validated ``Settings`` object.

Every option is declared once in ``OPTIONS`` with its default and what it accepts; the
README's table is the same list.  A bad value fails start-up with one line naming the key,
what it holds and what it expects.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..pipeline.timeformat import DatePattern, PatternError
from .dotenv import read_dotenv
from .transport_values import (
    TransportHint,
    kafka_protocol,
    proxy_url,
    sasl_mechanism,
    sse_algorithm,
    sse_customer_key,
)


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names the key and the expected value."""


class Hint(ValueError):
    """A parse failure with a more precise reason than the option's ``expects`` alone
    (e.g. "the scheme is missing"); its text is appended to the one-line error."""


@dataclass(frozen=True)
class Option:
    key: str
    default: str | None  # None: required
    expects: str  # what a valid value looks like, for errors and the README
    help: str
    parse: Callable[[str], Any] = str
    secret: bool = False


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise ValueError
    return value


def _zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError from error
    return text


def _pattern(text: str) -> str:
    try:
        DatePattern(text)
    except PatternError as error:
        raise ValueError from error
    return text


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        lowered = text.strip().lower()
        if lowered not in choices:
            raise ValueError
        return lowered

    return parse


def _separator(text: str) -> bytes:
    # Written as in Kafka Connect's format.bytearray.separator: "\n" is a newline.
    return text.encode().decode("unicode_escape").encode("latin-1")


def brokers(text: str) -> str:
    """``host``, ``host:port`` or a comma-separated list; a bare host means port 9092."""
    out = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            raise ValueError
        host, sep, port = item.rpartition(":")
        if item.startswith("[") and item.endswith("]"):  # bare IPv6 literal
            host, sep, port = item, "", ""
        if not sep:
            out.append(f"{item}:9092")
        elif not host or not port.isdigit():
            raise ValueError
        else:
            out.append(item)
    return ",".join(out)


def _absolute_path(text: str) -> str:
    if not text.startswith("/") or text.endswith("/"):
        raise ValueError
    return text


def _store_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("file", "s3") or (parts.scheme == "file" and not parts.path):
        raise ValueError
    return text


def _http_url(text: str) -> str:
    """An S3 endpoint: http(s)://host[:port].  Without a scheme the object client would
    fail much later, deep in a traceback that names its own key (store.url), not ours."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        if "://" not in text:
            raise Hint(f"the scheme is missing (did you mean http://{text}?)")
        raise Hint(f"the scheme must be http or https, not {parts.scheme!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise Hint("the port is not a number") from None
    if not parts.hostname or parts.path.strip("/") or parts.query:
        raise Hint("give the server only, without a path (the bucket is S3_BUCKET_NAME)")
    return text


# Kafka's own rule for topic names (kafka.common.internals.Topic).
_TOPIC = re.compile(r"[a-zA-Z0-9._-]{1,249}")


def _topic(text: str) -> str:
    if not _TOPIC.fullmatch(text) or text in (".", ".."):
        raise Hint("Kafka topic names are 1-249 characters among a-z A-Z 0-9 . _ -")
    return text


def _bucket(text: str) -> str:
    # Loose on purpose (a local root accepts more than S3 does); what S3 refuses it says
    # at start-up, naming the bucket.
    if "/" in text or any(char.isspace() for char in text):
        raise Hint("a bucket name has no slash and no spaces")
    return text


def _names(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(","))
    if not all(names):
        raise ValueError
    return names


def _providers(text: str) -> tuple[str, ...]:
    providers = _names(text)
    unknown = [p for p in providers if p not in ("env", "file", "directory")]
    if unknown:
        raise Hint(f"unknown provider {unknown[0]!r}: env, file or directory")
    return providers


def _absolute_paths(text: str) -> tuple[str, ...]:
    paths = _names(text)
    if not all(path.startswith("/") for path in paths):
        raise Hint("every path is absolute")
    return paths


def _store_places(text: str) -> tuple[str, ...]:
    places = _names(text)
    for place in places:
        parts = urlsplit(place)
        if place == "s3":
            continue
        if parts.scheme == "file" and parts.path.startswith("/") and not parts.netloc:
            continue
        if parts.scheme in ("http", "https") and parts.hostname:
            continue
        raise ValueError
    return places


def _transport(parse: Callable[[str], str]) -> Callable[[str], str]:
    """A transport_values parser whose precise reason is kept in the error line."""

    def run(text: str) -> str:
        try:
            return parse(text)
        except TransportHint as error:
            raise Hint(str(error)) from None

    return run


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the port on this machine (a name other than
    localhost counts as not: what it resolves to may change)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


OPTIONS: tuple[Option, ...] = (
    # The reference deployment's .env (same names, meanings and defaults).
    Option(
        "BROKER_HOSTNAME",
        None,
        "host, host:port or a comma-separated list",
        "Kafka broker; a host without a port means port 9092",
        brokers,
    ),
    Option("KAFKA_TOPIC", None, "a topic name", "topic to archive", _topic),
    Option(
        "AWS_ACCESS_KEY_ID",
        "",
        "an access key id",
        "object store access key (MinIO root user); required for S3",
    ),
    Option(
        "AWS_SECRET_KEY",
        "",
        "a secret key",
        "object store secret key (note the name); required for S3",
        secret=True,
    ),
    Option(
        "S3_BUCKET_NAME",
        None,
        "a bucket name",
        "bucket (also the folder under a local root)",
        _bucket,
    ),
    Option("S3_REGION", "us-east-1", "an AWS region", "region of the bucket"),
    Option(
        "S3_ENDPOINT_URL",
        "",
        "http(s)://host:port",
        "S3-compatible endpoint (MinIO...), path-style; unset means AWS S3. "
        "A missing bucket is then created at start-up",
        _http_url,
    ),
    Option(
        "S3_CREATE_BUCKET",
        "",
        "true or false",
        "create a missing bucket at start-up; default: true when S3_ENDPOINT_URL is set "
        "(the MinIO profile), false on AWS",
        _choice("true", "false"),
    ),
    Option(
        "S3_OBJECT_EXTENSION",
        ".bin",
        "an extension such as .bin, .jpeg, .json",
        "extension of payload objects",
    ),
    Option("REST_PORT", "8083", "a TCP port", "Kafka Connect REST port", _port),
    # Ours: TLS and SASL to Kafka, for every Kafka client of the service (transport.py).
    Option(
        "KAFKA_SECURITY_PROTOCOL",
        "PLAINTEXT",
        "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL",
        "how every Kafka client of the service connects (security.protocol); SASL_* need "
        "KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD",
        _transport(kafka_protocol),
    ),
    Option(
        "KAFKA_SASL_MECHANISM",
        "",
        "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
        "SASL mechanism (sasl.mechanism), with SASL_PLAINTEXT or SASL_SSL",
        _transport(sasl_mechanism),
    ),
    Option("KAFKA_SASL_USERNAME", "", "a user name", "SASL user (sasl.username)"),
    Option(
        "KAFKA_SASL_PASSWORD",
        "",
        "a password",
        "SASL password (sasl.password); never logged, [hidden] wherever shown",
        secret=True,
    ),
    Option(
        "KAFKA_TLS_CA_FILE",
        "",
        "/absolute/path/of/a/PEM/file",
        "CA certificate(s) the broker's certificate is checked against (ssl.ca.location), "
        "with SSL or SASL_SSL; unset: the system's CAs",
        _absolute_path,
    ),
    Option(
        "KAFKA_TLS_CERT_FILE",
        "",
        "/absolute/path/of/a/PEM/file",
        "client certificate for brokers that require one (ssl.certificate.location); needs "
        "KAFKA_TLS_KEY_FILE",
        _absolute_path,
    ),
    Option(
        "KAFKA_TLS_KEY_FILE",
        "",
        "/absolute/path/of/a/PEM/file",
        "private key of KAFKA_TLS_CERT_FILE (ssl.key.location)",
        _absolute_path,
    ),
    Option(
        "KAFKA_TLS_KEY_PASSWORD",
        "",
        "a password",
        "password of an encrypted KAFKA_TLS_KEY_FILE (ssl.key.password)",
        secret=True,
    ),
    # Ours: encryption at rest and the path to S3, as the reference connectors' s3.* keys.
    Option(
        "S3_SSE_ALGORITHM",
        "",
        "AES256 or aws:kms",
        "server-side encryption of every object (s3.ssea.name): AES256 (SSE-S3, or SSE-C "
        "with S3_SSE_CUSTOMER_KEY) or aws:kms (SSE-KMS); unset: the bucket's default",
        _transport(sse_algorithm),
    ),
    Option(
        "S3_SSE_KMS_KEY_ID",
        "",
        "a KMS key id or ARN",
        "KMS key of S3_SSE_ALGORITHM=aws:kms (s3.sse.kms.key.id); unset: the account's "
        "aws/s3 key",
    ),
    Option(
        "S3_SSE_CUSTOMER_KEY",
        "",
        "base64 of 32 bytes (openssl rand -base64 32)",
        "SSE-C key, with S3_SSE_ALGORITHM=AES256 (s3.sse.customer.key); S3 keeps no copy: "
        "without it the objects cannot be read. Never logged, not stored in the config topic",
        _transport(sse_customer_key),
        secret=True,
    ),
    Option(
        "S3_PROXY_URL",
        "",
        "http(s)://host:port",
        "HTTP proxy for every request to S3 (s3.proxy.url); HTTPS endpoints are tunnelled "
        "through it (CONNECT)",
        _transport(proxy_url),
    ),
    Option("S3_PROXY_USER", "", "a user name", "proxy user (s3.proxy.user), basic auth"),
    Option(
        "S3_PROXY_PASSWORD",
        "",
        "a password",
        "proxy password (s3.proxy.password); never logged, not stored in the config topic",
        secret=True,
    ),
    Option(
        "S3_CA_FILE",
        "",
        "/absolute/path/of/a/PEM/file",
        "CA certificate(s) trusted for HTTPS to S3 (and to an https:// proxy) besides the "
        "system's: a private MinIO's CA",
        _absolute_path,
    ),
    # Ours: the Kafka Connect side.
    Option(
        "REST_HOST",
        "127.0.0.1",
        "an address to bind",
        "address the REST API listens on: loopback only by default (Kafka Connect listens on "
        "all interfaces); any other address needs REST_BASIC_AUTH_FILE or "
        "REST_BEARER_TOKEN_FILE, or REST_ALLOW_UNAUTHENTICATED=true",
    ),
    Option(
        "REST_BASIC_AUTH_FILE",
        "",
        "/absolute/path/of/a/properties/file",
        "require HTTP basic auth, as Kafka Connect's BasicAuthSecurityRestExtension: one "
        "`user: password` (or `user=password`) line per user",
        _absolute_path,
    ),
    Option(
        "REST_BEARER_TOKEN_FILE",
        "",
        "/absolute/path/of/a/file",
        "require `Authorization: Bearer <token>`, the token being this file's content "
        "(with basic auth too: either is accepted)",
        _absolute_path,
    ),
    Option(
        "REST_ALLOW_UNAUTHENTICATED",
        "false",
        "true or false",
        "true: serve the REST API without credentials on a non-loopback REST_HOST (anyone "
        "who reaches the port can then run connectors)",
        _choice("true", "false"),
    ),
    Option(
        "REST_TLS_CERT_FILE",
        "",
        "/absolute/path/of/a/PEM/file",
        "serve HTTPS with this certificate (chain); needs REST_TLS_KEY_FILE",
        _absolute_path,
    ),
    Option(
        "REST_TLS_KEY_FILE",
        "",
        "/absolute/path/of/a/PEM/file",
        "the private key of REST_TLS_CERT_FILE",
        _absolute_path,
    ),
    Option(
        "REST_ALLOWED_HOSTS",
        "",
        "comma-separated host names, or *",
        "names the API may be called by (the Host header, against DNS rebinding) besides IP "
        "addresses, localhost and this machine's names; * accepts any",
        _names,
    ),
    Option(
        "CONNECTOR_STORES",
        "",
        "comma-separated file:///roots, http(s)://endpoints or s3 (AWS)",
        "where connectors may write besides the .env store: a file:// root allows every "
        "folder below it; unset: the .env store only",
        _store_places,
    ),
    Option(
        "CONNECTOR_BUCKETS",
        "",
        "comma-separated bucket names, or *",
        "buckets connectors may write to besides S3_BUCKET_NAME; * allows any",
        _names,
    ),
    Option(
        "CONFIG_ENCRYPTION_KEY_FILE",
        "",
        "/absolute/path/of/a/file",
        "Fernet key (`kafka-s3-sink keygen` writes one) encrypting the secret values of "
        "connector configs in the config topic or file; the same on every worker. Unset: a "
        "secret value given through the REST API is refused",
        _absolute_path,
    ),
    Option(
        "CONFIG_PROVIDERS",
        "",
        "comma-separated: env, file, directory",
        "config providers connector configs may refer to, as ${env:VAR}, "
        "${file:/path/props:key}, ${directory:/path:file} (Kafka Connect's config.providers); "
        "resolved when a config is parsed, stored and shown unresolved",
        _providers,
    ),
    Option(
        "CONFIG_PROVIDERS_ALLOWED_PATHS",
        "",
        "comma-separated absolute paths",
        "folders the file and directory providers may read below (Kafka Connect's "
        "allowed.paths); unset: none",
        _absolute_paths,
    ),
    Option(
        "REST_MASK_SECRETS",
        "true",
        "true or false",
        "show secret values as [hidden] in REST answers; false: shown as stored, for tools "
        "that need an exact round trip (a ${...} reference is always shown as it is)",
        _choice("true", "false"),
    ),
    Option(
        "REGISTER_DEFAULTS",
        "true",
        "true or false",
        "run the two reference connectors from this .env; false: start with only the "
        "connectors stored in the config topic and wait for POSTs, as a Kafka Connect worker",
        _choice("true", "false"),
    ),
    Option(
        "CONFIG_STORAGE_TOPIC",
        "kafka-s3-sink-configs",
        "a topic name",
        "compacted topic keeping connector configs and states (as config.storage.topic)",
        _topic,
    ),
    Option(
        "CONFIG_STORAGE_FILE",
        "",
        "/absolute/path/of/a/file.json",
        "standalone mode: keep connector configs and states in this local file instead of "
        "the config topic (one service per file)",
        _absolute_path,
    ),
    # Ours: where and how objects are written.
    Option(
        "STORE_URL",
        "",
        "file:///absolute/path",
        "write to a local directory instead of S3: objects land in <path>/<bucket>/<key>, "
        "as in MinIO's data/ folder",
        _store_url,
    ),
    Option("TIMEZONE", "Asia/Tokyo", "an IANA time zone", "zone of the hour path", _zone),
    Option(
        "PATH_FORMAT",
        "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH",
        "a Joda-Time pattern",
        "time part of object keys",
        _pattern,
    ),
    Option(
        "PARTITION_DURATION_MS",
        "3600000",
        "a positive integer",
        "time span of one path (ms)",
        _positive_int,
    ),
    Option("TOPICS_DIR", "topics", "a key prefix", "first part of every object key"),
    Option(
        "LINE_SEPARATOR",
        "\\n",
        "an escaped string such as \\n or empty",
        "appended to each payload and timestamp body",
        _separator,
    ),
    Option(
        "TIMESTAMP_EXTENSION", "-timestamp.txt", "an extension", "extension of timestamp objects"
    ),
    Option(
        "TIMESTAMP_FORMAT",
        "yyyy-MM-dd'T'HH:mm:ss.SSS",
        "a Joda-Time pattern",
        "format of the timestamp objects' body (always UTC)",
        _pattern,
    ),
    Option(
        "DATA_CONNECTOR",
        "s3-sink-data",
        "a name",
        "name of the payload connector; its group is connect-<name>",
    ),
    Option(
        "TIMESTAMP_CONNECTOR",
        "s3-sink-timestamp",
        "a name",
        "name of the timestamp connector; its group is connect-<name>",
    ),
    Option(
        "LOSSLESS_CONNECTOR",
        "",
        "a name, or empty",
        "name of a third connector archiving every record whole (value, key, headers, "
        "record timestamp) in the lossless format for `kafka-s3-sink restore`; empty: none",
    ),
    Option(
        "LOSSLESS_FLUSH_SIZE",
        "1000",
        "a positive integer",
        "records per lossless object at most (its flush.size)",
        _positive_int,
    ),
    Option(
        "LOSSLESS_ROTATE_INTERVAL_MS",
        "60000",
        "a positive integer (milliseconds)",
        "a lossless object is closed this long after its first record at the latest "
        "(rotate.schedule.interval.ms), so a slow stream is archived too",
        _positive_int,
    ),
    Option(
        "SINETSTREAM_CONFIG",
        "",
        "/absolute/path/of/a/.sinetstream_config.yml",
        "the SINETStream config file of the writers' service: its data_encryption, crypto "
        "(password, key versions) and data_compression settings decrypt and decompress "
        "messages; read when the connectors start, only its path is stored",
        _absolute_path,
    ),
    Option(
        "SINETSTREAM_SERVICE",
        "",
        "a service name",
        "the service of SINETSTREAM_CONFIG to read; unset: the file's only service",
    ),
    Option(
        "ERRORS_TOLERANCE",
        "all",
        "all or none",
        "all: undecodable messages go to the dead-letter prefix and archiving goes on; "
        "none: the first one fails the connector's task (FAILED in the REST status), "
        "as in Kafka Connect",
        _choice("all", "none"),
    ),
    Option(
        "DEAD_LETTER_PREFIX",
        "dead-letter",
        "a key prefix",
        "where undecodable messages are kept raw, with a .reason.json beside each",
    ),
    Option(
        "MAX_INFLIGHT_OBJECTS",
        "128",
        "a positive integer",
        "uploads in flight at once, per connector",
        _positive_int,
    ),
    Option(
        "MAX_INFLIGHT_BYTES",
        "8388608",
        "a positive integer (bytes)",
        "bytes of uploads in flight at once, per connector",
        _positive_int,
    ),
    Option(
        "COMMIT_INTERVAL_S",
        "1",
        "a positive number of seconds",
        "how often stored offsets are committed to Kafka",
        _positive_float,
    ),
    Option(
        "PROGRESS_INTERVAL_S",
        "30",
        "a positive number of seconds",
        "how often a progress line is logged",
        _positive_float,
    ),
    Option(
        "SHUTDOWN_TIMEOUT_S",
        "30",
        "a positive number of seconds",
        "on SIGTERM, how long in-flight uploads may take; the process exits at the latest "
        "10 s after that, whatever the store or broker do (what is not stored is not "
        "committed, and is read again at the next start)",
        _positive_float,
    ),
    Option(
        "STALL_TIMEOUT_S",
        "120",
        "a positive number of seconds",
        "a running task that stores nothing for this long while records wait is reported "
        "as stalled (in its REST status trace and the log)",
        _positive_float,
    ),
    Option(
        "STARTUP_WAIT_S",
        "",
        "a positive number of seconds",
        "how long start-up waits for the broker, the topic and the object store to become "
        "reachable (a line every few seconds says which); unset: forever, as Kafka Connect. "
        "Wrong settings and rejected credentials stop at once",
        _positive_float,
    ),
    Option(
        "LOG_LEVEL",
        "INFO",
        "DEBUG, INFO, WARNING or ERROR",
        "log verbosity",
        _choice("debug", "info", "warning", "error"),
    ),
    Option(
        "LOG_FORMAT",
        "plain",
        "plain or json",
        "plain: one readable line per event; json: one JSON object per line (time, level, "
        "logger, message) for a log collector",
        _choice("plain", "json"),
    ),
)
OPTIONS_BY_KEY = {option.key: option for option in OPTIONS}


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Any]
    # Said once logging is set up: variables that look like ours but are not (typos).
    warnings: tuple[str, ...] = ()

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def create_bucket(self) -> bool:
        explicit = self.values["S3_CREATE_BUCKET"]
        return explicit == "true" if explicit else bool(self.values["S3_ENDPOINT_URL"])

    @property
    def local_root(self) -> Path | None:
        url = self.values["STORE_URL"]
        return Path(urlsplit(url).path) if url.startswith("file:") else None


def parse_settings(raw: Mapping[str, str]) -> Settings:
    """Validate ``raw`` (file + environment); raise ConfigError for the first bad key."""
    values: dict[str, Any] = {}
    for option in OPTIONS:
        text = raw.get(option.key)
        # An empty value means "default", except for the separator where empty is a choice.
        if text is None or (text == "" and option.key != "LINE_SEPARATOR"):
            if option.default is None:
                raise ConfigError(
                    f"{option.key} is not set: expected {option.expects} ({option.help})"
                )
            text = option.default
        if text == "" and option.parse is not _separator:
            values[option.key] = ""  # an optional setting left unset
            continue
        try:
            values[option.key] = option.parse(text)
        except ValueError as error:
            shown = "***" if option.secret else repr(text)
            why = f": {error}" if isinstance(error, Hint) else ""
            raise ConfigError(
                f"{option.key}={shown} is not valid: expected {option.expects}{why}"
            ) from None
    settings = Settings(values)
    if settings.local_root is None:
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_KEY"):
            if not values[key]:
                raise ConfigError(
                    f"{key} is not set: the S3 store needs it (or set STORE_URL=file:///path "
                    "to write to a local directory)"
                )
    if values["SINETSTREAM_SERVICE"] and not values["SINETSTREAM_CONFIG"]:
        raise ConfigError("SINETSTREAM_SERVICE is a service of SINETSTREAM_CONFIG: set that too")
    if values["DATA_CONNECTOR"] == values["TIMESTAMP_CONNECTOR"]:
        raise ConfigError("DATA_CONNECTOR and TIMESTAMP_CONNECTOR must differ: each is a group")
    if values["LOSSLESS_CONNECTOR"] in (values["DATA_CONNECTOR"], values["TIMESTAMP_CONNECTOR"]):
        raise ConfigError(
            "LOSSLESS_CONNECTOR must differ from DATA_CONNECTOR and TIMESTAMP_CONNECTOR: each "
            "is a group"
        )
    _check_rest_access(values)
    return settings


def _check_rest_access(values: Mapping[str, Any]) -> None:
    """A REST API reachable from other machines needs credentials, unless the operator
    says in so many words that it may go without."""
    if bool(values["REST_TLS_CERT_FILE"]) != bool(values["REST_TLS_KEY_FILE"]):
        raise ConfigError("REST_TLS_CERT_FILE and REST_TLS_KEY_FILE go together: set both")
    credentials = values["REST_BASIC_AUTH_FILE"] or values["REST_BEARER_TOKEN_FILE"]
    if (
        not is_loopback(values["REST_HOST"])
        and not credentials
        and values["REST_ALLOW_UNAUTHENTICATED"] != "true"
    ):
        raise ConfigError(
            f"REST_HOST={values['REST_HOST']} lets other machines reach the REST API, which "
            "can start connectors: set REST_BASIC_AUTH_FILE or REST_BEARER_TOKEN_FILE, or "
            "REST_ALLOW_UNAUTHENTICATED=true to serve it without credentials anyway, or "
            "REST_HOST=127.0.0.1"
        )


def load_settings(env_file: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``env_file`` (``.env`` in the current directory by default) under ``environ``.

    As with docker compose, the process environment wins over the file, and a missing
    default ``.env`` is fine (everything may come from the environment); but when a required
    variable is then missing, the error says that no ``.env`` was found, and where.
    """
    environ = os.environ if environ is None else environ
    path = env_file if env_file is not None else Path(".env")
    if env_file is not None and not path.is_file():
        raise ConfigError(f"--env-file {path} does not exist")
    found = path.is_file()
    from_file = read_dotenv(path, environ) if found else {}
    warnings = unknown_variable_warnings(from_file, path) + unknown_variable_warnings(
        environ, None
    )
    try:
        settings = parse_settings(
            {**from_file, **{k: v for k, v in environ.items() if k in OPTIONS_BY_KEY}}
        )
    except ConfigError as error:
        if not found and "is not set" in str(error):
            raise ConfigError(
                f"no .env file found at {path.resolve()} (run from the folder holding it, "
                f"or give --env-file), and the environment does not set it either: {error}"
            ) from None
        missing = str(error).split(" ", 1)[0]
        for warning in warnings:  # a misspelt name of the missing one: say so in the line
            if warning.endswith(f"did you mean {missing}?"):
                raise ConfigError(f"{error} ({warning})") from None
        raise
    return Settings(settings.values, tuple(warnings))


# Prefixes of our variables: an unknown name with one of them is most likely a typo.
_OUR_PREFIXES = (
    "S3_",
    "AWS_",
    "KAFKA_",
    "BROKER_",
    "REST_",
    "CONFIG_",
    "CONNECTOR_",
    "STORE_",
    "LOG_",
    "TIMESTAMP_",
)
# Variables of the reference deployment's tools, sometimes kept in the same .env.
_KNOWN_ELSEWHERE = frozenset(
    {"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION"}
)


def unknown_variable_warnings(variables: Mapping[str, str], source: Path | None) -> list[str]:
    """One warning per variable that looks like one of ours but is not, naming the likely
    intended one.  Unknown names are no error: a .env often holds other tools' variables.

    ``source`` None: the process environment, where only names close to ours are reported
    (a shell has many AWS_ and KAFKA_ variables of its own)."""
    out = []
    for name in sorted(variables):
        if name in OPTIONS_BY_KEY:
            continue
        cutoff = 0.75 if source is not None else 0.8  # S3_BUCKET ~ S3_BUCKET_NAME: 0.78
        close = difflib.get_close_matches(name, OPTIONS_BY_KEY, n=1, cutoff=cutoff)
        ours = name.startswith(_OUR_PREFIXES)
        if source is None and (not close or not ours or name in _KNOWN_ELSEWHERE):
            continue  # e.g. SSL_CERT_FILE: close to REST_TLS_CERT_FILE, but another tool's
        if not close and not ours:
            continue
        where = f"{source}" if source is not None else "the environment"
        if name == "AWS_SECRET_ACCESS_KEY" and "AWS_SECRET_KEY" not in variables:
            close = ["AWS_SECRET_KEY"]  # the reference's own spelling, a frequent slip
        elif name in _KNOWN_ELSEWHERE:
            continue
        guess = f"; did you mean {close[0]}?" if close else ""
        out.append(f"{name} in {where} is not a setting of kafka-s3-sink and is ignored{guess}")
    return out


def markdown_table() -> str:
    """The settings table of the README, from ``OPTIONS``.

    Printed by ``python -m kafka_s3_sink.settings.variables``.
    """
    rows = ["| variable | default | accepts | meaning |", "|---|---|---|---|"]
    for option in OPTIONS:
        if option.default is None:
            default = "**required**"
        elif option.default == "":
            default = "unset"
        else:
            default = f"`{option.default}`"
        rows.append(f"| `{option.key}` | {default} | {option.expects} | {option.help} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())

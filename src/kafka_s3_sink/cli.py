"""The ``kafka-s3-sink`` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from confluent_kafka import KafkaException

from . import __version__
from .archive import command as archive_command
from .connect.state.config_topic import ConfigStoreError
from .engine.kafka_io import BrokerError, StartupTimeout
from .logformat import setup_logging
from .settings.dotenv import DotEnvError
from .settings.variables import ConfigError, Settings, load_settings
from .store import StoreError

log = logging.getLogger("kafka_s3_sink")

EXIT_CONFIG = 2
EXIT_FAILED = 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kafka-s3-sink",
        description="Archive every message of a Kafka topic into S3, MinIO or a local directory.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="archive KAFKA_TOPIC until SIGINT/SIGTERM")
    run.add_argument("--env-file", type=Path, help="settings file (default: ./.env)")
    demo = commands.add_parser(
        "demo", help="start a local broker, send sample messages, archive them to a folder"
    )
    demo.add_argument(
        "--dir",
        type=Path,
        default=Path("kafka-s3-sink-demo"),
        help="folder for the broker, the .env and the archive",
    )
    demo.add_argument("--messages", type=int, default=20)
    health = commands.add_parser(
        "health", help="exit 0 if the running service's GET /health answers 200 (HEALTHCHECK)"
    )
    health.add_argument("--env-file", type=Path, help="settings file (default: ./.env)")
    keygen = commands.add_parser(
        "keygen", help="write a new CONFIG_ENCRYPTION_KEY_FILE (readable by its owner only)"
    )
    keygen.add_argument("path", type=Path)
    archive_command.add_parsers(commands)
    args = parser.parse_args(argv)
    if args.command == "restore":
        return archive_command.run_restore(args, _use_kafka_security)
    if args.command == "audit":
        return archive_command.run_audit(args, _use_kafka_security)
    if args.command == "keygen":
        return _keygen(args.path)
    if args.command == "health":
        return _health(args.env_file)
    if args.command == "demo":
        from .demo import run_demo

        setup_logging("INFO")
        return run_demo(args.dir, args.messages)
    return _run(args.env_file)


def _use_kafka_security(settings: Settings) -> None:
    """TLS and SASL of .env for every Kafka client restore and audit make, as for `run`."""
    from .engine.kafka_io import use_security
    from .transport import kafka_security

    use_security(kafka_security(settings))


def _run(env_file: Path | None) -> int:
    try:
        settings = load_settings(env_file)
    except (ConfigError, DotEnvError) as error:
        print(f"kafka-s3-sink: configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(settings["LOG_LEVEL"], settings["LOG_FORMAT"])
    for warning in settings.warnings:
        log.warning("%s", warning)
    from .service import run_service

    try:
        asyncio.run(run_service(settings))
    except (StoreError, BrokerError, ConfigStoreError, StartupTimeout) as error:
        log.error("cannot start: %s", error)
        return EXIT_FAILED
    except ConfigError as error:  # e.g. a credentials file that cannot be read
        log.error("cannot start: configuration error: %s", error)
        return EXIT_CONFIG
    except OSError as error:  # e.g. REST_PORT already taken
        log.error("cannot start: %s", error)
        return EXIT_FAILED
    except KafkaException as error:  # e.g. the config topic cannot be created or read
        log.error("Kafka refused a start-up request: %s", error.args[0].str())
        return EXIT_FAILED
    return 0


def _health(env_file: Path | None) -> int:
    from .healthcheck import check_health

    try:
        healthy, line = check_health(load_settings(env_file))
    except (ConfigError, DotEnvError) as error:
        print(f"kafka-s3-sink: configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    print(line)
    return 0 if healthy else EXIT_FAILED


def _keygen(path: Path) -> int:
    from .connect.state.secret_box import write_key

    try:
        write_key(path)
    except OSError as error:
        print(f"kafka-s3-sink: cannot write {path}: {error.strerror or error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"wrote {path}: set CONFIG_ENCRYPTION_KEY_FILE={path.resolve()} on every worker")
    return 0


if __name__ == "__main__":
    sys.exit(main())

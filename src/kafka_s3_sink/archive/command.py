"""The ``restore`` and ``audit`` subcommands: their arguments, and the service's settings
turned into the archive's store, layout and broker (the same ``.env`` as ``run``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from confluent_kafka import Consumer, KafkaException, TopicPartition

from ..engine.kafka_io import client_config
from ..settings.dotenv import DotEnvError
from ..settings.reference_connectors import store_spec
from ..settings.variables import ConfigError, Settings, load_settings
from ..store.base import StoreError
from ..store.factory import open_store
from .audit import TopicState, audit, print_report
from .checkpoint import CheckpointError
from .inventory import Selection
from .layout import Layout
from .restore import RestoreOptions, restore
from .target import TargetError

EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130

# What the service does with its settings before any Kafka client is made (TLS and SASL:
# the wiring's transport.py), so that restore and audit reach the cluster as `run` does.
Prepare = Callable[[Settings], None] | None


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    r = commands.add_parser(
        "restore", help="produce the archived messages back to a Kafka topic (resumable)"
    )
    _common(r)
    r.add_argument("--to-topic", help="topic to produce to (default: the archived topic)")
    r.add_argument("--partitions", help="comma-separated partition numbers (default: all)")
    r.add_argument("--from", dest="start", help="first record time, ISO 8601 (zone: TIMEZONE)")
    r.add_argument("--to", dest="end", help="record time to stop before, ISO 8601")
    r.add_argument("--offsets", help="inclusive source offset range: A-B, A- or -B")
    r.add_argument("--dry-run", action="store_true", help="print what would be sent, send nothing")
    r.add_argument(
        "--checkpoint",
        type=Path,
        help="checkpoint file (default: ./restore-<to-topic>.checkpoint.json)",
    )
    r.add_argument("--fresh", action="store_true", help="start over, replacing another checkpoint")
    r.add_argument(
        "--message-format",
        type=int,
        choices=(2, 3),
        default=3,
        help="SINETStream format of messages rebuilt from the reference layout (default 3)",
    )
    a = commands.add_parser(
        "audit", help="check the archive of a topic for missing, duplicated or bad objects"
    )
    _common(a)
    a.add_argument(
        "--quick", action="store_true", help="list only: do not read reference object bodies"
    )


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env-file", type=Path, help="settings file (default: ./.env)")
    parser.add_argument("--topic", help="archived topic (default: KAFKA_TOPIC)")
    parser.add_argument(
        "--layout",
        choices=("auto", "reference", "lossless"),
        default="auto",
        help="which objects to read (auto: lossless where present, else reference)",
    )


def _layout(settings: Settings, topic: str) -> Layout:
    return Layout(
        settings["TOPICS_DIR"],
        topic,
        settings["S3_OBJECT_EXTENSION"],
        settings["TIMESTAMP_EXTENSION"],
        settings["TIMEZONE"],
    )


def _time(text: str | None, zone: str) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


def selection_of(args: argparse.Namespace, zone: str) -> Selection:
    """The selection arguments; ValueError with what is wrong."""
    partitions = None
    if args.partitions:
        partitions = frozenset(int(p) for p in args.partitions.split(",") if p.strip())
    first = last = None
    if args.offsets:
        low, dash, high = args.offsets.partition("-")
        if not dash:
            raise ValueError(f"--offsets {args.offsets!r}: expected A-B, A- or -B")
        first = int(low) if low.strip() else None
        last = int(high) if high.strip() else None
    return Selection(partitions, _time(args.start, zone), _time(args.end, zone), first, last)


def run_restore(args: argparse.Namespace, prepare: Prepare = None) -> int:
    try:
        settings = load_settings(args.env_file)
        if prepare is not None:
            prepare(settings)
        topic = args.topic or settings["KAFKA_TOPIC"]
        selection = selection_of(args, settings["TIMEZONE"])
    except (ConfigError, DotEnvError, ValueError) as error:
        print(f"kafka-s3-sink: configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    options = RestoreOptions(
        to_topic=args.to_topic or topic,
        layout=args.layout,
        selection=selection,
        dry_run=args.dry_run,
        checkpoint=args.checkpoint,
        message_format=args.message_format,
        fresh=args.fresh,
    )
    if options.to_topic == topic and not options.dry_run:
        # Allowed (the topic may have been lost and re-created), but worth a word.
        print(
            f"restore: writing into {topic!r}, the archived topic itself: the running "
            "connectors will archive these records again, under new offsets",
            file=sys.stderr,
        )
    store = open_store(store_spec(settings))

    async def go() -> int:
        try:
            report = await restore(
                store,
                settings["BROKER_HOSTNAME"],
                _layout(settings, topic),
                options,
                separator=settings["LINE_SEPARATOR"],
                timestamp_format=settings["TIMESTAMP_FORMAT"],
                out=sys.stdout,
            )
        finally:
            await store.close()
        if not options.dry_run:
            print(
                f"restore: {report.sent} messages sent to {options.to_topic} "
                f"({report.value_bytes} bytes, {report.layout} layout) in "
                f"{report.seconds:.1f} s, {report.rate:.0f} msg/s; "
                f"{report.already_there} found already there; "
                f"{len(report.bad)} bad objects skipped"
            )
        return 0 if report.complete else EXIT_FAILED

    try:
        return asyncio.run(go())
    except KeyboardInterrupt:
        print("restore: interrupted; run the same command again to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (TargetError, CheckpointError, StoreError) as error:
        print(f"restore: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KafkaException as error:
        print(f"restore: Kafka: {error.args[0].str()}", file=sys.stderr)
        return EXIT_FAILED


def topic_states(
    bootstrap: str, topic: str, groups: list[str]
) -> dict[int, TopicState] | None:
    """The topic's retained range and the connectors' committed offsets; None when the
    topic is gone or the broker does not answer (the audit then checks the archive alone)."""
    try:
        consumer = Consumer({**client_config(bootstrap), "group.id": groups[0], "log_level": 0})
    except KafkaException:
        return None
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or metadata.error is not None:
            return None
        partitions = sorted(metadata.partitions)
        committed: dict[int, int] = {}
        for group in groups:
            reader = Consumer({**client_config(bootstrap), "group.id": group, "log_level": 0})
            try:
                found = reader.committed([TopicPartition(topic, p) for p in partitions], 10)
            finally:
                reader.close()
            for tp in found:
                if tp.offset >= 0:
                    committed[tp.partition] = min(committed.get(tp.partition, tp.offset), tp.offset)
        states = {}
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            states[p] = TopicState(low, high, committed.get(p))
        return states
    except KafkaException:
        return None
    finally:
        consumer.close()


def run_audit(args: argparse.Namespace, prepare: Prepare = None) -> int:
    try:
        settings = load_settings(args.env_file)
        if prepare is not None:
            prepare(settings)
    except (ConfigError, DotEnvError) as error:
        print(f"kafka-s3-sink: configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    topic = args.topic or settings["KAFKA_TOPIC"]
    groups = [f"connect-{settings['DATA_CONNECTOR']}", f"connect-{settings['TIMESTAMP_CONNECTOR']}"]
    store = open_store(store_spec(settings))
    states = topic_states(settings["BROKER_HOSTNAME"], topic, groups)
    if states is None:
        print(f"audit: topic {topic!r} not reachable: checking the archive alone", file=sys.stderr)

    async def go() -> int:
        try:
            report = await audit(
                store,
                _layout(settings, topic),
                dead_letter_prefix=settings["DEAD_LETTER_PREFIX"],
                separator=settings["LINE_SEPARATOR"],
                timestamp_format=settings["TIMESTAMP_FORMAT"],
                topic_state=(lambda _p: states) if states is not None else None,
                read_bodies=not args.quick,
                layout_choice=args.layout,
            )
        finally:
            await store.close()
        print_report(report, topic, sys.stdout)
        return 0 if report.complete else EXIT_FAILED

    try:
        return asyncio.run(go())
    except StoreError as error:
        print(f"audit: {error}", file=sys.stderr)
        return EXIT_FAILED

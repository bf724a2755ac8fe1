"""Topics no connector reads or writes: Kafka's own and this service's config topic.

``__consumer_offsets``, ``__transaction_state`` and every other ``__`` topic belong to the
broker; the config topic holds every connector's config.  A connector archiving them would
copy other groups' offsets and connector configs into the store, so ``topics`` may not name
them, and every consumer of a connector gets librdkafka's ``topic.blacklist`` of them: a
``topics.regex`` subscription then cannot match them whatever its pattern says (librdkafka
treats a blacklisted topic as if it did not exist).  The pattern itself cannot be narrowed:
librdkafka's regular expressions have no lookahead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

INTERNAL_PREFIX = "__"


def is_internal_topic(topic: str, reserved: Iterable[str] = ()) -> bool:
    return topic.startswith(INTERNAL_PREFIX) or topic in set(reserved)


def topic_blacklist(reserved: Iterable[str] = ()) -> str:
    """librdkafka's ``topic.blacklist``: comma-separated patterns of the internal topics."""
    patterns = [f"^{INTERNAL_PREFIX}.*$"]
    patterns += [f"^{_escape(topic)}$" for topic in sorted(set(reserved))]
    return ",".join(patterns)


def _escape(topic: str) -> str:
    # Topic names hold letters, digits, '.', '_' and '-': only '.' means something to a
    # regular expression, and librdkafka's engine reads "\." as a literal dot.
    return re.sub(r"([.])", r"\\\1", topic)

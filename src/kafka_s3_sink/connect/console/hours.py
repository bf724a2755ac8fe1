"""Records per hour of a topic, from its time folders (``year=/month=/day=/hour=``).

Each hour folder is listed whole through the archive index (so a later click on the hour
is answered from the same listing); an hour that ended long ago is kept for the index's
settled TTL, since nothing new should arrive in it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from .archive import ArchiveIndex
from .layout import day_in_range, group_records, time_part

# Records of an hour arrive during it and shortly after (producer and consumer lag); an hour
# that ended this long ago is counted from a listing kept for the index's settled TTL.
SETTLED_AFTER = timedelta(hours=2)


async def hour_counts(
    index: ArchiveIndex,
    topic_folder: str,
    first: date,
    last: date,
    *,
    zone: ZoneInfo,
    timestamp_extension: str,
    fresh: bool = False,
) -> list[dict]:
    """One entry per hour folder between ``first`` and ``last`` (days, both included)."""
    hours = []
    for year_folder, year in await _parts(index, topic_folder, "year", fresh):
        if not first.year <= year <= last.year:
            continue
        for month_folder, month in await _parts(index, year_folder, "month", fresh):
            for day_folder, day in await _parts(index, month_folder, "day", fresh):
                if not day_in_range(year, month, day, first, last):
                    continue
                for hour_folder, hour in await _parts(index, day_folder, "hour", fresh):
                    settled = ended_long_ago(year, month, day, hour, zone)
                    objects = await index.objects(hour_folder, fresh, settled)
                    records = group_records(objects, timestamp_extension)
                    hours.append(
                        {
                            "prefix": hour_folder,
                            "label": f"{year:04d}-{month:02d}-{day:02d} {hour:02d}h",
                            "records": len(records),
                            "objects": len(objects),
                        }
                    )
    return sorted(hours, key=lambda h: h["label"])


async def _parts(
    index: ArchiveIndex, prefix: str, part: str, fresh: bool
) -> list[tuple[str, int]]:
    """The sub-folders of ``prefix`` that are ``part=N``, with N."""
    listing = await index.folder(prefix, fresh)
    found = []
    for folder in listing.folders:
        parsed = time_part(folder)
        if parsed is not None and parsed[0] == part:
            found.append((folder, parsed[1]))
    return found


def ended_long_ago(year: int, month: int, day: int, hour: int, zone: ZoneInfo) -> bool:
    try:
        start = datetime(year, month, day, hour, tzinfo=zone)
    except ValueError:
        return False
    return start + timedelta(hours=1) + SETTLED_AFTER < datetime.now(UTC)

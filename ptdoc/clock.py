"""The only place that reads the clock; core logic takes ``today``/``now`` as arguments.

Times are stored in UTC; a person reads them in the clinic's time zone (an IANA name such as
``America/Chicago``), through ``stamp``. ``zone=None`` means the workstation's own zone, used
until the clinic has one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ZONE_EXAMPLE = "an IANA time zone name such as America/Chicago"


@cache
def zone(name: str) -> ZoneInfo:
    """The zone of an IANA name; ValueError (naming what is expected) for anything else."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a path-like oddity
        raise ValueError(f"'{name}' is not {ZONE_EXAMPLE}") from None


def is_zone(name: str) -> bool:
    try:
        zone(name)
    except ValueError:
        return False
    return True


def workstation_zone() -> str:
    """The IANA name of this computer's zone (TZ, /etc/timezone, /etc/localtime), else UTC.

    A new clinic starts in it; a workstation whose zone has no name (a bare offset) gives UTC.
    """
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    if not candidates[0]:  # TZ, when set, is the zone this computer's programs use
        with contextlib.suppress(OSError):
            candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
        with contextlib.suppress(OSError):
            candidates.append(str(Path("/etc/localtime").resolve()))
    for name in candidates:
        name = name.split("zoneinfo/", 1)[-1]  # a path into the zone database names its zone
        if name and is_zone(name):
            return "UTC" if name in ("Etc/UTC", "Etc/Universal", "Universal", "Zulu") else name
    return "UTC"


def local(moment: dt.datetime, zone_name: str | None) -> dt.datetime:
    """A stored (UTC) time in the clinic's zone; ``None``: the workstation's zone."""
    return moment.astimezone(zone(zone_name)) if zone_name else moment.astimezone()


def wall_minute(moment: dt.datetime, zone_name: str | None) -> dt.time:
    """The wall-clock time of ``moment`` in the zone, to the minute (what "now" is in a time
    field)."""
    return local(moment, zone_name).time().replace(second=0, microsecond=0)


def stamp(moment: dt.datetime, zone_name: str | None) -> str:
    """How every signature, addendum, audit and print time is shown and printed:
    '2026-11-26 20:30 CST', in the clinic's zone with its abbreviation."""
    shown = local(moment, zone_name)
    return f"{shown:%Y-%m-%d %H:%M} {shown.tzname() or shown.strftime('%z')}"


def today(zone_name: str | None = None, now: dt.datetime | None = None) -> dt.date:
    """The clinic's local date (at ``now``, by default this instant): dates of service are
    local calendar dates, so an evening visit in a US clinic keeps its own date whatever zone
    the computer is set to."""
    return local(now or utcnow(), zone_name).date()


def utcnow() -> dt.datetime:
    """Audit and signature times are stored in UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)

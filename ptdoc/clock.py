"""The only place that reads the clock; core logic takes ``today``/``now`` as arguments."""

from __future__ import annotations

import datetime as dt


def today() -> dt.date:
    """The clinic's local date: dates of service are local calendar dates."""
    return dt.date.today()


def utcnow() -> dt.datetime:
    """Audit and signature times are stored in UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)

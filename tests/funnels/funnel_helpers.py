"""Times for funnel tests: hours after a fixed base, as naive UTC datetimes."""

from __future__ import annotations

import datetime as dt

BASE = dt.datetime(2024, 1, 1)


def at(hours: float) -> dt.datetime:
    """Return BASE plus ``hours`` (naive UTC)."""
    return BASE + dt.timedelta(hours=hours)

"""Cohort and period arithmetic as Ibis expressions, and cell observability.

Cohort
    The account's ``start_at`` truncated to its UTC day, ISO week (starting
    Monday) or month.

Period k, ``anchor = "calendar"``
    The k-th calendar period after the cohort's: for weekly cohorts, period 0
    is the week of the start (from Monday, even for an account that started
    on Friday), period 1 the next week. Events before the account's own start
    do not count.

Period k, ``anchor = "start"``
    ``[start_at + k·L, start_at + (k+1)·L)`` for each account, with L one day
    or seven days. Monthly periods run from the k-th monthly anniversary of
    the start (same day of month and time of day) to the next one.

Observable cell
    Cell (cohort, k) is observable when period k has ended, by the
    observation end, for every account of the cohort: for ``calendar``,
    when the cohort's period k ends at or before the observation end; for
    ``start``, when the latest start of the cohort plus k+1 periods is at or
    before it. A partly observed period is not observable: its value is NaN,
    never 0.

Durations use ``epoch_seconds()`` and calendar parts (year, month, day), so
the expressions compile on DuckDB and PySpark.
"""

from __future__ import annotations

import datetime as dt

import ibis.expr.types as ir
import pandas as pd

SECONDS_PER_DAY = 86400
SECONDS_PER_PERIOD = {"day": SECONDS_PER_DAY, "week": 7 * SECONDS_PER_DAY}
TRUNCATE_UNIT = {"day": "D", "week": "W", "month": "M"}


def cohort_of(start_at: ir.TimestampValue, period: str) -> ir.TimestampValue:
    """Return the start of the cohort period that contains ``start_at``."""
    return start_at.truncate(TRUNCATE_UNIT[period])


def period_index(
    ts: ir.TimestampValue,
    start_at: ir.TimestampValue,
    period: str,
    anchor: str,
) -> ir.IntegerValue:
    """Return the index k of the period that contains ``ts`` (see module docstring).

    ``ts`` must not be before ``start_at``; the caller filters those events.
    """
    if period == "month":
        return _month_index(ts, start_at, anchor)
    length = SECONDS_PER_PERIOD[period]
    if anchor == "calendar":
        unit = TRUNCATE_UNIT[period]
        ts, start_at = ts.truncate(unit), start_at.truncate(unit)
    elapsed = _epoch(ts) - _epoch(start_at)
    return (elapsed / length).floor().cast("int64")


def _month_index(
    ts: ir.TimestampValue, start_at: ir.TimestampValue, anchor: str
) -> ir.IntegerValue:
    months = (ts.year() * 12 + ts.month()) - (start_at.year() * 12 + start_at.month())
    months = months.cast("int64")
    if anchor == "calendar":
        return months

    # Before the anniversary (day of month, then time of day) the month is
    # not complete yet.
    def position(value: ir.TimestampValue) -> ir.NumericValue:
        since_midnight = _epoch(value) - _epoch(value.truncate("D"))
        return value.day().cast("int64") * SECONDS_PER_DAY + since_midnight

    early = position(ts) < position(start_at)
    return months - early.cast("int64")


def _epoch(value: ir.TimestampValue) -> ir.IntegerValue:
    # DuckDB returns epoch seconds as int32; widen before subtracting.
    return value.epoch_seconds().cast("int64")


def period_end(start: pd.Timestamp, period: str, k: int) -> pd.Timestamp:
    """Return the end of period k counted from ``start`` (exclusive end).

    NOTE: for ``anchor = "start"`` months and a start on the 29th to 31st,
    this end is pandas' anniversary, clamped to the month's last day, while
    :func:`period_index` ends such a period when the next month begins. The
    two agree for starts on days 1 to 28.
    """
    if period == "month":
        return start + pd.DateOffset(months=k + 1)
    return start + pd.Timedelta(seconds=SECONDS_PER_PERIOD[period] * (k + 1))


def naive_utc(moment: dt.datetime) -> dt.datetime:
    """Return ``moment`` as a naive UTC datetime, the form of the store's timestamps."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)

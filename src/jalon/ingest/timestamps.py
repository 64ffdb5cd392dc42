"""Conversion of timestamp columns to UTC ``TIMESTAMP`` values, in SQL.

Accepted forms, by ``timestamp_format``:

``"auto"``
    ISO 8601 text with an offset (``2024-03-01T10:00:00+01:00``, ``...Z``),
    without one (``2024-03-01 10:00:00``, ``2024-03-01``), or a number of
    seconds or milliseconds since 1970-01-01 UTC. Numbers whose absolute
    value is at least 1e11 are milliseconds (1e11 s is in the year 5138, 1e11
    ms in 1973), smaller ones are seconds.
``"iso"``
    ISO 8601 text only.
``"epoch_s"``, ``"epoch_ms"``
    Seconds or milliseconds since the epoch, whatever their size.
a strftime pattern (contains ``%``)
    Parsed with DuckDB's ``strptime``; a ``%z`` or ``%Z`` in the pattern
    reads the offset from the value.

Values without an offset are wall-clock times in ``timezone`` (an IANA name)
and are converted with its daylight-saving rules. Some wall-clock times do
not exist (the skipped hour in spring) or exist twice (the repeated hour in
autumn). For those, DuckDB 2.0's ICU conversion used the standard-time offset
when checked in Europe/Paris: 2024-03-31 02:30 and 2024-10-27 02:30 both
became 01:30 UTC.

Typed columns (Parquet, JSON, Excel) are converted by type: ``TIMESTAMP``
and ``DATE`` are wall-clock times in ``timezone``, ``TIMESTAMP WITH TIME
ZONE`` is an instant, and numbers are epoch values as above.

Each builder returns a SQL expression that is NULL for a blank or unreadable
value, so that callers can find the first bad row with one query.
"""

from __future__ import annotations

import logging
import zoneinfo

from jalon.errors import N_, ConfigError
from jalon.ingest import problems
from jalon.store import schema
from jalon.store.schema import quote_identifier, quote_literal

logger = logging.getLogger(__name__)

#: Smallest absolute epoch value read as milliseconds in "auto" mode.
EPOCH_MS_THRESHOLD = 1e11
#: Largest absolute epoch value accepted, in seconds (about year 5138).
MAX_EPOCH_S = 1e11
MICROSECONDS_PER_SECOND = 1_000_000
MICROSECONDS_PER_MILLISECOND = 1_000

_NUMBER_PATTERN = r"[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?"
# A time of day followed by an offset: "10:00+01:00", "10:00:00.5Z", "10:00 -0500".
_OFFSET_PATTERN = (
    r"[0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?\s*(Z|z|UTC|[+-][0-9]{2}(:?[0-9]{2})?)$"
)
_NUMERIC_TYPES = schema.INTEGER_TYPES | schema.FLOAT_TYPES


def check_timezone(timezone: str) -> None:
    """Raise ``ConfigError`` unless ``timezone`` is a known IANA zone name."""
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(
            "config.invalid_value",
            N_("Invalid value at {path}: {value}. Expected {allowed}."),
            path="project.timezone",
            value=timezone,
            allowed='an IANA time zone name such as "Europe/Paris" or "UTC"',
        ) from error


def timestamp_sql(
    column_sql: str, engine_type: str, timestamp_format: str, timezone: str
) -> str:
    """Return a SQL expression converting ``column_sql`` to a UTC ``TIMESTAMP``.

    Parameters
    ----------
    column_sql
        SQL of the source value (a quoted column or a struct field).
    engine_type
        The DuckDB type of that value, such as ``"VARCHAR"`` or ``"BIGINT"``.
    timestamp_format
        ``"auto"``, ``"iso"``, ``"epoch_s"``, ``"epoch_ms"`` or a strftime pattern.
    timezone
        IANA zone of values without an offset.

    >>> timestamp_sql('"t"', "TIMESTAMP WITH TIME ZONE", "auto", "UTC")
    'timezone(\\'UTC\\', "t")'
    """
    upper = engine_type.upper()
    if upper == "TIMESTAMP WITH TIME ZONE":
        return f"timezone('UTC', {column_sql})"
    if upper in schema.TEMPORAL_TYPES or upper == "DATE":
        return _local_to_utc(f"CAST({column_sql} AS TIMESTAMP)", timezone)
    if upper in _NUMERIC_TYPES or upper.startswith("DECIMAL"):
        if timestamp_format == "iso" or "%" in timestamp_format:
            return "CAST(NULL AS TIMESTAMP)"
        return _epoch_sql(f"CAST({column_sql} AS DOUBLE)", timestamp_format)
    return _text_sql(f"trim(CAST({column_sql} AS VARCHAR))", timestamp_format, timezone)


def _text_sql(text: str, timestamp_format: str, timezone: str) -> str:
    if "%" in timestamp_format:
        parsed = f"try_strptime({text}, {quote_literal(timestamp_format)})"
        if "%z" in timestamp_format or "%Z" in timestamp_format:
            return f"timezone('UTC', {parsed})"
        return _local_to_utc(parsed, timezone)

    epoch = _epoch_sql(f"try_cast({text} AS DOUBLE)", timestamp_format)
    if timestamp_format in ("epoch_s", "epoch_ms"):
        return epoch

    iso = (
        f"CASE WHEN regexp_matches({text}, {quote_literal(_OFFSET_PATTERN)}) "
        f"THEN timezone('UTC', try_cast({text} AS TIMESTAMPTZ)) "
        f"ELSE {_local_to_utc(f'try_cast({text} AS TIMESTAMP)', timezone)} END"
    )
    if timestamp_format == "iso":
        return f"CASE WHEN {text} = '' THEN NULL ELSE {iso} END"
    return (
        f"CASE WHEN {text} = '' THEN NULL "
        f"WHEN regexp_full_match({text}, {quote_literal(_NUMBER_PATTERN)}) THEN "
        f"{epoch} "
        f"ELSE {iso} END"
    )


def _epoch_sql(number: str, timestamp_format: str) -> str:
    seconds = (
        f"make_timestamp(CAST(round({number} * {MICROSECONDS_PER_SECOND}) AS BIGINT))"
    )
    millis = (
        f"make_timestamp(CAST(round({number} * {MICROSECONDS_PER_MILLISECOND}) "
        "AS BIGINT))"
    )
    if timestamp_format == "epoch_s":
        chosen = seconds
        limit = MAX_EPOCH_S
    elif timestamp_format == "epoch_ms":
        chosen = millis
        limit = MAX_EPOCH_S * 1000
    else:
        chosen = (
            f"CASE WHEN abs({number}) >= {EPOCH_MS_THRESHOLD} "
            f"THEN {millis} ELSE {seconds} END"
        )
        limit = MAX_EPOCH_S * 1000
    return f"CASE WHEN abs({number}) < {limit} THEN try({chosen}) END"


def _local_to_utc(timestamp: str, timezone: str) -> str:
    if timezone == "UTC":
        return timestamp
    return f"timezone('UTC', timezone({quote_literal(timezone)}, {timestamp}))"


def is_blank_sql(column_sql: str) -> str:
    """Return a SQL condition true when the value is NULL or blank text."""
    return f"({column_sql} IS NULL OR trim(CAST({column_sql} AS VARCHAR)) = '')"


def parse_timestamp_column(
    store: object,
    table: str,
    column: str,
    timestamp_format: str = "auto",
    timezone: str = "UTC",
    source: str | None = None,
) -> bool:
    """Convert ``table.column`` of the store to UTC ``TIMESTAMP`` in place.

    Use it for an accounts column that the config names as a start or churn
    date when its values are epoch numbers or need a strftime pattern; ISO
    text columns are already converted when the accounts file is loaded. A
    column that is already ``TIMESTAMP`` is left as it is (its values are UTC).

    Parameters
    ----------
    store
        An open :class:`jalon.store.Store` with write access.
    table, column
        Store table and column names (``"accounts"``, ``"signup_at"``).
    timestamp_format, timezone
        As for :func:`timestamp_sql`.
    source
        The file name to show in an error; defaults to the table name.

    Returns
    -------
    bool
        True when the column was converted, False when it was already a timestamp.

    Raises
    ------
    TimestampError
        ``input.bad_timestamp`` naming the first value that cannot be read.
        NOTE: its row is the table row plus one for a header line, which is
        the file row only when no row of the file was excluded at load.
    """
    raw = store.raw  # type: ignore[attr-defined]
    quoted_table = quote_identifier(table)
    quoted_column = quote_identifier(column)
    columns = schema.table_columns(raw, table)
    engine_type = columns.get(column)
    if engine_type is None:
        raise problems.missing_column(source or table, column, list(columns), column)
    if engine_type == "TIMESTAMP":
        return False

    converted = timestamp_sql(quoted_column, engine_type, timestamp_format, timezone)
    bad = schema.fetch_row(
        raw,
        f"SELECT row_number() OVER () AS r, CAST({quoted_column} AS VARCHAR) AS v, "
        f"{converted} AS t FROM {quoted_table} QUALIFY NOT "
        f"{is_blank_sql(quoted_column)} "
        "AND t IS NULL ORDER BY r LIMIT 1",
    )
    if bad is not None:
        raise problems.bad_timestamp(
            source or table, int(bad[0]) + 1, column, bad[1], timestamp_format, column
        )
    raw.execute(
        f"ALTER TABLE {quoted_table} ALTER COLUMN {quoted_column} SET DATA TYPE "
        f"TIMESTAMP USING {converted}"
    )
    logger.info(
        "converted %s.%s to UTC timestamps (%s)", table, column, timestamp_format
    )
    return True

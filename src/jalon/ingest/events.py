"""Loading one events file into the store, in one transaction.

The file is first staged in a temporary table, with ids, event names and
timestamps converted and each row marked with the reason it is left out, if
any. The load stops on the first unreadable timestamp. Otherwise duplicates
are marked, the kept rows are appended to ``events`` and the counts by reason
to ``_exclusions``.

Exclusion reasons: ``missing_account_id``, ``missing_event``,
``missing_timestamp`` (a blank timestamp cell) and ``duplicate``. A row is a
duplicate when its ``event_id`` (if one is mapped) was already seen in the
file or the store. With ``deduplicate`` on, a row is also a duplicate when
every column (fields and properties) equals an earlier row of the file or a
stored row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb

from jalon.ingest import problems
from jalon.ingest.columns import EventMapping, Property, stored_value_sql, text_sql
from jalon.ingest.duplicates import mark_duplicates
from jalon.ingest.locate import file_row, translate_error
from jalon.ingest.readers import Source
from jalon.ingest.spec import EventSource
from jalon.ingest.timestamps import is_blank_sql, timestamp_sql
from jalon.store import schema
from jalon.store.schema import quote_identifier

logger = logging.getLogger(__name__)

STAGE = "_jalon_stage"


@dataclass(frozen=True)
class LoadCounts:
    """Rows read, rows loaded and rows left out by reason for one file."""

    rows_read: int
    rows_loaded: int
    excluded: dict[str, int]


def load_events(
    raw: duckdb.DuckDBPyConnection,
    source: Source,
    mapping: EventMapping,
    spec: EventSource,
    file_id: int,
    timezone: str,
) -> LoadCounts:
    """Append the rows of ``source`` to ``events``; the caller owns the transaction.

    Raises
    ------
    InputError
        For a row the reader cannot parse or a timestamp that cannot be read.
    """
    property_types = _prepare_property_columns(raw, mapping.properties)
    zone = mapping.timestamp_zone or timezone
    try:
        raw.execute(_stage_sql(source, mapping, spec, property_types, zone))
    except duckdb.Error as error:
        raise translate_error(
            error, source.file, "events", source.delimiter, source.header
        ) from error

    try:
        _check_timestamps(raw, source, mapping, spec)
        mark_duplicates(
            raw,
            STAGE,
            list(property_types),
            mapping.event_id is not None,
            spec.deduplicate,
        )
        excluded = _record_exclusions(raw, source, file_id)
        rows_read, rows_loaded = _insert_rows(raw, mapping, property_types, file_id)
    finally:
        raw.execute(f"DROP TABLE IF EXISTS temp.{STAGE}")
    return LoadCounts(rows_read, rows_loaded, excluded)


def _prepare_property_columns(
    raw: duckdb.DuckDBPyConnection, properties: tuple[Property, ...]
) -> dict[str, str]:
    """Add or widen ``p_*`` columns of ``events``; return each column's store type."""
    existing = schema.table_columns(raw, schema.EVENTS)
    types: dict[str, str] = {}
    for prop in properties:
        quoted = quote_identifier(prop.column_name)
        current = existing.get(prop.column_name)
        if current is None:
            raw.execute(f"ALTER TABLE {schema.EVENTS} ADD COLUMN {quoted} {prop.type}")
            target = prop.type
        else:
            target = schema.widened_type(current, prop.type)
            if target != current:
                logger.warning(
                    "property %s has %s values in this file but %s in earlier "
                    "files, so column %s becomes %s",
                    prop.name,
                    prop.type,
                    current,
                    prop.column_name,
                    target,
                )
                raw.execute(
                    f"ALTER TABLE {schema.EVENTS} ALTER COLUMN {quoted} SET DATA "
                    f"TYPE {target}"
                )
        existing[prop.column_name] = target
        types[prop.column_name] = target
        _register_property(raw, prop.name, prop.column_name, target)
    return types


def _register_property(
    raw: duckdb.DuckDBPyConnection, name: str, column_name: str, column_type: str
) -> None:
    raw.execute(f"DELETE FROM {schema.PROPERTIES} WHERE name = ?", [name])
    raw.execute(
        f"INSERT INTO {schema.PROPERTIES} VALUES (?, ?, ?)",
        [name, column_name, column_type],
    )
    raw.execute(
        f"UPDATE {schema.PROPERTIES} SET type = ? WHERE column_name = ?",
        [column_type, column_name],
    )


def _stage_sql(
    source: Source,
    mapping: EventMapping,
    spec: EventSource,
    property_types: dict[str, str],
    zone: str,
) -> str:
    ts_column = mapping.timestamp
    ts_sql = timestamp_sql(ts_column.sql, ts_column.type, spec.timestamp_format, zone)
    selected = [
        "row_number() OVER () AS _row",
        f"{text_sql(mapping.account_id)} AS account_id",
        f"{text_sql(mapping.user_id)} AS user_id"
        if mapping.user_id
        else "NULL::VARCHAR AS user_id",
        f"{text_sql(mapping.event)} AS event",
        f"{ts_sql} AS ts",
        f"{text_sql(mapping.event_id)} AS event_id"
        if mapping.event_id
        else "NULL::VARCHAR AS event_id",
        f"{is_blank_sql(ts_column.sql)} AS _ts_blank",
    ]
    for prop in mapping.properties:
        value = stored_value_sql(prop.source, property_types[prop.column_name])
        selected.append(f"{value} AS {quote_identifier(prop.column_name)}")

    return (
        f"CREATE TEMP TABLE {STAGE} AS SELECT src.*, "
        "CASE WHEN account_id IS NULL THEN 'missing_account_id' "
        "WHEN event IS NULL THEN 'missing_event' "
        "WHEN _ts_blank THEN 'missing_timestamp' END AS _reason "
        f"FROM (SELECT {', '.join(selected)} FROM {source.from_sql}) AS src"
    )


def _check_timestamps(
    raw: duckdb.DuckDBPyConnection,
    source: Source,
    mapping: EventMapping,
    spec: EventSource,
) -> None:
    bad = schema.fetch_row(
        raw,
        f"SELECT _row FROM {STAGE} WHERE ts IS NULL AND NOT _ts_blank "
        "ORDER BY _row LIMIT 1",
    )
    if bad is None:
        return
    # The stage keeps only converted times, to save memory on large files, so
    # the text of the bad cell is read again from the source.
    value = schema.fetch_row(
        raw,
        f"SELECT v FROM (SELECT row_number() OVER () AS r, "
        f"CAST({mapping.timestamp.sql} AS VARCHAR) AS v FROM {source.from_sql}) "
        "WHERE r = ?",
        [int(bad[0])],
    )
    raise problems.bad_timestamp(
        str(source.file.path),
        file_row(source, int(bad[0])),
        mapping.timestamp.name,
        value[0] if value else "",
        spec.timestamp_format,
        "events.timestamp_format",
    )


def _record_exclusions(
    raw: duckdb.DuckDBPyConnection, source: Source, file_id: int
) -> dict[str, int]:
    example = (
        "concat_ws(', ', 'account_id=' || coalesce(account_id, ''), "
        "'event=' || coalesce(event, ''), 'ts=' || coalesce(CAST(ts AS VARCHAR), ''), "
        "CASE WHEN event_id IS NOT NULL THEN 'event_id=' || event_id END)"
    )
    raw.execute(
        f"INSERT INTO {schema.EXCLUSIONS} "
        f"SELECT {file_id}, _reason, count(*), min(_row) + {source.header_rows}, "
        f"arg_min({example}, _row) FROM {STAGE} WHERE _reason IS NOT NULL "
        "GROUP BY _reason ORDER BY _reason"
    )
    rows = raw.execute(
        f"SELECT _reason, count(*) FROM {STAGE} WHERE _reason IS NOT NULL "
        "GROUP BY _reason ORDER BY _reason"
    ).fetchall()
    return {reason: int(count) for reason, count in rows}


def _insert_rows(
    raw: duckdb.DuckDBPyConnection,
    mapping: EventMapping,
    property_types: dict[str, str],
    file_id: int,
) -> tuple[int, int]:
    seq_base = schema.fetch_row(
        raw, f"SELECT coalesce(max(_seq), 0) FROM {schema.EVENTS}"
    )[0]
    properties = [quote_identifier(column) for column in property_types]
    target = ", ".join(list(schema.EVENT_BASE_COLUMNS) + properties)
    values = ", ".join(
        [
            "account_id",
            "user_id",
            "event",
            "ts",
            "event_id",
            f"{int(seq_base)} + _row",
            str(file_id),
            "_row",
        ]
        + properties
    )
    raw.execute(
        f"INSERT INTO {schema.EVENTS} ({target}) "
        f"SELECT {values} FROM {STAGE} WHERE _reason IS NULL"
    )
    rows_read, rows_loaded = schema.fetch_row(
        raw, f"SELECT count(*), count(*) FILTER (WHERE _reason IS NULL) FROM {STAGE}"
    )
    return int(rows_read), int(rows_loaded)


def describe_reason_counts(excluded: dict[str, int]) -> str:
    """Return ``"reason=count, ..."`` for logs, or ``"none"``."""
    if not excluded:
        return "none"
    return ", ".join(f"{reason}={count}" for reason, count in sorted(excluded.items()))

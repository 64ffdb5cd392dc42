"""Marking duplicate rows of a staged file, within the file and against the store.

A staged row is a duplicate when its ``event_id`` (if one is mapped) appears
on an earlier row of the file or on a stored event. With deduplication on, a
row is also a duplicate when every column equals an earlier row of the file
or a stored event.

Within the file, a hash of all columns first picks the few groups that can
hold repeats; only those rows are then compared column by column. Equal rows
always share a hash, so the hash never hides a duplicate, and a hash
collision between different rows is caught by the exact comparison.
"""

from __future__ import annotations

import duckdb

from jalon.store import schema
from jalon.store.schema import quote_identifier, quote_literal

DUPLICATE = "duplicate"
CANDIDATES = "_jalon_duplicate_candidates"


def mark_duplicates(
    raw: duckdb.DuckDBPyConnection,
    stage: str,
    property_columns: list[str],
    has_event_id: bool,
    deduplicate: bool,
) -> None:
    """Set ``_reason = 'duplicate'`` on the repeated rows of ``stage``.

    Only rows without another reason are considered, and the earliest row
    (lowest ``_row``) of each set of repeats is kept.
    """
    stored = schema.fetch_row(raw, f"SELECT count(*) FROM {schema.EVENTS}")[0] > 0
    if has_event_id:
        _mark_repeats(raw, stage, ["event_id"], "event_id IS NOT NULL")
        if stored:
            raw.execute(
                f"UPDATE {stage} SET _reason = '{DUPLICATE}' WHERE _reason IS NULL "
                f"AND event_id IS NOT NULL AND EXISTS (SELECT 1 FROM {schema.EVENTS} e "
                f"WHERE e.event_id = {stage}.event_id)"
            )
    if deduplicate:
        keys = ["account_id", "user_id", "event", "ts", "event_id"]
        keys += [quote_identifier(column) for column in property_columns]
        _mark_repeats(raw, stage, keys, "true")
        if stored:
            raw.execute(
                f"UPDATE {stage} SET _reason = '{DUPLICATE}' WHERE _reason IS NULL AND "
                + _stored_equal_sql(raw, stage, property_columns)
            )


def _mark_repeats(
    raw: duckdb.DuckDBPyConnection, stage: str, keys: list[str], condition: str
) -> None:
    """Mark every row but the first of each group of rows equal on ``keys``."""
    key_list = ", ".join(keys)
    raw.execute(
        f"CREATE OR REPLACE TEMP TABLE {CANDIDATES} AS SELECT hash({key_list}) AS h "
        f"FROM {stage} WHERE _reason IS NULL AND {condition} "
        "GROUP BY h HAVING count(*) > 1"
    )
    raw.execute(
        f"UPDATE {stage} SET _reason = '{DUPLICATE}' FROM ("
        f"SELECT _row FROM (SELECT _row, row_number() OVER (PARTITION BY {key_list} "
        f"ORDER BY _row) AS repeat FROM {stage} WHERE _reason IS NULL AND {condition} "
        f"AND hash({key_list}) IN (SELECT h FROM {CANDIDATES})) WHERE repeat > 1"
        f") AS repeated WHERE {stage}._row = repeated._row"
    )
    raw.execute(f"DROP TABLE IF EXISTS temp.{CANDIDATES}")


def _stored_equal_sql(
    raw: duckdb.DuckDBPyConnection, stage: str, property_columns: list[str]
) -> str:
    """Return an EXISTS test: a stored event equal to the staged row in every column."""
    stored_columns = [
        name
        for name in schema.table_columns(raw, schema.EVENTS)
        if name.startswith("p_")
    ]
    # Literal time bounds let DuckDB skip stored row groups outside the file's
    # time range, so a daily file is not compared with the whole history.
    first, last = schema.fetch_row(
        raw, f"SELECT min(ts)::VARCHAR, max(ts)::VARCHAR FROM {stage}"
    )
    if first is None:
        return "false"
    conditions = [
        (
            f"e.ts BETWEEN TIMESTAMP {quote_literal(first)} "
            f"AND TIMESTAMP {quote_literal(last)}"
        ),
        f"e.account_id = {stage}.account_id",
        f"e.event = {stage}.event",
        f"e.ts = {stage}.ts",
        f"e.user_id IS NOT DISTINCT FROM {stage}.user_id",
        f"e.event_id IS NOT DISTINCT FROM {stage}.event_id",
    ]
    for column in stored_columns:
        quoted = quote_identifier(column)
        if column in property_columns:
            conditions.append(f"e.{quoted} IS NOT DISTINCT FROM {stage}.{quoted}")
        else:
            conditions.append(f"e.{quoted} IS NULL")
    return f"EXISTS (SELECT 1 FROM {schema.EVENTS} e WHERE {' AND '.join(conditions)})"

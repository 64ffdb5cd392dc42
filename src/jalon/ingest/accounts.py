"""Loading the accounts file: one row per account, replacing the previous table.

Columns keep the file's names lower-cased with every character outside
``[a-z0-9]`` replaced by ``_``; the configured id column becomes
``account_id``. Date and timestamp columns, and text columns whose every
value is an ISO 8601 date or timestamp, are stored as UTC ``TIMESTAMP``
(values without an offset are wall-clock times in the project zone).

Rows without an account id are excluded as ``missing_account_id``, exact
repeats of a row as ``duplicate``. Two different rows for one account stop
the load, because keeping either one would be a guess.
"""

from __future__ import annotations

import logging

import duckdb

from jalon.ingest import problems
from jalon.ingest.columns import text_sql
from jalon.ingest.events import LoadCounts
from jalon.ingest.locate import file_row, translate_error
from jalon.ingest.readers import Column, Source
from jalon.ingest.spec import AccountSource
from jalon.ingest.timestamps import is_blank_sql, timestamp_sql
from jalon.store import schema
from jalon.store.schema import quote_identifier

logger = logging.getLogger(__name__)

STAGE = "_jalon_accounts_stage"
# Text columns are converted only when every value starts like an ISO date.
_ISO_DATE_START = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"


def load_accounts(
    raw: duckdb.DuckDBPyConnection,
    source: Source,
    spec: AccountSource,
    file_id: int,
    timezone: str,
) -> LoadCounts:
    """Replace the ``accounts`` table with the rows of ``source``.

    The caller owns the transaction.

    Raises
    ------
    InputError
        ``input.missing_column`` for a missing id or segment column,
        ``input.duplicate_column`` when two columns get the same store name,
        ``input.duplicate_account_id`` for two different rows of one account.
    """
    file = str(source.file.path)
    available = list(source.columns)
    id_column = source.columns.get(spec.columns.account_id)
    if id_column is None:
        raise problems.missing_column(
            file, spec.columns.account_id, available, "accounts.columns.account_id"
        )
    for segment in spec.columns.segments:
        if segment not in source.columns:
            raise problems.missing_column(
                file, segment, available, "accounts.columns.segments"
            )

    others = _store_names(source, id_column, file)
    try:
        raw.execute(_stage_sql(source, id_column, others, timezone))
    except duckdb.Error as error:
        raise translate_error(
            error, source.file, "accounts", source.delimiter, source.header
        ) from error

    try:
        _convert_text_timestamps(raw, others, timezone)
        _check_conflicts(raw, source, id_column)
        excluded = _record_exclusions(raw, source, file_id)
        raw.execute(
            f"CREATE OR REPLACE TABLE {schema.ACCOUNTS} AS SELECT * EXCLUDE (_row, "
            "_reason, "
            f"_rank) FROM {STAGE} WHERE _reason IS NULL ORDER BY _row"
        )
        rows_read, rows_loaded = schema.fetch_row(
            raw,
            f"SELECT count(*), count(*) FILTER (WHERE _reason IS NULL) FROM {STAGE}",
        )
    finally:
        raw.execute(f"DROP TABLE IF EXISTS temp.{STAGE}")
    return LoadCounts(int(rows_read), int(rows_loaded), excluded)


def _store_names(source: Source, id_column: Column, file: str) -> dict[str, Column]:
    names: dict[str, Column] = {}
    for name, column in source.columns.items():
        if name == id_column.name:
            continue
        store_name = schema.account_column(name)
        if store_name in names or store_name == "account_id":
            raise problems.duplicate_column(file, name)
        names[store_name] = column
    return names


def _stage_sql(
    source: Source, id_column: Column, others: dict[str, Column], timezone: str
) -> str:
    selected = ["row_number() OVER () AS _row", f"{text_sql(id_column)} AS account_id"]
    for store_name, column in others.items():
        selected.append(
            f"{_value_sql(column, timezone)} AS {quote_identifier(store_name)}"
        )
    every_column = ", ".join(
        ["account_id"] + [quote_identifier(name) for name in others]
    )
    return (
        f"CREATE TEMP TABLE {STAGE} AS "
        f"WITH src AS (SELECT {', '.join(selected)} FROM {source.from_sql}), "
        f"ranked AS (SELECT src.*, row_number() OVER (PARTITION BY {every_column} "
        "ORDER BY _row) AS _rank FROM src) "
        "SELECT ranked.*, CASE WHEN account_id IS NULL THEN 'missing_account_id' "
        "WHEN _rank > 1 THEN 'duplicate' END AS _reason FROM ranked"
    )


def _value_sql(column: Column, timezone: str) -> str:
    type_text = column.type.upper()
    if type_text in schema.TEMPORAL_TYPES or type_text == "DATE":
        return timestamp_sql(column.sql, type_text, "auto", timezone)
    if type_text.endswith("[]") or type_text.startswith(("STRUCT", "MAP", "UNION")):
        return f"CAST(to_json({column.sql}) AS VARCHAR)"
    return column.sql


def _convert_text_timestamps(
    raw: duckdb.DuckDBPyConnection, others: dict[str, Column], timezone: str
) -> None:
    for store_name, column in others.items():
        if column.type.upper() != "VARCHAR":
            continue
        quoted = quote_identifier(store_name)
        converted = timestamp_sql(quoted, "VARCHAR", "iso", timezone)
        present, unreadable, iso_like = schema.fetch_row(
            raw,
            f"SELECT count(*) FILTER (WHERE NOT {is_blank_sql(quoted)}), "
            f"count(*) FILTER (WHERE NOT {is_blank_sql(quoted)} AND {converted} IS "
            "NULL), "
            f"count(*) FILTER (WHERE regexp_matches(trim({quoted}), "
            f"'{_ISO_DATE_START}')) "
            f"FROM {STAGE}",
        )
        if present and not unreadable and iso_like == present:
            raw.execute(
                f"ALTER TABLE {STAGE} ALTER COLUMN {quoted} SET DATA TYPE TIMESTAMP "
                f"USING {converted}"
            )
            logger.info("accounts column %s read as UTC timestamps", store_name)


def _check_conflicts(
    raw: duckdb.DuckDBPyConnection, source: Source, id_column: Column
) -> None:
    conflict = schema.fetch_row(
        raw,
        f"SELECT account_id, min(_row), list_sort(list(_row))[2] FROM {STAGE} "
        "WHERE _reason IS NULL GROUP BY account_id HAVING count(*) > 1 "
        "ORDER BY min(_row) LIMIT 1",
    )
    if conflict is None:
        return
    account, first, second = conflict
    raise problems.conflicting_account(
        str(source.file.path),
        file_row(source, int(second)),
        id_column.name,
        account,
        file_row(source, int(first)),
    )


def _record_exclusions(
    raw: duckdb.DuckDBPyConnection, source: Source, file_id: int
) -> dict[str, int]:
    raw.execute(
        f"INSERT INTO {schema.EXCLUSIONS} "
        f"SELECT {file_id}, _reason, count(*), min(_row) + {source.header_rows}, "
        "arg_min('account_id=' || coalesce(account_id, ''), _row) "
        f"FROM {STAGE} WHERE _reason IS NOT NULL GROUP BY _reason ORDER BY _reason"
    )
    rows = raw.execute(
        f"SELECT _reason, count(*) FROM {STAGE} WHERE _reason IS NOT NULL "
        "GROUP BY _reason ORDER BY _reason"
    ).fetchall()
    return {reason: int(count) for reason, count in rows}

"""Writes of API messages into the DuckDB store's tables.

Events go through :func:`jalon.ingest.api.append_events`, the path shared
with other API sources, which deduplicates by ``event_id``. This module adds
what the ingest package does not cover: account traits from ``group`` calls
and user traits from ``identify`` calls.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.json as pa_json

from jalon.ingest.api import append_events

logger = logging.getLogger(__name__)

EVENT_COLUMNS = (
    "message_id",
    "account_id",
    "user_id",
    "anonymous_id",
    "event",
    "ts",
    "properties",
)
API_SOURCE = "api"
# Arrow's JSON reader needs each line inside one block; a message is at most
# 32 KiB, so 4 MiB blocks leave a wide margin.
JSON_BLOCK_BYTES = 4 * 1024 * 1024
MAX_COLUMN_NAME_CHARS = 120
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]|$)")
NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]")

CREATE_ACCOUNTS = "CREATE TABLE IF NOT EXISTS accounts (account_id VARCHAR NOT NULL)"


def column_name(name: str, prefix: str = "") -> str:
    """Return the store column of a property or trait name.

    >>> column_name("Plan.Tier", "p_")
    'p_plan_tier'
    """
    return prefix + NON_ALPHANUMERIC.sub("_", name.lower())


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _clean_text(text: str) -> str:
    # JSON input may carry unpaired surrogates and NUL, which DuckDB rejects.
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, ensure_ascii=True)


def _table_columns(connection: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = connection.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_name = ? AND table_schema = current_schema()",
        [table],
    ).fetchall()
    return dict(rows)


def event_rows(spool_rows: list[tuple]) -> list[dict[str, Any]]:
    """Convert spool event rows (in :data:`EVENT_COLUMNS` order) to ``append_events`` rows.

    ``user_id`` is the message's userId, else its anonymousId.
    """
    return [
        {
            "event_id": message_id,
            "account_id": account_id,
            "user_id": user_id if user_id is not None else anonymous_id,
            "event": event,
            "ts": dt.datetime.fromisoformat(ts),
            "properties": json.loads(properties),
        }
        for message_id, account_id, user_id, anonymous_id, event, ts, properties in spool_rows
    ]


def _properties_array(texts: tuple[str, ...]) -> pa.StructArray | None:
    """Parse JSON object texts into one struct array, or None when there are no keys."""
    options = pa_json.ReadOptions(block_size=JSON_BLOCK_BYTES)
    table = pa_json.read_json(io.BytesIO("\n".join(texts).encode("utf-8")), options)
    if table.num_columns == 0:
        return None
    table = table.combine_chunks()
    arrays = [column.chunk(0) for column in table.columns]
    return pa.StructArray.from_arrays(arrays, names=table.column_names)


def event_table(spool_rows: list[tuple]) -> pa.Table | None:
    """Build the ``append_events`` Arrow table of spool rows, or None when Arrow cannot.

    Arrow's JSON reader infers one type per property, so it fails when a
    property has values of different JSON types. The caller then falls back
    to :func:`event_rows`.
    """
    columns = list(zip(*spool_rows, strict=True))
    try:
        properties = _properties_array(columns[6])
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    user_ids = [
        user_id if user_id is not None else anonymous_id
        for user_id, anonymous_id in zip(columns[2], columns[3], strict=True)
    ]
    data = {
        "account_id": pa.array(columns[1], pa.string()),
        "user_id": pa.array(user_ids, pa.string()),
        "event": pa.array(columns[4], pa.string()),
        "ts": pa.array(columns[5], pa.string()).cast(pa.timestamp("us")),
        "event_id": pa.array(columns[0], pa.string()),
    }
    if properties is not None:
        data["properties"] = properties
    return pa.table(data)


def append_spool_events(store: Any, spool_rows: list[tuple]) -> int:
    """Insert spool event rows into the store's ``events``; return rows inserted."""
    # Arrow parses the properties and builds the table in C++, without a
    # Python loop per event; the row dicts are the fallback.
    table = event_table(spool_rows)
    rows = table if table is not None else event_rows(spool_rows)
    return append_events(store, rows, source=API_SOURCE)


def _trait_text(value: Any) -> tuple[str, str | None]:
    """Return the DuckDB type of a new column for one trait, and the trait as text to cast."""
    if isinstance(value, bool):
        return "BOOLEAN", "true" if value else "false"
    if isinstance(value, int | float):
        return "DOUBLE", str(value)
    if isinstance(value, str) and DATE_PATTERN.match(value):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return "VARCHAR", _as_text(value)
        # NOTE: naive trait timestamps are taken as UTC here, not in the
        # project's time zone.
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        return "TIMESTAMP", moment.isoformat(sep=" ")
    return "VARCHAR", _as_text(value)


def _trait_columns(
    connection: duckdb.DuckDBPyConnection,
    accounts: Mapping[str, dict[str, Any]],
    existing: dict[str, str],
) -> dict[str, dict[str, str | None]]:
    """Return column -> (account id -> trait text), adding a column for each new trait."""
    columns: dict[str, dict[str, str | None]] = {}
    skipped = 0
    for account_id, traits in sorted(accounts.items()):
        for key, raw in sorted(traits.items()):
            column = column_name(key)
            if (
                not column
                or column == "account_id"
                or len(column) > MAX_COLUMN_NAME_CHARS
            ):
                skipped += 1
                continue
            kind, text = _trait_text(raw)
            if column not in existing:
                connection.execute(
                    f"ALTER TABLE accounts ADD COLUMN {_quote(column)} {kind}"
                )
                existing[column] = kind
            columns.setdefault(column, {})[account_id] = text
    if skipped:
        logger.warning(
            "skipped %d account traits whose name is empty, is account_id or is"
            " longer than %d characters",
            skipped,
            MAX_COLUMN_NAME_CHARS,
        )
    return columns


def upsert_accounts(
    connection: duckdb.DuckDBPyConnection, accounts: Mapping[str, dict[str, Any]]
) -> None:
    """Write the traits of ``accounts`` (account id -> traits) into ``accounts``.

    Existing rows are updated column by column, so columns loaded from the
    accounts file keep their values; a trait without a column adds one. Each
    value is cast to its column's type, and one that does not cast is stored
    as NULL.
    """
    connection.execute(CREATE_ACCOUNTS)
    if not accounts:
        return
    existing = _table_columns(connection, "accounts")
    columns = _trait_columns(connection, accounts, existing)
    ids = sorted(accounts)
    names = sorted(columns)
    data = {"account_id": pa.array(ids, pa.string())}
    for index, column in enumerate(names):
        data[f"value_{index}"] = pa.array(
            [columns[column].get(i) for i in ids], pa.string()
        )
    connection.register("api_accounts", pa.table(data))
    try:
        connection.execute(
            "INSERT INTO accounts (account_id) SELECT i.account_id FROM api_accounts AS i"
            " WHERE NOT EXISTS (SELECT 1 FROM accounts AS a WHERE a.account_id = i.account_id)"
        )
        for index, column in enumerate(names):
            connection.execute(
                f"UPDATE accounts SET {_quote(column)} = TRY_CAST(i.value_{index} AS"
                f" {existing[column]}) FROM api_accounts AS i"
                f" WHERE accounts.account_id = i.account_id AND i.value_{index} IS NOT NULL"
            )
    finally:
        connection.unregister("api_accounts")


def upsert_users(connection: duckdb.DuckDBPyConnection, users: list[tuple]) -> None:
    """Write ``(user_key, user_id, anonymous_id, account_id, traits)`` rows into ``users``.

    A row replaces the stored row of the same ``user_key``; ``traits`` is JSON text.
    """
    connection.execute(
        "CREATE TABLE IF NOT EXISTS users (user_key VARCHAR PRIMARY KEY, user_id VARCHAR,"
        " anonymous_id VARCHAR, account_id VARCHAR, traits VARCHAR)"
    )
    if users:
        connection.executemany(
            "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?, ?)", users
        )

"""Writes of API messages into the DuckDB store's tables.

TODO: switch :func:`append_api_events` to ``jalon.ingest.append_events``
once the ingest package provides it, so that files and the API share one
property naming and deduplication path.

Property columns follow the store schema: a ``track`` call's properties are
flattened to dotted paths (``{"a": {"b": 1}}`` gives ``a.b``), and each path
gets the column ``p_`` + the path lower-cased with every character outside
``[a-z0-9]`` replaced by ``_``, registered in ``_properties``. A new column is
BOOLEAN when every value seen in the drain step is a boolean, DOUBLE when
every value is a number, VARCHAR otherwise (objects and arrays as JSON text).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb
import pyarrow as pa

logger = logging.getLogger(__name__)

EVENT_COLUMNS = (
    "message_id",
    "account_id",
    "user_id",
    "anonymous_id",
    "event",
    "ts",
    "properties",
    "received_at",
    "key_id",
)
PROPERTY_PREFIX = "p_"
# A client sending ever-new property names would otherwise widen the events
# table without bound; extra properties are skipped with a warning.
MAX_PROPERTY_COLUMNS = 500
MAX_COLUMN_NAME_CHARS = 120
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]|$)")
NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]")

CREATE_EVENTS = """
CREATE TABLE IF NOT EXISTS events (
    account_id VARCHAR NOT NULL,
    user_id VARCHAR,
    event VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    _seq BIGINT NOT NULL,
    _file_id INTEGER,
    _row BIGINT
)
"""
CREATE_PROPERTIES = (
    "CREATE TABLE IF NOT EXISTS _properties (name VARCHAR, column_name VARCHAR, type VARCHAR)"
)
CREATE_ACCOUNTS = "CREATE TABLE IF NOT EXISTS accounts (account_id VARCHAR NOT NULL)"


def column_name(name: str, prefix: str = "") -> str:
    """Return the store column of a property or trait name.

    >>> column_name("Plan.Tier", "p_")
    'p_plan_tier'
    """
    return prefix + NON_ALPHANUMERIC.sub("_", name.lower())


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _flatten(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{prefix}{_clean_text(key)}"
        if isinstance(item, dict) and item:
            flat.update(_flatten(item, path + "."))
        else:
            flat[path] = item
    return flat


def _clean_text(text: str) -> str:
    # JSON input may carry unpaired surrogates and NUL, which DuckDB rejects.
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _infer_type(values: Iterable[Any]) -> str:
    present = [value for value in values if value is not None]
    if present and all(isinstance(value, bool) for value in present):
        return "BOOLEAN"
    if present and all(
        isinstance(value, int | float) and not isinstance(value, bool) for value in present
    ):
        return "DOUBLE"
    return "VARCHAR"


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


def _scalar(connection: duckdb.DuckDBPyConnection, query: str, parameters=None) -> Any:
    # DuckDB 2.0 refuses register() while a result is only partly fetched,
    # so every query here is read to its end.
    return connection.execute(query, parameters or []).fetchall()[0][0]


def _table_columns(connection: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = connection.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_name = ? AND table_schema = current_schema()",
        [table],
    ).fetchall()
    return dict(rows)


def _ensure_event_tables(connection: duckdb.DuckDBPyConnection) -> dict[str, str]:
    connection.execute(CREATE_EVENTS)
    connection.execute(CREATE_PROPERTIES)
    connection.execute("ALTER TABLE events ADD COLUMN IF NOT EXISTS event_id VARCHAR")
    return _table_columns(connection, "events")


def _property_columns(
    connection: duckdb.DuckDBPyConnection,
    existing: dict[str, str],
    properties: list[dict[str, Any]],
) -> dict[str, str]:
    """Return property path -> column, adding columns for new paths."""
    values_by_path: dict[str, list[Any]] = {}
    for flat in properties:
        for path, value in flat.items():
            values_by_path.setdefault(path, []).append(value)
    mapping: dict[str, str] = {}
    skipped = 0
    property_count = sum(name.startswith(PROPERTY_PREFIX) for name in existing)
    for path in sorted(values_by_path):
        column = column_name(path, PROPERTY_PREFIX)
        if column not in existing:
            if property_count >= MAX_PROPERTY_COLUMNS or len(column) > MAX_COLUMN_NAME_CHARS:
                skipped += 1
                continue
            kind = _infer_type(values_by_path[path])
            connection.execute(f"ALTER TABLE events ADD COLUMN {_quote(column)} {kind}")
            connection.execute("INSERT INTO _properties VALUES (?, ?, ?)", [path, column, kind])
            existing[column] = kind
            property_count += 1
        mapping[path] = column
    if skipped:
        logger.warning(
            "skipped %d property names: the events table has %d property columns"
            " (maximum %d) or the name is longer than %d characters",
            skipped, property_count, MAX_PROPERTY_COLUMNS, MAX_COLUMN_NAME_CHARS,
        )
    return mapping


def append_api_events(connection: duckdb.DuckDBPyConnection, rows: list[tuple]) -> int:
    """Insert spool event rows (in :data:`EVENT_COLUMNS` order) into ``events``.

    Rows whose ``messageId`` is already an ``event_id`` of the store are
    skipped. ``user_id`` is the message's userId, else its anonymousId.

    Returns
    -------
    Number of rows inserted.
    """
    connection.execute("BEGIN TRANSACTION")
    try:
        inserted = _append_in_transaction(connection, rows)
        connection.execute("COMMIT")
    except Exception:
        connection.execute("ROLLBACK")
        raise
    return inserted


def _append_in_transaction(connection: duckdb.DuckDBPyConnection, rows: list[tuple]) -> int:
    existing = _ensure_event_tables(connection)
    properties = [_flatten(json.loads(row[6])) for row in rows]
    mapping = _property_columns(connection, existing, properties)
    data: dict[str, list[Any]] = {
        "ord": list(range(len(rows))),
        "event_id": [row[0] for row in rows],
        "account_id": [row[1] for row in rows],
        "user_id": [row[2] if row[2] is not None else row[3] for row in rows],
        "event": [row[4] for row in rows],
        "ts": [row[5] for row in rows],
    }
    for path, column in mapping.items():
        data[column] = [_as_text(flat.get(path)) for flat in properties]
    incoming = pa.table({name: pa.array(values, pa.string()) if name != "ord" else values
                         for name, values in data.items()})
    columns = list(mapping.values())
    target = ["account_id", "user_id", "event", "ts", "_seq", "_file_id", "_row", "event_id"]
    target += [_quote(column) for column in columns]
    casts = [f"TRY_CAST(i.{_quote(c)} AS {existing[c]})" for c in columns]
    before = _scalar(connection, "SELECT count(*) FROM events")
    connection.register("api_incoming", incoming)
    try:
        connection.execute(
            f"INSERT INTO events ({', '.join(target)}) SELECT i.account_id, i.user_id,"
            " i.event, CAST(i.ts AS TIMESTAMP),"
            " (SELECT coalesce(max(_seq), 0) FROM events) + row_number() OVER (ORDER BY i.ord),"
            " NULL, NULL, i.event_id"
            + "".join(f", {cast}" for cast in casts)
            + " FROM api_incoming AS i WHERE NOT EXISTS"
            " (SELECT 1 FROM events AS e WHERE e.event_id = i.event_id)"
        )
    finally:
        connection.unregister("api_incoming")
    return _scalar(connection, "SELECT count(*) FROM events") - before


def _trait_value(value: Any) -> tuple[str, Any]:
    """Return the DuckDB type and the value to bind for one trait."""
    if isinstance(value, bool):
        return "BOOLEAN", value
    if isinstance(value, int | float):
        try:
            return "DOUBLE", float(value)
        except OverflowError:
            return "VARCHAR", str(value)
    if isinstance(value, str) and DATE_PATTERN.match(value):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return "VARCHAR", value
        # NOTE: naive trait timestamps are taken as UTC here, not in the
        # project's time zone.
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        return "TIMESTAMP", moment
    return "VARCHAR", _as_text(value)


def upsert_accounts(
    connection: duckdb.DuckDBPyConnection, accounts: Mapping[str, dict[str, Any]]
) -> None:
    """Write the traits of ``accounts`` (account id -> traits) into ``accounts``.

    Existing rows are updated column by column, so columns loaded from the
    accounts file keep their values; a trait without a column adds one.
    """
    connection.execute(CREATE_ACCOUNTS)
    existing = _table_columns(connection, "accounts")
    for account_id, traits in sorted(accounts.items()):
        values: dict[str, Any] = {}
        for key, raw in sorted(traits.items()):
            column = column_name(key)
            if column == "account_id" or len(column) > MAX_COLUMN_NAME_CHARS:
                continue
            kind, value = _trait_value(raw)
            if column not in existing:
                connection.execute(f"ALTER TABLE accounts ADD COLUMN {_quote(column)} {kind}")
                existing[column] = kind
            values[column] = value
        _write_account_row(connection, account_id, values, existing)


def _write_account_row(connection, account_id: str, values: dict[str, Any], types) -> None:
    found = _scalar(connection, "SELECT count(*) FROM accounts WHERE account_id = ?", [account_id])
    if not found:
        connection.execute("INSERT INTO accounts (account_id) VALUES (?)", [account_id])
    if not values:
        return
    assignments = ", ".join(
        f"{_quote(column)} = TRY_CAST(? AS {types[column]})" for column in values
    )
    connection.execute(
        f"UPDATE accounts SET {assignments} WHERE account_id = ?",
        [*values.values(), account_id],
    )


def replace_users(connection: duckdb.DuckDBPyConnection, users: list[tuple]) -> None:
    """Replace the ``users`` table with ``(user_key, user_id, anonymous_id, account_id, traits)``."""
    connection.execute(
        "CREATE OR REPLACE TABLE users (user_key VARCHAR, user_id VARCHAR,"
        " anonymous_id VARCHAR, account_id VARCHAR, traits VARCHAR)"
    )
    if users:
        connection.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?)", users)

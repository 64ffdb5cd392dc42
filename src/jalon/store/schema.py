"""Tables of the store, property column names and property type widening.

The store is one DuckDB file. ``events`` contains one row per loaded event,
with timestamps in UTC. The tables ``_files``, ``_exclusions`` and
``_properties`` record what was loaded, what was left out and why, and which
column each config property name maps to. ``accounts`` is created by the
first accounts load because its columns come from the file.

``events.event_id`` is an addition to the column list of docs/DESIGN.md. It
stores the mapped event id so that reloads and the HTTP API can judge
duplicates on it.
"""

from __future__ import annotations

import re

SCHEMA_VERSION = "1"

EVENTS = "events"
ACCOUNTS = "accounts"
FILES = "_files"
EXCLUSIONS = "_exclusions"
PROPERTIES = "_properties"
META = "_meta"

#: Columns every events table has, in order, before the ``p_*`` columns.
EVENT_BASE_COLUMNS = (
    "account_id",
    "user_id",
    "event",
    "ts",
    "event_id",
    "_seq",
    "_file_id",
    "_row",
)

CREATE_STATEMENTS = (
    f"""CREATE TABLE IF NOT EXISTS {EVENTS} (
        account_id VARCHAR NOT NULL,
        user_id VARCHAR,
        event VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        event_id VARCHAR,
        _seq BIGINT NOT NULL,
        _file_id INTEGER,
        _row BIGINT
    )""",
    f"""CREATE TABLE IF NOT EXISTS {FILES} (
        file_id INTEGER,
        kind VARCHAR,
        path VARCHAR,
        size BIGINT,
        mtime_ns BIGINT,
        sha256 VARCHAR,
        rows_read BIGINT,
        rows_loaded BIGINT,
        loaded_at TIMESTAMP
    )""",
    f"""CREATE TABLE IF NOT EXISTS {EXCLUSIONS} (
        file_id INTEGER,
        reason VARCHAR,
        rows BIGINT,
        first_row BIGINT,
        example VARCHAR
    )""",
    f"""CREATE TABLE IF NOT EXISTS {PROPERTIES} (
        name VARCHAR,
        column_name VARCHAR,
        type VARCHAR
    )""",
    f"CREATE TABLE IF NOT EXISTS {META} (key VARCHAR, value VARCHAR)",
)

#: Property types kept in the store; every other engine type is stored as text.
INTEGER_TYPES = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
    }
)
FLOAT_TYPES = frozenset({"FLOAT", "DOUBLE"})
TEMPORAL_TYPES = frozenset(
    {
        "TIMESTAMP",
        "TIMESTAMP_S",
        "TIMESTAMP_MS",
        "TIMESTAMP_NS",
        "TIMESTAMP WITH TIME ZONE",
    }
)

_NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]")


def property_column(name: str) -> str:
    """Return the events column of property ``name``.

    >>> property_column("properties.plan")
    'p_properties_plan'
    >>> property_column("$Browser")
    'p__browser'
    """
    return "p_" + _NON_ALPHANUMERIC.sub("_", name.lower())


def account_column(name: str) -> str:
    """Return the accounts column of a file column: lower-cased, ``[^a-z0-9]`` as ``_``.

    >>> account_column("Signup At")
    'signup_at'
    """
    return _NON_ALPHANUMERIC.sub("_", name.lower())


def stored_type(engine_type: str) -> str:
    """Return the store type of a property whose file type is ``engine_type``.

    Integers become BIGINT, floats and decimals DOUBLE, times TIMESTAMP (UTC);
    BOOLEAN, DATE and VARCHAR stay; lists, structs, maps and JSON become VARCHAR.

    >>> stored_type("DECIMAL(18,3)")
    'DOUBLE'
    >>> stored_type("VARCHAR[]")
    'VARCHAR'
    """
    upper = engine_type.upper()
    if upper in INTEGER_TYPES:
        return "BIGINT"
    if upper in FLOAT_TYPES or upper.startswith("DECIMAL"):
        return "DOUBLE"
    if upper in TEMPORAL_TYPES:
        return "TIMESTAMP"
    if upper in ("BOOLEAN", "DATE", "VARCHAR"):
        return upper
    return "VARCHAR"


def widened_type(current: str, incoming: str) -> str:
    """Return the narrowest store type that can store values of both types.

    >>> widened_type("BIGINT", "DOUBLE")
    'DOUBLE'
    >>> widened_type("BOOLEAN", "BIGINT")
    'VARCHAR'
    """
    if current == incoming:
        return current
    if {current, incoming} == {"BIGINT", "DOUBLE"}:
        return "DOUBLE"
    if {current, incoming} == {"DATE", "TIMESTAMP"}:
        return "TIMESTAMP"
    return "VARCHAR"


def quote_identifier(name: str) -> str:
    """Return ``name`` quoted as a SQL identifier.

    >>> quote_identifier("Signup At")
    '"Signup At"'
    """
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Return ``value`` as a SQL string literal.

    >>> quote_literal("it's")
    "'it''s'"
    """
    return "'" + value.replace("'", "''") + "'"


def table_columns(raw: object, table: str) -> dict[str, str]:
    """Return the columns of a store table (not a temporary one) with their types."""
    rows = raw.execute(  # type: ignore[attr-defined]
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main' "
        "AND table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    return dict(rows)


def fetch_row(raw: object, sql: str, params: list | None = None) -> tuple | None:
    """Run ``sql`` and return its first row, or ``None``, consuming the whole result.

    DuckDB 2.0 refuses other work on a connection whose last result was only
    partly fetched, so ``fetchone()`` alone would block the Ibis backend.
    """
    rows = raw.execute(sql, params or []).fetchall()  # type: ignore[attr-defined]
    return rows[0] if rows else None

"""Appending events that arrive through the HTTP API.

Rows come already validated, with ``account_id``, ``user_id``, ``event``,
``ts`` (UTC), ``event_id`` and a ``properties`` mapping. Each call runs in one
transaction. A row whose ``event_id`` is already stored, or repeated earlier
in the same batch, is skipped, so sending a batch twice stores it once.
Rows without an ``event_id`` are always inserted.

Every API source gets one ``_files`` row, of kind ``"api"`` and path
``"api:<source>"``, whose ``rows_read`` and ``rows_loaded`` add up over calls.
The ``_row`` of these events is their position in their batch.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from jalon.ingest.columns import EventMapping, Property
from jalon.ingest.events import load_events
from jalon.ingest.files import DataFile
from jalon.ingest.readers import Column, Source
from jalon.ingest.spec import EventColumns, EventSource
from jalon.store import schema
from jalon.store.schema import quote_identifier

logger = logging.getLogger(__name__)

FIELDS = ("account_id", "user_id", "event", "ts", "event_id")
PROPERTIES_FIELD = "properties"
API_KIND = "api"
# Duplicates are judged on event_id only: two identical API rows without an
# id are two events.
_API_SPEC = EventSource(
    paths=(),
    columns=EventColumns(account_id="account_id", event="event", timestamp="ts"),
    timestamp_format="auto",
    deduplicate=False,
)


def append_events(
    store: object, rows: pa.Table | Sequence[Mapping[str, Any]], source: str
) -> int:
    """Insert API events into the store, skipping event ids already stored.

    Parameters
    ----------
    store
        A :class:`jalon.store.Store` opened with write access.
    rows
        A pyarrow table (``properties`` as a struct column) or a list of dicts
        (``properties`` as a dict, nested dicts giving dotted names).
    source
        Name of the sender, recorded as the ``_files`` path ``"api:<source>"``.

    Returns
    -------
    int
        The number of rows inserted.
    """
    table = rows if isinstance(rows, pa.Table) else _table_from_dicts(rows)
    if table.num_rows == 0:
        return 0
    table = _flatten(table)

    raw: duckdb.DuckDBPyConnection = store.raw  # type: ignore[attr-defined]
    view = f"_jalon_api_{uuid.uuid4().hex}"
    raw.register(view, table)
    try:
        inserted = _append_in_transaction(raw, view, source)
    finally:
        raw.unregister(view)
    logger.info(
        "API source %s: %s of %s events inserted", source, inserted, table.num_rows
    )
    return inserted


def _append_in_transaction(
    raw: duckdb.DuckDBPyConnection, view: str, source: str
) -> int:
    path = f"api:{source}"
    raw.execute("BEGIN TRANSACTION")
    try:
        file_id = _api_file_id(raw, path)
        src = _source_for_view(raw, view, path)
        mapping = _mapping(src)
        counts = load_events(raw, src, mapping, _API_SPEC, file_id, "UTC")
        raw.execute(
            f"UPDATE {schema.FILES} SET rows_read = rows_read + ?, "
            "rows_loaded = rows_loaded + ?, loaded_at = now()::TIMESTAMP WHERE "
            "file_id = ?",
            [counts.rows_read, counts.rows_loaded, file_id],
        )
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise
    if counts.excluded:
        logger.warning("API source %s: rows skipped: %s", source, counts.excluded)
    return counts.rows_loaded


def _api_file_id(raw: duckdb.DuckDBPyConnection, path: str) -> int:
    found = schema.fetch_row(
        raw,
        f"SELECT file_id FROM {schema.FILES} WHERE kind = ? AND path = ?",
        [API_KIND, path],
    )
    if found is not None:
        return int(found[0])
    file_id = int(
        schema.fetch_row(
            raw, f"SELECT coalesce(max(file_id), 0) + 1 FROM {schema.FILES}"
        )[0]
    )
    raw.execute(
        f"INSERT INTO {schema.FILES} VALUES (?, ?, ?, NULL, NULL, NULL, 0, 0, "
        "now()::TIMESTAMP)",
        [file_id, API_KIND, path],
    )
    return file_id


def _source_for_view(raw: duckdb.DuckDBPyConnection, view: str, path: str) -> Source:
    relation = raw.sql(f"SELECT * FROM {quote_identifier(view)}")
    columns = {}
    for name, engine_type in zip(relation.columns, relation.types, strict=True):
        columns[name] = Column(name, quote_identifier(name), str(engine_type))
    return Source(
        DataFile(Path(path), "api", None), quote_identifier(view), columns, 0, "api"
    )


def _mapping(source: Source) -> EventMapping:
    columns = source.columns
    prefix = PROPERTIES_FIELD + "."
    properties = []
    for name, column in columns.items():
        if not name.startswith(prefix):
            continue
        prop_name = name[len(prefix) :]
        properties.append(
            Property(
                prop_name,
                column,
                schema.property_column(prop_name),
                schema.stored_type(column.type),
            )
        )
    return EventMapping(
        account_id=columns["account_id"],
        event=columns["event"],
        timestamp=columns["ts"],
        user_id=columns.get("user_id"),
        event_id=columns.get("event_id"),
        properties=tuple(properties),
        timestamp_zone="UTC",
    )


def _table_from_dicts(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Build an Arrow table from API rows; properties become ``properties.<path>``."""
    data: dict[str, list[Any]] = {name: [] for name in FIELDS}
    flat_rows = []
    for row in rows:
        for name in FIELDS:
            data[name].append(row.get(name))
        flat: dict[str, Any] = {}
        _flatten_mapping(row.get(PROPERTIES_FIELD) or {}, PROPERTIES_FIELD, flat)
        flat_rows.append(flat)

    keys = sorted({key for flat in flat_rows for key in flat})
    arrays = {name: pa.array(values) for name, values in data.items()}
    for key in keys:
        arrays[key] = _array([flat.get(key) for flat in flat_rows])
    return pa.table(arrays)


def _flatten_mapping(
    value: Mapping[str, Any], prefix: str, out: dict[str, Any]
) -> None:
    for key, item in value.items():
        name = f"{prefix}.{key}"
        if isinstance(item, Mapping):
            _flatten_mapping(item, name, out)
        else:
            out[name] = item


def _array(values: list[Any]) -> pa.Array:
    """Return an Arrow array of ``values``; mixed types fall back to text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if value is None else str(value) for value in values])


def _flatten(table: pa.Table) -> pa.Table:
    while any(pa.types.is_struct(column_type) for column_type in table.schema.types):
        table = table.flatten()
    return table

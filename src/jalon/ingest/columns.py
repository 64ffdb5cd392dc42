"""Column mapping: from the config names to readable source columns.

:func:`resolve_event_mapping` finds each configured field in a source (with
preset defaults) and the property columns; the SQL helpers turn source
values into the store's types.
"""

from __future__ import annotations

from dataclasses import dataclass

from jalon.ingest import problems
from jalon.ingest.presets import Preset, candidates, get_preset
from jalon.ingest.readers import Column, Source
from jalon.ingest.spec import EventSource
from jalon.store import schema

REQUIRED_FIELDS = ("account_id", "event", "timestamp")
OPTIONAL_FIELDS = ("user_id", "event_id")


@dataclass(frozen=True)
class Property:
    """A property to load: its config name, source column and store column/type."""

    name: str
    source: Column
    column_name: str
    type: str


@dataclass(frozen=True)
class EventMapping:
    """Source columns of each event field of the store, for one file."""

    account_id: Column
    event: Column
    timestamp: Column
    user_id: Column | None
    event_id: Column | None
    properties: tuple[Property, ...]
    timestamp_zone: str | None


def resolve_event_mapping(source: Source, spec: EventSource) -> EventMapping:
    """Return the mapping of ``spec.columns`` onto ``source``.

    Raises
    ------
    InputError
        ``input.missing_column`` for a configured column the file lacks,
        ``input.duplicate_column`` when two properties share a store column.
    """
    preset = get_preset(spec.preset)
    file = str(source.file.path)
    available = list(source.columns)
    found: dict[str, Column | None] = {}
    for field in REQUIRED_FIELDS + OPTIONAL_FIELDS:
        configured = getattr(spec.columns, field)
        found[field] = _find_field(source, preset, field, configured, file, available)

    used = {column.name for column in found.values() if column is not None}
    properties = _select_properties(
        source, spec.columns.properties, used, file, available
    )
    return EventMapping(
        account_id=found["account_id"],  # type: ignore[arg-type]
        event=found["event"],  # type: ignore[arg-type]
        timestamp=found["timestamp"],  # type: ignore[arg-type]
        user_id=found["user_id"],
        event_id=found["event_id"],
        properties=properties,
        timestamp_zone=preset.timestamp_zone if preset else None,
    )


def _find_field(
    source: Source,
    preset: Preset | None,
    field: str,
    configured: str | None,
    file: str,
    available: list[str],
) -> Column | None:
    key = f"events.columns.{field}"
    if preset is None:
        if not configured:
            if field in OPTIONAL_FIELDS:
                return None
            raise problems.missing_column(file, "", available, key)
        paths: tuple[str, ...] = (configured,)
    else:
        paths = candidates(preset, field, configured)

    for path in paths:
        if path in source.columns:
            return source.columns[path]
    # A preset's optional field may be absent from an export; anything the
    # user named, and every required field, must be present.
    if field in OPTIONAL_FIELDS and not configured:
        return None
    raise problems.missing_column(file, paths[0], available, key)


def _select_properties(
    source: Source,
    requested: str | tuple[str, ...],
    used: set[str],
    file: str,
    available: list[str],
) -> tuple[Property, ...]:
    if requested == "*":
        names = [name for name in source.columns if name not in used]
    else:
        names = []
        for name in requested:
            names.extend(_expand_property(source, name, file, available))

    by_column: dict[str, str] = {}
    properties = []
    for name in dict.fromkeys(names):
        column_name = schema.property_column(name)
        if column_name in by_column:
            raise problems.clashing_properties(
                file, [by_column[column_name], name], column_name
            )
        by_column[column_name] = name
        source_column = source.columns[name]
        properties.append(
            Property(
                name, source_column, column_name, schema.stored_type(source_column.type)
            )
        )
    return tuple(properties)


def _expand_property(
    source: Source, name: str, file: str, available: list[str]
) -> list[str]:
    if name in source.columns:
        return [name]
    nested = [column for column in source.columns if column.startswith(name + ".")]
    if nested:
        return nested
    raise problems.missing_column(file, name, available, "events.columns.properties")


def text_sql(column: Column) -> str:
    """Return SQL giving the column as text, NULL when blank.

    A list (Amplitude ``groups`` values) gives its first element; a struct or
    map gives its JSON text.
    """
    type_text = column.type.upper()
    if type_text.endswith("[]"):
        value = f"CAST(list_extract({column.sql}, 1) AS VARCHAR)"
    elif type_text.startswith(("STRUCT", "MAP", "UNION")):
        value = f"CAST(to_json({column.sql}) AS VARCHAR)"
    else:
        value = f"CAST({column.sql} AS VARCHAR)"
    return f"CASE WHEN trim({value}) = '' THEN NULL ELSE {value} END"


def stored_value_sql(column: Column, target_type: str) -> str:
    """Return SQL converting a source value to the store type ``target_type``."""
    type_text = column.type.upper()
    if target_type == "VARCHAR" and (
        type_text.endswith("[]") or type_text.startswith(("STRUCT", "MAP", "UNION"))
    ):
        return f"CAST(to_json({column.sql}) AS VARCHAR)"
    if type_text == "TIMESTAMP WITH TIME ZONE":
        utc = f"timezone('UTC', {column.sql})"
        return utc if target_type == "TIMESTAMP" else f"CAST({utc} AS {target_type})"
    return f"CAST({column.sql} AS {target_type})"

"""Loading event and account files, and API events, into the store.

Public API::

    load_project(store, events, accounts, base_dir, timezone="UTC", progress=None)
        -> IngestSummary
    append_events(store, rows, source) -> int
    parse_timestamp_column(store, table, column, timestamp_format="auto",
                           timezone="UTC", source=None) -> bool
    preset_columns(preset, group_type=None, **overrides) -> EventColumns
"""

from jalon.ingest.api import append_events
from jalon.ingest.loader import FileLoad, IngestSummary, load_project
from jalon.ingest.presets import preset_columns
from jalon.ingest.spec import AccountColumns, AccountSource, EventColumns, EventSource
from jalon.ingest.timestamps import parse_timestamp_column

__all__ = [
    "AccountColumns",
    "AccountSource",
    "EventColumns",
    "EventSource",
    "FileLoad",
    "IngestSummary",
    "append_events",
    "load_project",
    "parse_timestamp_column",
    "preset_columns",
]

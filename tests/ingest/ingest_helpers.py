"""Helpers shared by the ingest tests: writing files and building specs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from jalon.ingest import EventColumns, EventSource

DATA_DIR = Path(__file__).parents[1] / "data"
SHARED_DATA = Path(__file__).parents[2] / ".." / "shared" / "data"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` (parents created) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def events_spec(paths=("events.csv",), **options) -> EventSource:
    """Return an EventSource on the columns account_id, event, timestamp."""
    columns = options.pop(
        "columns",
        EventColumns(account_id="account_id", event="event", timestamp="timestamp"),
    )
    return EventSource(paths=tuple(paths), columns=columns, **options)


def utc(*parts: int) -> dt.datetime:
    """Return a naive datetime, as the store returns UTC timestamps."""
    return dt.datetime(*parts)


def column(store, name: str, order: str = "_seq") -> list:
    """Return one events column as a list, ordered by ``order``."""
    rows = store.raw.execute(f'SELECT "{name}" FROM events ORDER BY {order}').fetchall()
    return [row[0] for row in rows]

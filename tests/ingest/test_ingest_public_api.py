"""The public names of jalon.ingest and jalon.store, pinned."""

from __future__ import annotations

import jalon.ingest
import jalon.store


def test_ingest_exports():
    assert sorted(jalon.ingest.__all__) == [
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


def test_store_exports():
    assert sorted(jalon.store.__all__) == ["Store", "account_column", "property_column"]


def test_exports_resolve():
    for module in (jalon.ingest, jalon.store):
        for name in module.__all__:
            assert getattr(module, name) is not None, name

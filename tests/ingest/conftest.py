"""Fixtures for ingest tests: a fresh store file in tmp_path."""

from __future__ import annotations

import pytest

from jalon.store import Store


@pytest.fixture
def store(tmp_path):
    """Return a store opened for writing in ``tmp_path / ".jalon"``; closed after the test."""
    opened = Store.open(tmp_path / ".jalon" / "store.duckdb")
    yield opened
    opened.close()

"""Fixtures for funnel tests: events written to a DuckDB file in tmp_path."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest
from funnel_helpers import at


@pytest.fixture
def store(tmp_path):
    """Return a function that writes event rows to a DuckDB file and returns the table.

    Rows are ``(account_id, user_id, event, hours after BASE)``; ``_seq`` is the
    row order, as the store assigns it.
    """
    con = ibis.duckdb.connect(str(tmp_path / "store.duckdb"))

    def write_events(rows, name="events"):
        frame = pd.DataFrame(rows, columns=["account_id", "user_id", "event", "hours"])
        frame["ts"] = [at(hours) for hours in frame.pop("hours")]
        frame["_seq"] = range(1, len(frame) + 1)
        frame["ts"] = pd.to_datetime(frame["ts"]).astype("datetime64[us]")
        con.create_table(name, frame, overwrite=True)
        return con.table(name)

    def write_accounts(frame, name="accounts"):
        con.create_table(name, frame, overwrite=True)
        return con.table(name)

    write_events.accounts = write_accounts
    write_events.con = con
    return write_events

"""Loading the real data sets, checked against pandas counts of the same files."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from ingest_helpers import SHARED_DATA, events_spec

from jalon.ingest import AccountColumns, AccountSource, EventColumns, load_project

STACKEXCHANGE = SHARED_DATA / "stackexchange_qc"
SPARKIFY = SHARED_DATA / "sparkify_udacity_log_data"


@pytest.mark.skipif(not STACKEXCHANGE.exists(), reason="shared data set not present")
def test_stackexchange_duplicates_match_pandas(store):
    columns = EventColumns(account_id="user_id", event="event", timestamp="timestamp")
    accounts = AccountSource("accounts.csv", AccountColumns("user_id"))
    frame = pd.read_csv(
        STACKEXCHANGE / "events.csv.gz", dtype=str, keep_default_na=False
    )
    repeats = int(frame.duplicated().sum())

    summary = load_project(
        store, events_spec(["events.csv.gz"], columns=columns), accounts, STACKEXCHANGE
    )

    assert summary.files[0].rows_read == len(frame)
    assert summary.excluded == ({"duplicate": repeats} if repeats else {})
    assert summary.events_total == len(frame) - repeats
    assert (
        summary.accounts_total == pd.read_csv(STACKEXCHANGE / "accounts.csv").shape[0]
    )


@pytest.mark.skipif(not SPARKIFY.exists(), reason="shared data set not present")
def test_sparkify_json_lines_match_pandas(store):
    records = []
    for path in sorted((SPARKIFY / "log_data").rglob("*.json")):
        records.extend(
            json.loads(line) for line in path.read_text().splitlines() if line
        )
    frame = pd.DataFrame(records)
    anonymous = int((frame["userId"] == "").sum())
    columns = EventColumns(account_id="userId", event="page", timestamp="ts")

    summary = load_project(
        store, events_spec(["log_data"], columns=columns), None, SPARKIFY
    )

    assert summary.excluded == {"missing_account_id": anonymous}
    assert summary.events_total == len(frame) - anonymous
    # ts is epoch milliseconds: the bounds are the pandas min and max read as ms.
    kept = frame[frame["userId"] != ""]
    expected = (
        pd.to_datetime(kept["ts"].min(), unit="ms").to_pydatetime(),
        pd.to_datetime(kept["ts"].max(), unit="ms").to_pydatetime(),
    )
    assert store.event_bounds() == expected

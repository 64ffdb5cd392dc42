"""Timestamp forms converted to UTC, with values worked out by hand."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_helpers import column, events_spec, utc, write

from jalon.errors import ConfigError, TimestampError
from jalon.ingest import (
    AccountColumns,
    AccountSource,
    load_project,
    parse_timestamp_column,
)

# Each case: the cell, project.timezone, events.timestamp_format, the UTC value.
CASES = [
    # The offset is applied: 10:00 at +01:00 is 09:00 UTC.
    ("2024-03-01T10:00:00+01:00", "UTC", "auto", utc(2024, 3, 1, 9)),
    ("2024-03-01T10:00:00Z", "Europe/Paris", "auto", utc(2024, 3, 1, 10)),
    # Naive values are wall-clock times of project.timezone.
    ("2024-03-01 10:00:00", "UTC", "auto", utc(2024, 3, 1, 10)),
    # Paris is UTC+1 in winter: 10:00 - 1 h.
    ("2024-03-01 10:00:00", "Europe/Paris", "auto", utc(2024, 3, 1, 9)),
    # Midnight in Paris is 23:00 UTC the day before (2024 is a leap year).
    ("2024-03-01", "Europe/Paris", "auto", utc(2024, 2, 29, 23)),
    # Summer time, UTC+2: 12:00 - 2 h.
    ("2024-07-01 12:00", "Europe/Paris", "auto", utc(2024, 7, 1, 10)),
    # Clocks go from 02:00 to 03:00 on 2024-03-31: 01:30 is +1, 03:30 is +2.
    ("2024-03-31 01:30:00", "Europe/Paris", "auto", utc(2024, 3, 31, 0, 30)),
    ("2024-03-31 03:30:00", "Europe/Paris", "auto", utc(2024, 3, 31, 1, 30)),
    # 1709283600 s = 19783 days + 0.375 day; day 19783 is 2024-03-01, 0.375 day is 9 h.
    ("1709283600", "Europe/Paris", "auto", utc(2024, 3, 1, 9)),
    ("1709283600123", "UTC", "auto", utc(2024, 3, 1, 9, 0, 0, 123000)),
    # Below 1e11, "auto" reads seconds: 86400000 s = 1000 days = 1972-09-27.
    ("86400000", "UTC", "auto", utc(1972, 9, 27)),
    # Forced milliseconds: 86400000 ms = 1 day.
    ("86400000", "UTC", "epoch_ms", utc(1970, 1, 2)),
    ("1709283600", "UTC", "epoch_s", utc(2024, 3, 1, 9)),
    ("01/03/2024 10:00", "Europe/Paris", "%d/%m/%Y %H:%M", utc(2024, 3, 1, 9)),
    # The pattern reads the offset: 10:00 at +02:00 is 08:00 UTC.
    ("01/03/2024 10:00 +0200", "Europe/Paris", "%d/%m/%Y %H:%M %z", utc(2024, 3, 1, 8)),
]


@pytest.mark.parametrize(("cell", "zone", "timestamp_format", "expected"), CASES)
def test_timestamp_form_to_utc(store, tmp_path, cell, zone, timestamp_format, expected):
    write(tmp_path / "events.csv", f'account_id,event,timestamp\na1,login,"{cell}"\n')
    spec = events_spec(timestamp_format=timestamp_format)

    load_project(store, spec, None, tmp_path, timezone=zone)

    assert column(store, "ts") == [expected]


def test_json_epoch_numbers_by_magnitude(store, tmp_path):
    lines = [
        {"account_id": "a1", "event": "e", "timestamp": 1709283600},
        {"account_id": "a1", "event": "e", "timestamp": 1709283600500},
    ]
    write(tmp_path / "events.jsonl", "".join(json.dumps(line) + "\n" for line in lines))

    load_project(store, events_spec(["events.jsonl"]), None, tmp_path)

    # Both are 2024-03-01 09:00 UTC; the second adds 500 ms.
    assert column(store, "ts") == [utc(2024, 3, 1, 9), utc(2024, 3, 1, 9, 0, 0, 500000)]


def test_parquet_naive_and_aware_timestamps(store, tmp_path):
    naive = pa.array([utc(2024, 7, 1, 12)], pa.timestamp("us"))
    aware = pa.array([utc(2024, 7, 1, 12)], pa.timestamp("us", tz="UTC"))
    for name, values in (("naive", naive), ("aware", aware)):
        table = pa.table({"account_id": ["a1"], "event": [name], "timestamp": values})
        pq.write_table(table, tmp_path / f"{name}.parquet")

    spec = events_spec(["naive.parquet", "aware.parquet"])
    load_project(store, spec, None, tmp_path, timezone="Europe/Paris")

    # Files load in name order: aware first (an instant, kept), then naive
    # (12:00 in Paris summer time, UTC+2, is 10:00 UTC).
    assert column(store, "ts") == [utc(2024, 7, 1, 12), utc(2024, 7, 1, 10)]


def test_unknown_timezone_rejected(store, tmp_path):
    write(tmp_path / "events.csv", "account_id,event,timestamp\na1,login,2024-03-01\n")

    with pytest.raises(ConfigError) as caught:
        load_project(store, events_spec(), None, tmp_path, timezone="Europe/Pariss")

    assert caught.value.params["path"] == "project.timezone"


def test_accounts_date_columns_to_utc(store, tmp_path):
    write(
        tmp_path / "accounts.csv",
        "Account ID,Signup At,Trial Start,plan\n"
        "a1,2024-03-01 10:00:00,2024-03-01T10:00:00+02:00,pro\n"
        "a2,2024-07-01,2024-07-01T00:00:00Z,free\n",
    )
    write(tmp_path / "events.csv", "account_id,event,timestamp\na1,login,2024-03-01\n")
    accounts = AccountSource("accounts.csv", AccountColumns(account_id="Account ID"))

    load_project(store, events_spec(), accounts, tmp_path, timezone="Europe/Paris")

    rows = store.raw.execute(
        "SELECT account_id, signup_at, trial_start, plan FROM accounts ORDER BY account_id"
    ).fetchall()
    # signup_at: Paris wall clock; 10:00 at UTC+1 is 09:00; midnight at UTC+2
    # (summer) is 22:00 the day before. trial_start: offsets applied.
    assert rows == [
        ("a1", utc(2024, 3, 1, 9), utc(2024, 3, 1, 8), "pro"),
        ("a2", utc(2024, 6, 30, 22), utc(2024, 7, 1), "free"),
    ]


def test_parse_timestamp_column_epoch(store, tmp_path):
    write(tmp_path / "accounts.csv", "id,signup\na1,1709283600\na2,\n")
    write(tmp_path / "events.csv", "account_id,event,timestamp\na1,login,2024-03-01\n")
    accounts = AccountSource("accounts.csv", AccountColumns(account_id="id"))
    load_project(store, events_spec(), accounts, tmp_path)

    changed = parse_timestamp_column(store, "accounts", "signup", "epoch_s")

    assert changed is True
    rows = store.raw.execute(
        "SELECT signup FROM accounts ORDER BY account_id"
    ).fetchall()
    # 1709283600 s is 2024-03-01 09:00 UTC (see CASES); the blank stays NULL.
    assert rows == [(utc(2024, 3, 1, 9),), (None,)]


def test_parse_timestamp_column_bad_value(store, tmp_path):
    write(tmp_path / "accounts.csv", "id,signup\na1,01/03/2024\na2,2024-13-45\n")
    write(tmp_path / "events.csv", "account_id,event,timestamp\na1,login,2024-03-01\n")
    accounts = AccountSource("accounts.csv", AccountColumns(account_id="id"))
    load_project(store, events_spec(), accounts, tmp_path)

    with pytest.raises(TimestampError) as caught:
        parse_timestamp_column(
            store, "accounts", "signup", "%d/%m/%Y", source="accounts.csv"
        )

    # Row 3 of the file: the header is row 1, a2 is the second data row.
    assert caught.value.params["row"] == 3
    assert caught.value.params["value"] == "2024-13-45"
    assert caught.value.params["column"] == "signup"

"""Each reader: gzip CSV, Parquet, nested JSON lines, Excel, other encodings."""

from __future__ import annotations

import gzip
import json

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_helpers import column, events_spec, utc, write

from jalon.errors import TimestampError
from jalon.ingest import AccountColumns, AccountSource, EventColumns, load_project

CSV_TEXT = (
    "account_id,event,timestamp,plan,seats\n"
    "a1,signed_up,2024-03-01 10:00:00,pro,3\n"
    "a2,signed_up,2024-03-02 11:30:00,free,1\n"
)


def test_gzip_csv_detected_from_content(store, tmp_path):
    # The name says .csv, the bytes are gzip: the content decides.
    (tmp_path / "events.csv").write_bytes(gzip.compress(CSV_TEXT.encode()))

    summary = load_project(store, events_spec(), None, tmp_path)

    assert summary.events_total == 2
    assert column(store, "p_plan") == ["pro", "free"]
    assert column(store, "p_seats") == [3, 1]


def test_semicolon_csv_delimiter_guessed(store, tmp_path):
    write(tmp_path / "events.csv", CSV_TEXT.replace(",", ";"))

    load_project(store, events_spec(), None, tmp_path)

    assert column(store, "account_id") == ["a1", "a2"]


def test_parquet_events(store, tmp_path):
    table = pa.table(
        {
            "account_id": ["a1", "a2"],
            "event": ["signed_up", "signed_up"],
            "timestamp": ["2024-03-01 10:00:00", "2024-03-02 11:30:00"],
            "score": [1.5, None],
        }
    )
    pq.write_table(table, tmp_path / "events.parquet")

    load_project(store, events_spec(["events.parquet"]), None, tmp_path)

    assert column(store, "ts") == [utc(2024, 3, 1, 10), utc(2024, 3, 2, 11, 30)]
    assert column(store, "p_score") == [1.5, None]
    assert column(store, "_row") == [1, 2]


def test_json_lines_nested_properties(store, tmp_path):
    lines = [
        {
            "account_id": "a1",
            "event": "e",
            "timestamp": "2024-03-01",
            "properties": {"plan": "pro", "usage": {"seats": 3}},
        },
        {
            "account_id": "a2",
            "event": "e",
            "timestamp": "2024-03-02",
            "properties": {"plan": "free"},
        },
        # A key that first appears on the last line is still loaded.
        {
            "account_id": "a3",
            "event": "e",
            "timestamp": "2024-03-03",
            "properties": {"late": True},
        },
    ]
    write(tmp_path / "events.jsonl", "".join(json.dumps(line) + "\n" for line in lines))

    load_project(store, events_spec(["events.jsonl"]), None, tmp_path)

    assert store.properties() == {
        "properties.late": "p_properties_late",
        "properties.plan": "p_properties_plan",
        "properties.usage.seats": "p_properties_usage_seats",
    }
    assert column(store, "p_properties_plan") == ["pro", "free", None]
    assert column(store, "p_properties_usage_seats") == [3, None, None]
    assert column(store, "p_properties_late") == [None, None, True]


def test_properties_list_selects_columns(store, tmp_path):
    write(tmp_path / "events.csv", CSV_TEXT)
    columns = EventColumns("account_id", "event", "timestamp", properties=("plan",))

    load_project(store, events_spec(columns=columns), None, tmp_path)

    assert store.properties() == {"plan": "p_plan"}


def test_excel_accounts(store, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Account ID", "Plan", "Signup At", "Seats"])
    sheet.append(["a1", "pro", utc(2024, 3, 1, 10), 3])
    sheet.append(["a2", "free", utc(2024, 7, 1, 12), None])
    workbook.save(tmp_path / "accounts.xlsx")
    write(tmp_path / "events.csv", CSV_TEXT)
    accounts = AccountSource("accounts.xlsx", AccountColumns("Account ID", ("Plan",)))

    summary = load_project(
        store, events_spec(), accounts, tmp_path, timezone="Europe/Paris"
    )

    assert summary.accounts_total == 2
    rows = store.raw.execute(
        "SELECT account_id, plan, signup_at, seats FROM accounts ORDER BY account_id"
    ).fetchall()
    # Paris wall clock: 10:00 in winter (UTC+1) is 09:00 UTC, 12:00 in summer
    # (UTC+2) is 10:00 UTC.
    assert rows == [
        ("a1", "pro", utc(2024, 3, 1, 9), 3),
        ("a2", "free", utc(2024, 7, 1, 10), None),
    ]


def test_latin1_csv_with_encoding_set(store, tmp_path):
    write(
        tmp_path / "events.csv", CSV_TEXT.replace("pro", "équipe"), encoding="latin-1"
    )

    load_project(store, events_spec(encoding="latin-1"), None, tmp_path)

    assert column(store, "p_plan") == ["équipe", "free"]


def test_cp1252_csv_reencoded(store, tmp_path):
    # cp1252 is not decoded by DuckDB itself: the file is re-encoded first.
    write(tmp_path / "events.csv", CSV_TEXT.replace("pro", "€ pro"), encoding="cp1252")

    load_project(store, events_spec(encoding="cp1252"), None, tmp_path)

    assert column(store, "p_plan") == ["€ pro", "free"]


def test_folder_and_glob_paths(store, tmp_path):
    write(tmp_path / "data" / "b.csv", CSV_TEXT)
    write(tmp_path / "data" / "a.csv", CSV_TEXT.replace("a1", "z1").replace("a2", "z2"))
    write(tmp_path / "data" / "README.md", "not data")

    summary = load_project(store, events_spec(["data"]), None, tmp_path)

    # Folder files load sorted by name, so a.csv rows come first in _seq order.
    assert [load.path.rsplit("/", 1)[1] for load in summary.files] == ["a.csv", "b.csv"]
    assert column(store, "account_id") == ["z1", "z2", "a1", "a2"]


def test_crlf_line_endings(store, tmp_path):
    (tmp_path / "events.csv").write_bytes(CSV_TEXT.replace("\n", "\r\n").encode())

    load_project(store, events_spec(), None, tmp_path)

    assert column(store, "p_seats") == [3, 1]
    assert column(store, "p_plan") == ["pro", "free"]


def test_csv_types_from_whole_file(store, tmp_path):
    # 2.5 must not be read as the integer 3, and "true"/"false" are booleans.
    write(
        tmp_path / "events.csv",
        "account_id,event,timestamp,amount,trial\n"
        "a1,e,2024-03-01,3,true\n"
        "a2,e,2024-03-02,2.5,FALSE\n",
    )

    load_project(store, events_spec(), None, tmp_path)

    assert column(store, "p_amount") == [3.0, 2.5]
    assert column(store, "p_trial") == [True, False]


def test_utf16_csv(store, tmp_path):
    write(tmp_path / "events.csv", CSV_TEXT.replace("pro", "équipe"), encoding="utf-16")

    load_project(store, events_spec(encoding="utf-16"), None, tmp_path)

    assert column(store, "p_plan") == ["équipe", "free"]


def test_excel_events_bad_timestamp_row(store, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["account_id", "event", "timestamp"])
    sheet.append(["a1", "login", utc(2024, 3, 1, 10)])
    sheet.append(["a2", "login", "not a time"])
    workbook.save(tmp_path / "events.xlsx")

    with pytest.raises(TimestampError) as caught:
        load_project(store, events_spec(["events.xlsx"]), None, tmp_path)

    # Spreadsheet rows: header 1, a1 on 2, a2 on 3.
    assert caught.value.params["row"] == 3
    assert caught.value.params["value"] == "not a time"


def test_parquet_struct_flattened(store, tmp_path):
    table = pa.table(
        {
            "account_id": ["a1"],
            "event": ["e"],
            "timestamp": ["2024-03-01"],
            "context": [{"plan": "pro", "device": {"os": "linux"}}],
        }
    )
    pq.write_table(table, tmp_path / "events.parquet")

    load_project(store, events_spec(["events.parquet"]), None, tmp_path)

    assert store.properties() == {
        "context.device.os": "p_context_device_os",
        "context.plan": "p_context_plan",
    }
    assert column(store, "p_context_device_os") == ["linux"]

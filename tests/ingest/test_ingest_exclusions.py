"""Rows left out at load are counted by reason, per file and across files."""

from __future__ import annotations

from ingest_helpers import column, events_spec, write

from jalon.ingest import EventColumns, load_project

# Rows (header = row 1):
#  2 a1 login 10:00        kept
#  3    login 10:05        missing_account_id
#  4 a2       10:10        missing_event
#  5 a1 login 10:00        duplicate of row 2
#  6 a3 login (blank)      missing_timestamp
#  7 a1 login 10:00        duplicate of row 2
#  8 a1 login 10:00 plan=x kept: a property differs from row 2
#  9    view  11:00        missing_account_id
EXCLUSION_FILE = (
    "account_id,event,timestamp,plan\n"
    "a1,login,2024-03-01 10:00,\n"
    ",login,2024-03-01 10:05,\n"
    "a2,,2024-03-01 10:10,\n"
    "a1,login,2024-03-01 10:00,\n"
    "a3,login,,\n"
    "a1,login,2024-03-01 10:00,\n"
    "a1,login,2024-03-01 10:00,x\n"
    ",view,2024-03-01 11:00,\n"
)


def test_exclusion_counts_by_reason(store, tmp_path):
    write(tmp_path / "events.csv", EXCLUSION_FILE)

    summary = load_project(store, events_spec(), None, tmp_path)

    assert summary.files[0].excluded == {
        "duplicate": 2,
        "missing_account_id": 2,
        "missing_event": 1,
        "missing_timestamp": 1,
    }
    # 8 rows read - 6 excluded = 2 loaded.
    assert summary.files[0].rows_read == 8
    assert summary.files[0].rows_loaded == 2
    assert column(store, "_row") == [1, 7]


def test_exclusions_first_row_and_example(store, tmp_path):
    write(tmp_path / "events.csv", EXCLUSION_FILE)
    load_project(store, events_spec(), None, tmp_path)

    table = store.exclusions().set_index("reason")

    assert table.loc["missing_account_id", "first_row"] == 3
    assert table.loc["duplicate", "first_row"] == 5
    # The example shows the stored form: the timestamp converted to UTC.
    assert table.loc["missing_event", "example"] == (
        "account_id=a2, event=, ts=2024-03-01 10:10:00"
    )


def test_deduplicate_off_keeps_identical_rows(store, tmp_path):
    write(tmp_path / "events.csv", EXCLUSION_FILE)

    summary = load_project(store, events_spec(deduplicate=False), None, tmp_path)

    # Rows 5 and 7 repeat row 2 and are now kept: 2 + 2 = 4 loaded.
    assert summary.files[0].rows_loaded == 4
    assert "duplicate" not in summary.files[0].excluded


def test_duplicates_against_stored_rows(store, tmp_path):
    write(tmp_path / "a.csv", "account_id,event,timestamp\na1,login,2024-03-01 10:00\n")
    write(
        tmp_path / "b.csv",
        "account_id,event,timestamp\na1,login,2024-03-01 10:00\na1,login,2024-03-01 10:01\n",
    )

    summary = load_project(store, events_spec(["a.csv", "b.csv"]), None, tmp_path)

    assert summary.files[1].excluded == {"duplicate": 1}
    assert summary.events_total == 2


def test_repeated_event_id_is_duplicate(store, tmp_path):
    columns = EventColumns("account_id", "event", "timestamp", event_id="message_id")
    write(
        tmp_path / "a.csv",
        "message_id,account_id,event,timestamp\nm1,a1,login,2024-03-01 10:00\n",
    )
    # m1 again with another time: same event sent twice. m2 and m3 are
    # identical except their ids, so both are kept even with deduplicate off.
    write(
        tmp_path / "b.csv",
        "message_id,account_id,event,timestamp\n"
        "m1,a1,login,2024-03-01 10:05\n"
        "m2,a1,vote,2024-03-01 11:00\n"
        "m3,a1,vote,2024-03-01 11:00\n"
        "m2,a1,vote,2024-03-01 11:00\n",
    )
    spec = events_spec(["a.csv", "b.csv"], columns=columns, deduplicate=False)

    summary = load_project(store, spec, None, tmp_path)

    assert summary.files[1].excluded == {"duplicate": 2}
    assert column(store, "event_id") == ["m1", "m2", "m3"]


def test_store_exclusions_summed_across_files(store, tmp_path):
    write(tmp_path / "a.csv", "account_id,event,timestamp\n,login,2024-03-01\n")
    write(
        tmp_path / "b.csv",
        "account_id,event,timestamp\n,login,2024-03-02\n,x,2024-03-02\n",
    )

    summary = load_project(store, events_spec(["a.csv", "b.csv"]), None, tmp_path)

    assert summary.excluded == {"missing_account_id": 3}
    table = store.exclusions()
    assert table["rows"].tolist() == [3]
    # The first occurrence is in the first file, row 2.
    assert table["path"].tolist() == [str(tmp_path / "a.csv")]
    assert table["first_row"].tolist() == [2]


def test_accounts_exclusions(store, tmp_path):
    from jalon.ingest import AccountColumns, AccountSource

    write(tmp_path / "events.csv", "account_id,event,timestamp\na1,login,2024-03-01\n")
    write(tmp_path / "accounts.csv", "id,plan\na1,pro\n,free\na1,pro\na2,free\n")
    accounts = AccountSource("accounts.csv", AccountColumns("id"))

    summary = load_project(store, events_spec(), accounts, tmp_path)

    assert summary.files[1].excluded == {"duplicate": 1, "missing_account_id": 1}
    assert summary.accounts_total == 2

"""Incremental loads: unchanged files skipped, new files added, changed files reloaded."""

from __future__ import annotations

import os

import pytest
from ingest_helpers import column, events_spec, write

from jalon.errors import StoreError
from jalon.ingest import AccountColumns, AccountSource, load_project
from jalon.store import Store

FIRST = (
    "account_id,event,timestamp\na1,login,2024-03-01 10:00\na2,login,2024-03-01 11:00\n"
)
SECOND = "account_id,event,timestamp\nb1,login,2024-03-02 10:00\n"


def statuses(summary) -> list[tuple[str, str]]:
    return [(os.path.basename(load.path), load.status) for load in summary.files]


def test_second_run_loads_nothing(store, tmp_path):
    write(tmp_path / "events" / "day1.csv", FIRST)
    spec = events_spec(["events"])
    load_project(store, spec, None, tmp_path)

    summary = load_project(store, spec, None, tmp_path)

    assert statuses(summary) == [("day1.csv", "unchanged")]
    assert summary.events_total == 2
    # The unchanged file reports the counts recorded when it was loaded.
    assert summary.files[0].rows_loaded == 2


def test_new_file_loads_only_it(store, tmp_path):
    write(tmp_path / "events" / "day1.csv", FIRST)
    spec = events_spec(["events"])
    load_project(store, spec, None, tmp_path)
    write(tmp_path / "events" / "day2.csv", SECOND)

    summary = load_project(store, spec, None, tmp_path)

    assert statuses(summary) == [("day1.csv", "unchanged"), ("day2.csv", "loaded")]
    assert column(store, "account_id") == ["a1", "a2", "b1"]
    # _seq continues after the first file: rows 1 and 2, then 2 + 1.
    assert column(store, "_seq") == [1, 2, 3]


def test_changed_file_reloaded_without_duplicates(store, tmp_path):
    path = write(tmp_path / "events" / "day1.csv", FIRST)
    spec = events_spec(["events"])
    load_project(store, spec, None, tmp_path)
    write(path, FIRST + "a3,login,2024-03-01 12:00\n")

    summary = load_project(store, spec, None, tmp_path)

    assert statuses(summary) == [("day1.csv", "reloaded")]
    assert sorted(column(store, "account_id")) == ["a1", "a2", "a3"]
    assert len(store.files()) == 1
    assert store.exclusions().empty


def test_touched_file_with_same_content_unchanged(store, tmp_path):
    path = write(tmp_path / "day1.csv", FIRST)
    spec = events_spec(["day1.csv"])
    load_project(store, spec, None, tmp_path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))

    summary = load_project(store, spec, None, tmp_path)

    assert statuses(summary) == [("day1.csv", "unchanged")]
    assert int(store.files()["mtime_ns"].iloc[0]) == stat.st_mtime_ns + 5_000_000_000


def test_reloaded_file_exclusions_replaced(store, tmp_path):
    path = write(tmp_path / "day1.csv", FIRST + ",login,2024-03-01 12:00\n")
    spec = events_spec(["day1.csv"])
    load_project(store, spec, None, tmp_path)
    write(path, FIRST)

    summary = load_project(store, spec, None, tmp_path)

    # The row without an account id is gone from the new version of the file.
    assert summary.excluded == {}


def test_progress_reports_each_file(store, tmp_path):
    write(tmp_path / "events" / "day1.csv", FIRST)
    write(tmp_path / "events" / "day2.csv", SECOND)
    calls = []

    load_project(
        store,
        events_spec(["events"]),
        None,
        tmp_path,
        progress=lambda path, done, total: calls.append(
            (os.path.basename(path), done, total)
        ),
    )

    assert calls == [("day1.csv", 1, 2), ("day2.csv", 2, 2)]


def test_summary_repr_states_counts(store, tmp_path):
    write(tmp_path / "day1.csv", FIRST + ",login,2024-03-01 12:00\n")

    summary = load_project(store, events_spec(["day1.csv"]), None, tmp_path)

    assert repr(summary) == (
        "IngestSummary(1 file: 1 loaded, 0 reloaded, 0 unchanged; store holds "
        "2 events and 0 accounts; rows excluded: missing_account_id=1)"
    )


def test_changed_accounts_file_replaces_table(store, tmp_path):
    write(tmp_path / "day1.csv", FIRST)
    path = write(tmp_path / "accounts.csv", "id,plan\na1,pro\n,free\n")
    accounts = AccountSource("accounts.csv", AccountColumns("id"))
    load_project(store, events_spec(["day1.csv"]), accounts, tmp_path)
    write(path, "id,plan\na1,pro\na2,free\na3,free\n")

    summary = load_project(store, events_spec(["day1.csv"]), accounts, tmp_path)

    assert statuses(summary) == [
        ("day1.csv", "unchanged"),
        ("accounts.csv", "reloaded"),
    ]
    assert summary.accounts_total == 3
    # The blank id of the first version no longer counts.
    assert summary.excluded == {}


def test_accounts_path_switch_forgets_old_file(store, tmp_path):
    write(tmp_path / "day1.csv", FIRST)
    write(tmp_path / "old.csv", "id,plan\na1,pro\n,free\n")
    write(tmp_path / "new.csv", "id,plan\na1,pro\na2,free\n")
    load_project(
        store,
        events_spec(["day1.csv"]),
        AccountSource("old.csv", AccountColumns("id")),
        tmp_path,
    )

    summary = load_project(
        store,
        events_spec(["day1.csv"]),
        AccountSource("new.csv", AccountColumns("id")),
        tmp_path,
    )

    assert summary.accounts_total == 2
    assert summary.excluded == {}
    assert store.files()["path"].tolist() == [
        str(tmp_path / "day1.csv"),
        str(tmp_path / "new.csv"),
    ]


def test_read_only_store_rejected(tmp_path):
    write(tmp_path / "day1.csv", FIRST)
    path = tmp_path / "store.duckdb"
    Store.open(path).close()

    with Store.open(path, read_only=True) as store, pytest.raises(StoreError) as caught:
        load_project(store, events_spec(["day1.csv"]), None, tmp_path)

    assert caught.value.code == "store.read_only"

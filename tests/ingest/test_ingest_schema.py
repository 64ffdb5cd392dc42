"""Property columns across files: new columns, widened types, late type surprises."""

from __future__ import annotations

import duckdb
from ingest_helpers import column, events_spec, write

from jalon.ingest import load_project
from jalon.store import Store


def test_property_widened_to_text(store, tmp_path):
    write(tmp_path / "a.csv", "account_id,event,timestamp,size\na1,e,2024-03-01,3\n")
    write(
        tmp_path / "b.csv", "account_id,event,timestamp,size\na2,e,2024-03-02,large\n"
    )

    load_project(store, events_spec(["a.csv", "b.csv"]), None, tmp_path)

    assert column(store, "p_size") == ["3", "large"]
    types = dict(store.raw.execute("SELECT name, type FROM _properties").fetchall())
    assert types == {"size": "VARCHAR"}


def test_property_integer_and_float_to_double(store, tmp_path):
    write(tmp_path / "a.csv", "account_id,event,timestamp,amount\na1,e,2024-03-01,3\n")
    write(
        tmp_path / "b.csv", "account_id,event,timestamp,amount\na2,e,2024-03-02,2.5\n"
    )

    load_project(store, events_spec(["a.csv", "b.csv"]), None, tmp_path)

    assert column(store, "p_amount") == [3.0, 2.5]


def test_new_property_in_later_file(store, tmp_path):
    write(tmp_path / "a.csv", "account_id,event,timestamp\na1,e,2024-03-01\n")
    write(tmp_path / "b.csv", "account_id,event,timestamp,plan\na2,e,2024-03-02,pro\n")

    load_project(store, events_spec(["a.csv", "b.csv"]), None, tmp_path)

    assert column(store, "p_plan") == [None, "pro"]


def test_late_text_in_numeric_csv_column(store, tmp_path):
    # DuckDB guesses types from the first 20,480 rows; a text value after
    # them makes the load read the whole file again to choose the type.
    rows = "".join(f"a{i},e,2024-03-01,{i}\n" for i in range(25_000))
    write(
        tmp_path / "events.csv",
        "account_id,event,timestamp,code\n" + rows + "z,e,2024-03-02,X9\n",
    )

    summary = load_project(store, events_spec(), None, tmp_path)

    assert summary.events_total == 25_001
    last = store.raw.execute(
        "SELECT p_code FROM events ORDER BY _seq DESC LIMIT 1"
    ).fetchall()
    assert last == [("X9",)]


def test_store_created_elsewhere_gets_event_id(tmp_path):
    path = tmp_path / "store.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE events (account_id VARCHAR NOT NULL, user_id VARCHAR, "
        "event VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, _seq BIGINT NOT NULL, "
        "_file_id INTEGER, _row BIGINT)"
    )
    con.close()

    with Store.open(path) as store:
        names = store.events().columns

    assert "event_id" in names

"""append_events: idempotent by event_id, _seq continuing the stored maximum."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from ingest_helpers import column, events_spec, utc, write

from jalon.ingest import append_events, load_project

BATCH = [
    {
        "account_id": "a1",
        "user_id": "u1",
        "event": "login",
        "ts": utc(2024, 3, 1, 9),
        "event_id": "m1",
        "properties": {"plan": "pro", "device": {"os": "linux"}},
    },
    {
        "account_id": "a1",
        "user_id": "u2",
        "event": "login",
        "ts": dt.datetime(2024, 3, 1, 11, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        "event_id": "m2",
        "properties": {"plan": "free"},
    },
]


def test_append_twice_inserts_once(store):
    first = append_events(store, BATCH, source="web")
    second = append_events(store, BATCH, source="web")

    assert first == 2
    assert second == 0
    assert column(store, "event_id") == ["m1", "m2"]


def test_append_converts_aware_times(store):
    append_events(store, BATCH, source="web")

    # 11:00 at +01:00 is 10:00 UTC; naive values are taken as UTC.
    assert column(store, "ts") == [utc(2024, 3, 1, 9), utc(2024, 3, 1, 10)]


def test_append_properties_columns(store):
    append_events(store, BATCH, source="web")

    assert store.properties() == {"device.os": "p_device_os", "plan": "p_plan"}
    assert column(store, "p_plan") == ["pro", "free"]
    assert column(store, "p_device_os") == ["linux", None]


def test_append_repeated_id_within_batch(store):
    batch = [dict(BATCH[0]), dict(BATCH[0], event="other")]

    inserted = append_events(store, batch, source="web")

    assert inserted == 1
    assert column(store, "event") == ["login"]


def test_append_seq_continues_after_files(store, tmp_path):
    write(
        tmp_path / "events.csv",
        "account_id,event,timestamp\na1,x,2024-03-01\na1,y,2024-03-02\n",
    )
    load_project(store, events_spec(), None, tmp_path)

    append_events(store, BATCH, source="web")

    # Files gave _seq 1 and 2; the batch rows get 2 + 1 and 2 + 2.
    assert column(store, "_seq") == [1, 2, 3, 4]


def test_append_arrow_table(store):
    table = pa.table(
        {
            "account_id": ["a1", "a2"],
            "user_id": [None, "u9"],
            "event": ["login", "login"],
            "ts": pa.array(
                [utc(2024, 3, 1, 9), utc(2024, 3, 2, 9)], pa.timestamp("us")
            ),
            "event_id": ["m1", "m1"],
            "properties": pa.array([{"score": 1}, {"score": 5}]),
        }
    )

    inserted = append_events(store, table, source="sdk")

    assert inserted == 1
    assert column(store, "p_score") == [1]


def test_append_counts_recorded_per_source(store):
    append_events(store, BATCH, source="web")
    append_events(store, BATCH + [dict(BATCH[0], event_id="m3")], source="web")

    files = store.files()
    assert files["path"].tolist() == ["api:web"]
    # 2 rows, then 3 rows of which only m3 is new: read 5, loaded 3.
    assert files["rows_read"].tolist() == [5]
    assert files["rows_loaded"].tolist() == [3]


def test_append_empty_batch(store):
    assert append_events(store, [], source="web") == 0

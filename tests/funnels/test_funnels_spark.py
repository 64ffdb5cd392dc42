"""The funnel and cohort expressions give the same tables on PySpark as on DuckDB."""

from __future__ import annotations

import datetime as dt
import shutil

import ibis
import pandas as pd
import pytest
from funnel_helpers import at

from jalon.cohorts import compute_cohorts, parse_cohorts
from jalon.funnels import compute_funnel, parse_funnel

pytestmark = [pytest.mark.spark, pytest.mark.slow]

EVENT_ROWS = [
    ("a", "u", "s1", 0),
    ("a", "u", "s2", 1),
    ("a", "u", "other", 1.5),
    ("a", "u", "s1", 30),
    ("a", "u", "s2", 31),
    ("a", "u", "s3", 40),
    ("b", "u", "s2", 0),
    ("b", "u", "s1", 0),
    ("b", "u", "x", 1),
    ("b", "u", "s2", 2),
    ("c", "u", "s1", 200),
    ("c", "u", "s3", 201),
    ("d", "u", "s3", 5),
    ("d", "u", "s1", 6),
    ("d", "u", "s2", 7),
]
ACCOUNT_ROWS = [
    ("a", at(0), None, 1.0, 1),
    ("b", at(0), at(100), 2.0, 2),
    ("c", at(150), None, 3.0, 0),
    ("d", at(2), at(300), 0.5, 1),
]
END = at(220)


def event_frame() -> pd.DataFrame:
    frame = pd.DataFrame(
        EVENT_ROWS, columns=["account_id", "user_id", "event", "hours"]
    )
    frame["ts"] = [at(hours) for hours in frame.pop("hours")]
    frame["_seq"] = range(1, len(frame) + 1)
    return frame


def account_frame() -> pd.DataFrame:
    frame = pd.DataFrame(
        ACCOUNT_ROWS,
        columns=[
            "account_id",
            "start_at",
            "churn_at",
            "m_first_days",
            "m_first_status",
        ],
    )
    frame["churn_at"] = pd.to_datetime(frame["churn_at"])
    frame["end_at"] = pd.Timestamp(END)
    return frame


@pytest.fixture(scope="module")
def spark_con(tmp_path_factory):
    pyspark_sql = pytest.importorskip("pyspark.sql")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java on PATH")
    warehouse = tmp_path_factory.mktemp("warehouse")
    session = (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield ibis.pyspark.connect(session)
    session.stop()


@pytest.fixture
def duckdb_con(tmp_path):
    return ibis.duckdb.connect(str(tmp_path / "store.duckdb"))


def tables(con):
    events = con.create_table("events", event_frame(), overwrite=True)
    accounts = con.create_table("accounts", account_frame(), overwrite=True)
    return events, accounts


@pytest.mark.parametrize("order", ["ordered", "strict", "any"])
def test_funnel_same_on_spark(spark_con, duckdb_con, order):
    spec = parse_funnel(
        {
            "id": "f",
            "window": "1d",
            "order": order,
            "exclude": [{"event": "x"}],
            "steps": [{"event": "s1"}, {"event": "s2"}, {"event": "s3"}],
        },
        "funnels[0]",
    )
    results = []
    for con in (duckdb_con, spark_con):
        events, accounts = tables(con)
        results.append(
            compute_funnel(events, spec, accounts=accounts, observation_end=END)
        )

    pd.testing.assert_frame_equal(results[0].steps, results[1].steps)
    assert results[0].excluded == results[1].excluded


@pytest.mark.parametrize("anchor", ["calendar", "start"])
@pytest.mark.parametrize("period", ["day", "week"])
def test_cohorts_same_on_spark(spark_con, duckdb_con, anchor, period):
    spec = parse_cohorts(
        {
            "period": period,
            "periods": 10,
            "anchor": anchor,
            "activity": ["s1", "s2", "s3"],
        },
        "cohorts",
    )
    results = []
    for con in (duckdb_con, spark_con):
        events, accounts = tables(con)
        results.append(compute_cohorts(events, accounts, spec, milestones=["first"]))

    pd.testing.assert_frame_equal(results[0].active, results[1].active)
    pd.testing.assert_frame_equal(results[0].churned, results[1].churned)
    pd.testing.assert_frame_equal(results[0].observable, results[1].observable)
    pd.testing.assert_frame_equal(results[0].median_ttv, results[1].median_ttv)
    assert results[0].excluded_events == results[1].excluded_events


def test_monthly_cohorts_same_on_spark(spark_con, duckdb_con):
    spec = parse_cohorts(
        {"period": "month", "periods": 3, "anchor": "start"}, "cohorts"
    )
    results = []
    for con in (duckdb_con, spark_con):
        events, accounts = tables(con)
        results.append(
            compute_cohorts(
                events, accounts, spec, observation_end=dt.datetime(2024, 5, 1)
            )
        )

    pd.testing.assert_frame_equal(results[0].active, results[1].active)
    pd.testing.assert_frame_equal(results[0].observable, results[1].observable)

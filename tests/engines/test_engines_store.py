"""Opening stores by engine, the Parquet export and the Spark store's interface."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from engines_harness import Row, at, load_duckdb_store, make_config

from jalon.analysis import run_analysis
from jalon.config import parse_config
from jalon.errors import ConfigError, StoreError
from jalon.store import Store
from jalon.store.engine import (
    EXPORT_ACCOUNTS,
    EXPORT_EVENTS,
    export_parquet,
    materialize,
    open_store,
)
from jalon.store.spark import DEFAULT_MASTER, SparkSettings, SparkStore

EVENTS = [
    Row("e1", "login", at(0, 1), score=1.5),
    Row("e1", "project_created", at(1), plan="pro"),
    Row("e2", "login", at(2)),
]
ACCOUNTS = {"e1": {"signup_at": at(0), "plan": "pro"}, "e2": {"signup_at": at(1)}}


def spark_config(tmp_path: Path, spark: dict) -> object:
    raw = {
        "project": {"engine": "spark", "spark": spark},
        "events": {"paths": ["events.csv"]},
        "start": {"event": "login"},
        "milestones": [{"id": "m", "name": "M", "event": "login"}],
    }
    raw["events"]["columns"] = {
        "account_id": "account_id",
        "event": "event",
        "timestamp": "ts",
    }
    return parse_config(raw, tmp_path / "jalon.toml")


def add_exclusions(store: Store) -> None:
    """Record two files and three exclusion rows, as an ingest would."""
    store.raw.execute(
        "INSERT INTO _files (file_id, kind, path) VALUES "
        "(1, 'events', '/data/a.csv'), (2, 'events', '/data/b.csv')"
    )
    store.raw.execute(
        "INSERT INTO _exclusions VALUES "
        "(2, 'duplicate', 4, 7, 'x'), (1, 'duplicate', 1, 9, 'y'), "
        "(1, 'missing_event', 2, 3, 'z')"
    )


def test_settings_defaults_and_paths(tmp_path):
    config = spark_config(tmp_path, {"events_path": "parquet/events"})
    settings = SparkSettings.from_config(config)
    assert settings.events_path == tmp_path / "parquet" / "events"
    assert settings.master == DEFAULT_MASTER
    assert settings.warehouse_dir is None
    assert (
        settings.sibling("_properties.parquet")
        == tmp_path / "parquet" / "_properties.parquet"
    )


def test_settings_misspelt_key(tmp_path):
    config = spark_config(tmp_path, {"events_path": "e", "mastr": "local[1]"})
    with pytest.raises(ConfigError) as caught:
        SparkSettings.from_config(config)
    assert caught.value.code == "config.unknown_key"
    assert caught.value.params["suggestion"] == "master"


def test_settings_missing_events_path(tmp_path):
    config = spark_config(tmp_path, {"master": "local[1]"})
    with pytest.raises(ConfigError) as caught:
        SparkSettings.from_config(config)
    assert caught.value.params["path"] == "project.spark.events_path"


def test_settings_conf_must_be_table(tmp_path):
    config = spark_config(tmp_path, {"events_path": "e", "conf": "x=1"})
    with pytest.raises(ConfigError) as caught:
        SparkSettings.from_config(config)
    assert caught.value.params["path"] == "project.spark.conf"


def test_open_store_duckdb(tmp_path):
    config = spark_config(tmp_path, {"events_path": "e"})
    config = dataclasses.replace(
        config, engine="duckdb", store_path=tmp_path / "s.duckdb"
    )
    with open_store(config) as store:
        assert isinstance(store, Store)
        assert store.read_only is False


def test_export_writes_layout(tmp_path):
    with load_duckdb_store(tmp_path / "s.duckdb", EVENTS, ACCOUNTS) as store:
        add_exclusions(store)
        folder = export_parquet(store, tmp_path / "out")
    events = pd.read_parquet(folder / EXPORT_EVENTS)
    assert sorted(events["_seq"]) == [1, 2, 3]
    assert pd.read_parquet(folder / EXPORT_ACCOUNTS)["account_id"].tolist() == [
        "e1",
        "e2",
    ]
    properties = pd.read_parquet(folder / "_properties.parquet")
    assert sorted(properties["name"]) == ["plan", "score"]


def test_export_twice_replaces_events(tmp_path):
    with load_duckdb_store(tmp_path / "s.duckdb", EVENTS, ACCOUNTS) as store:
        export_parquet(store, tmp_path / "out", partition_by=("event",))
        export_parquet(store, tmp_path / "out")
    events = pd.read_parquet(tmp_path / "out" / EXPORT_EVENTS)
    assert len(events) == 3


@pytest.fixture(scope="module")
def spark_pair(tmp_path_factory, request):
    """A Spark store over a partitioned export, and the DuckDB store it came from."""
    session = request.getfixturevalue("spark_session")
    folder = tmp_path_factory.mktemp("spark-store")
    reference = load_duckdb_store(folder / "s.duckdb", EVENTS, ACCOUNTS)
    add_exclusions(reference)
    export_parquet(reference, folder / "out", partition_by=("event",))
    settings = SparkSettings(
        events_path=folder / "out" / EXPORT_EVENTS,
        accounts_path=folder / "out" / EXPORT_ACCOUNTS,
    )
    store = SparkStore.open(settings, session=session)
    yield store, reference
    store.close()
    reference.close()


@pytest.mark.spark
def test_spark_reads_partitioned_events(spark_pair):
    store, reference = spark_pair
    columns = ["_seq", "account_id", "event", "ts", "p_score", "p_plan"]
    tested = store.execute(store.events().select(*columns).order_by("_seq"))
    expected = reference.execute(reference.events().select(*columns).order_by("_seq"))
    pd.testing.assert_frame_equal(tested, expected, check_exact=True)


@pytest.mark.spark
def test_spark_properties_and_exclusions(spark_pair):
    store, reference = spark_pair
    assert store.properties() == reference.properties()
    pd.testing.assert_frame_equal(store.exclusions(), reference.exclusions())


@pytest.mark.spark
def test_spark_exclusions_first_occurrence(spark_pair):
    store, _ = spark_pair
    duplicate = store.exclusions().set_index("reason").loc["duplicate"]
    # 4 + 1 rows; the first is in file 1 (a.csv), row 9.
    assert duplicate["rows"] == 5
    assert duplicate["path"] == "/data/a.csv"
    assert duplicate["first_row"] == 9


@pytest.mark.spark
def test_spark_event_bounds(spark_pair):
    store, _ = spark_pair
    assert store.event_bounds() == (at(0, 1), at(2))


@pytest.mark.spark
def test_spark_materialize_replaces(spark_pair):
    store, _ = spark_pair
    events = store.events()
    materialize(store, events.filter(events.event == "login"), "_m")
    table = materialize(store, events.filter(events.event == "project_created"), "_m")
    assert store.execute(table.select("_seq"))["_seq"].tolist() == [2]


@pytest.mark.spark
def test_spark_missing_parquet(tmp_path, spark_session):
    settings = SparkSettings(events_path=tmp_path / "absent")
    with pytest.raises(StoreError) as caught:
        SparkStore.open(settings, session=spark_session)
    assert caught.value.code == "store.parquet_not_found"


@pytest.mark.spark
def test_spark_run_analysis_matches_duckdb(spark_pair):
    store, reference = spark_pair
    config = make_config([{"id": "m", "name": "M", "event": "login"}], end="2024-03-11")
    tested = run_analysis(config, store)
    expected = run_analysis(config, reference)
    assert tested.population == expected.population
    overall, overall_expected = (
        tested.milestone("m").overall,
        expected.milestone("m").overall,
    )
    assert overall.n_reached == overall_expected.n_reached
    assert overall.percentiles == overall_expected.percentiles


@pytest.mark.spark
def test_spark_run_analysis_by_hand(spark_pair):
    store, _ = spark_pair
    config = make_config([{"id": "m", "name": "M", "event": "login"}], end="2024-03-11")
    analysis = run_analysis(config, store)
    assert analysis.population.n_accounts == 2
    # The rows recorded by add_exclusions: 4 + 1 duplicates, 2 missing events.
    assert analysis.population.excluded_events == {"duplicate": 5, "missing_event": 2}
    median = next(p for p in analysis.milestone("m").overall.percentiles if p.q == 0.5)
    # e1 logs in 1 hour after its start, e2 1 day after: S = 1/2 after 1/24 day.
    assert median.days == pytest.approx(1 / 24)

"""Engine fixtures: DuckDB always, Spark (marker ``spark``) in one session per run.

``engine_store`` returns a function that loads a hand-made log and returns
two stores over the same data: the store of the engine under test and the
DuckDB store it was exported from, so a test can assert that both engines
compute identical tables.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from engines_harness import load_duckdb_store

#: Spark settings for tests: two local threads, two shuffle partitions, no UI.
TEST_SPARK_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.driver.memory": "1g",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory) -> Iterator[Any]:
    """Start one local Spark session for every Spark test of the run."""
    if shutil.which("java") is None:
        pytest.skip("Spark tests need Java 17 on PATH; java was not found")
    pytest.importorskip("pyspark", reason="Spark tests need pyspark (jalon[spark])")
    from jalon.store.spark import SparkSettings, start_session

    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    settings = SparkSettings(
        events_path=warehouse,
        master="local[2]",
        app_name="jalon-tests",
        conf=TEST_SPARK_CONF,
        warehouse_dir=warehouse,
    )
    session, _ = start_session(settings)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)]
)
def engine(request) -> str:
    """Name of the engine under test."""
    return request.param


@pytest.fixture(scope="module")
def engine_store(
    engine, tmp_path_factory, request
) -> Iterator[Callable[..., tuple[Any, Any]]]:
    """Return ``load(events, accounts) -> (store under test, DuckDB reference)``.

    Module-scoped, so that a module can compute its outputs once per engine.
    """
    tmp_path = tmp_path_factory.mktemp(f"engine-{engine}")
    opened: list[Any] = []

    def load(events, accounts=None) -> tuple[Any, Any]:
        number = len(opened)
        reference = load_duckdb_store(
            tmp_path / f"store{number}.duckdb", events, accounts
        )
        opened.append(reference)
        if engine == "duckdb":
            return reference, reference
        store = _spark_store(
            request, reference, tmp_path / f"parquet{number}", accounts
        )
        opened.append(store)
        return store, reference

    yield load
    for store in reversed(opened):
        store.close()


def _spark_store(request, reference, folder: Path, accounts) -> Any:
    from jalon.store.engine import EXPORT_ACCOUNTS, EXPORT_EVENTS, export_parquet
    from jalon.store.spark import SparkSettings, SparkStore

    session = request.getfixturevalue("spark_session")
    export_parquet(reference, folder)
    settings = SparkSettings(
        events_path=folder / EXPORT_EVENTS,
        accounts_path=folder / EXPORT_ACCOUNTS if accounts is not None else None,
    )
    return SparkStore.open(settings, session=session)

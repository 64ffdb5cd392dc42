"""Life tables built through Ibis on DuckDB and Spark, against a pandas groupby."""

from __future__ import annotations

import shutil

import ibis
import numpy as np
import pandas as pd
import pytest
from survival_testdata import pandas_life_table, random_accounts

from jalon.errors import AnalysisError
from jalon.survival import life_table, life_table_expr
from jalon.survival.lifetable import life_tables

COUNTS = ["n_event", "n_competing", "n_censored"]


@pytest.fixture
def accounts_frame() -> pd.DataFrame:
    accounts = random_accounts(
        seed=3, n_accounts=3000, groups=("free", "pro", "team")
    ).astype({"status": "Int64", "group": "object"})
    # Every 50th account has no status (excluded) and every 70th no segment.
    accounts.loc[accounts.index % 50 == 0, "status"] = pd.NA
    accounts.loc[accounts.index % 70 == 0, "group"] = None
    return accounts


@pytest.fixture
def duckdb_accounts(tmp_path, accounts_frame) -> ibis.Table:
    con = ibis.duckdb.connect(tmp_path / "store.duckdb")
    con.create_table("accounts", accounts_frame)
    return con.table("accounts")


def expected_table(accounts: pd.DataFrame) -> pd.DataFrame:
    included = accounts[accounts["status"].notna()].copy()
    included["group"] = included["group"].fillna("(unknown)")
    expected = pandas_life_table(included.astype({"status": "int64"}))
    return expected.sort_values(["group", "time"]).reset_index(drop=True)


def test_life_table_matches_pandas_groupby(duckdb_accounts, accounts_frame):
    result = life_table(duckdb_accounts, "days", "status", group="group")
    pd.testing.assert_frame_equal(result, expected_table(accounts_frame))


@pytest.fixture(scope="module")
def spark_session(tmp_path_factory):
    pyspark_sql = pytest.importorskip("pyspark.sql")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java runtime")
    # Keep Spark's warehouse in a temporary folder instead of the working directory.
    session = (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .appName("jalon-survival-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("warehouse")))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def spark_accounts(session, accounts: pd.DataFrame) -> ibis.Table:
    """Load the accounts into a Spark view, keeping null statuses and groups."""
    rows = [
        (
            None if pd.isna(group) else group,
            float(days),
            None if pd.isna(status) else int(status),
        )
        for group, days, status in accounts[["group", "days", "status"]].itertuples(
            index=False
        )
    ]
    frame = session.createDataFrame(
        rows, schema="group string, days double, status bigint"
    )
    frame.createOrReplaceTempView("accounts")
    return ibis.pyspark.connect(session).table("accounts")


@pytest.mark.spark
@pytest.mark.slow
def test_life_table_spark_matches_pandas(spark_session, accounts_frame):
    accounts = spark_accounts(spark_session, accounts_frame)
    result = life_table(accounts, "days", "status", group="group")
    pd.testing.assert_frame_equal(result, expected_table(accounts_frame))
    assert result.attrs["n_excluded"] == 60


def test_life_table_counts_are_int64(duckdb_accounts):
    result = life_table(duckdb_accounts, "days", "status", group="group")
    assert [str(result[name].dtype) for name in COUNTS] == ["int64"] * 3


def test_life_table_counts_excluded_accounts(duckdb_accounts, accounts_frame):
    result = life_table(duckdb_accounts, "days", "status", group="group")
    # Indexes 0, 50, ..., 2950: 60 accounts without a status.
    assert result.attrs["n_excluded"] == 60
    assert result[COUNTS].to_numpy().sum() == 3000 - 60


def test_life_table_without_group_is_all(duckdb_accounts, accounts_frame):
    result = life_table(duckdb_accounts, "days", "status")
    expected = expected_table(accounts_frame.assign(group="all"))
    pd.testing.assert_frame_equal(result, expected)


def test_life_tables_of_one_query_match_separate_tables(duckdb_accounts, accounts_frame):
    with_parity = duckdb_accounts.mutate(parity=(duckdb_accounts.days.cast("int64") % 2).cast("string"))
    tables = life_tables(with_parity, "days", "status", ["group", "parity"])

    assert set(tables) == {None, "group", "parity"}
    # Each table equals the one built by its own query, and the pandas count.
    pd.testing.assert_frame_equal(tables[None], life_table(duckdb_accounts, "days", "status"))
    pd.testing.assert_frame_equal(tables["group"], expected_table(accounts_frame))
    pd.testing.assert_frame_equal(
        tables["parity"], life_table(with_parity, "days", "status", group="parity")
    )
    assert {table.attrs["n_excluded"] for table in tables.values()} == {60}


def test_life_tables_reject_invalid_status(duckdb_accounts):
    broken = duckdb_accounts.mutate(status=ibis.literal(7))
    with pytest.raises(AnalysisError) as raised:
        life_tables(broken, "days", "status", ["group"])
    assert raised.value.code == "survival.invalid_status"


def test_life_table_expr_matches_executed(duckdb_accounts):
    expr = life_table_expr(duckdb_accounts, "days", "status", group="group")
    from_expr = expr.order_by(["group", "time"]).execute()
    executed = life_table(duckdb_accounts, "days", "status", group="group")
    assert list(from_expr.columns) == list(executed.columns)
    np.testing.assert_array_equal(
        from_expr[COUNTS].to_numpy(), executed[COUNTS].to_numpy()
    )


def test_life_table_uses_given_executor(duckdb_accounts):
    seen = []

    def execute(expr: ibis.Table) -> pd.DataFrame:
        seen.append(expr)
        return expr.execute()

    life_table(duckdb_accounts, "days", "status", execute=execute)
    assert len(seen) == 1


def memtable(days: list, status: list) -> ibis.Table:
    return ibis.memtable(
        pd.DataFrame({"days": days, "status": pd.array(status, dtype="Int64")})
    )


def test_life_table_rejects_unknown_status():
    with pytest.raises(AnalysisError) as error:
        life_table(memtable([1.0, 2.0, 3.0], [1, 3, 3]), "days", "status")
    assert error.value.code == "survival.invalid_status"
    assert error.value.params["value"] == 3
    assert error.value.params["rows"] == 2


def test_life_table_rejects_negative_days():
    with pytest.raises(AnalysisError) as error:
        life_table(memtable([1.0, -2.5], [1, 0]), "days", "status")
    assert error.value.code == "survival.negative_days"
    assert error.value.params["value"] == -2.5


def test_life_table_rejects_missing_days():
    with pytest.raises(AnalysisError) as error:
        life_table(memtable([1.0, None], [1, 0]), "days", "status")
    assert error.value.code == "survival.missing_days"
    assert error.value.params["rows"] == 1


def test_life_table_allows_missing_days_when_excluded():
    result = life_table(memtable([1.0, None], [1, None]), "days", "status")
    assert result["time"].tolist() == [1.0]
    assert result.attrs["n_excluded"] == 1

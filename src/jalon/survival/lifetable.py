"""Life tables: per-account outcomes collapsed to counts per (group, time).

A life table has one row per ``(group, time)`` with the columns listed in
:data:`LIFE_TABLE_COLUMNS`. Every estimator of :mod:`jalon.survival` reads
life tables, never per-account rows, so its cost depends on the number of
distinct times and not on the number of accounts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from jalon.errors import N_, AnalysisError

logger = logging.getLogger(__name__)

#: Group value of a life table built without a segment column.
ALL_GROUP = "all"
#: Group value of accounts whose segment is null.
UNKNOWN_GROUP = "(unknown)"

#: Per-account status codes of the ``m_<id>_status`` columns.
STATUS_CENSORED = 0
STATUS_EVENT = 1
STATUS_COMPETING = 2
VALID_STATUSES = (STATUS_CENSORED, STATUS_EVENT, STATUS_COMPETING)

COUNT_COLUMNS = ("n_event", "n_competing", "n_censored")
LIFE_TABLE_COLUMNS = ("group", "time", *COUNT_COLUMNS)


def _grouped_counts(
    accounts: ibis.Table, days: str, status: str, group: str | None
) -> tuple[ibis.Table, ibis.Column, dict[str, ibis.Expr]]:
    """Select the three working columns and define the contract's aggregates."""
    if group is None:
        group_value = ibis.literal(ALL_GROUP)
    else:
        group_value = _group_text(accounts, group)
    table = accounts.select(
        group=group_value,
        time=accounts[days].cast("float64"),
        status_code=accounts[status].cast("int64"),
    )
    return table, table.status_code, _count_aggregates(table.status_code)


def _group_text(accounts: ibis.Table, group: str) -> ibis.StringValue:
    return accounts[group].cast("string").fill_null(UNKNOWN_GROUP)


def _count_aggregates(code: ibis.IntegerColumn) -> dict[str, ibis.Expr]:
    return {
        "n_event": code.count(where=code == STATUS_EVENT).cast("int64"),
        "n_competing": code.count(where=code == STATUS_COMPETING).cast("int64"),
        "n_censored": code.count(where=code == STATUS_CENSORED).cast("int64"),
    }


def _check_aggregates(code: ibis.IntegerColumn) -> dict[str, ibis.Expr]:
    """Counts that let :func:`_reject_invalid_rows` reject bad input."""
    invalid = code.notnull() & ~code.isin(VALID_STATUSES)
    return {
        "n_excluded": code.isnull().sum().cast("int64"),
        "n_invalid": code.count(where=invalid).cast("int64"),
        "invalid_example": code.min(where=invalid),
    }


def life_table_expr(
    accounts: ibis.Table, days: str, status: str, group: str | None = None
) -> ibis.Table:
    """Build the life table of one milestone as an Ibis expression.

    Parameters
    ----------
    accounts
        Per-account table, one row per account.
    days
        Name of the float column holding days from start to the outcome.
    status
        Name of the integer column: 1 reached (event), 2 churned before
        reaching (competing event), 0 censored, null excluded. Rows with a
        null status are left out of the table.
    group
        Optional segment column. Its values are cast to string, and null
        becomes ``"(unknown)"``. Without it every row has group ``"all"``.

    Returns
    -------
    ibis.Table
        Columns ``group``, ``time``, ``n_event``, ``n_competing``,
        ``n_censored``, one row per (group, time), unordered. It uses only
        ``select``, ``filter``, ``group_by`` and ``aggregate`` with
        conditional counts, and the tests run it on DuckDB and Spark.

    Examples
    --------
    >>> import ibis
    >>> accounts = ibis.memtable({"d": [1.0, 1.0, 3.0], "s": [1, 0, 2]})
    >>> life_table_expr(accounts, "d", "s").order_by("time").execute()
      group  time  n_event  n_competing  n_censored
    0   all   1.0        1            0           1
    1   all   3.0        0            1           0
    """
    table, code, aggregates = _grouped_counts(accounts, days, status, group)
    table = table.filter(code.notnull())
    return table.group_by(["group", "time"]).aggregate(**aggregates)


def _reject_invalid_rows(raw: pd.DataFrame, days: str, status: str) -> None:
    """Raise AnalysisError on a status outside 0/1/2 or a missing or negative time."""
    invalid = raw[raw["n_invalid"] > 0]
    if not invalid.empty:
        raise AnalysisError(
            "survival.invalid_status",
            N_(
                "Column {column} contains the invalid status {value} on {rows} "
                "account(s). Expected 0 (censored), 1 (reached), 2 (churned first) "
                "or empty (excluded). Fix the per-account table."
            ),
            column=status,
            value=int(invalid["invalid_example"].min()),
            rows=int(invalid["n_invalid"].sum()),
        )

    included = raw[list(COUNT_COLUMNS)].sum(axis=1) > 0
    missing = included & raw["time"].isna()
    if missing.any():
        raise AnalysisError(
            "survival.missing_days",
            N_(
                "Column {column} is missing on {rows} account(s) that have a "
                "status. Every included account needs its number of days to the "
                "outcome."
            ),
            column=days,
            rows=int(raw.loc[missing, list(COUNT_COLUMNS)].sum(axis=1).sum()),
        )

    negative = included & (raw["time"] < 0)
    if negative.any():
        raise AnalysisError(
            "survival.negative_days",
            N_(
                "Column {column} contains the negative duration {value} days, but "
                "an outcome cannot come before the start. Check the start column."
            ),
            column=days,
            value=float(raw.loc[negative, "time"].min()),
        )


def life_table(
    accounts: ibis.Table,
    days: str,
    status: str,
    group: str | None = None,
    execute: Callable[[ibis.Table], pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Build and execute the life table of one milestone.

    Parameters are those of :func:`life_table_expr`, plus:

    execute
        Callable that runs an Ibis expression and returns pandas; the default
        is ``expr.execute()``.

    Returns
    -------
    pandas.DataFrame
        The life table sorted by group and time, with int64 counts. The
        number of accounts left out for a null status is in
        ``attrs["n_excluded"]`` and logged at WARNING.

    Raises
    ------
    AnalysisError
        On a status other than 0, 1, 2 or null (``survival.invalid_status``),
        an empty or negative duration (``survival.missing_days``,
        ``survival.negative_days``).
    """
    groups = [] if group is None else [group]
    table = life_tables(accounts, days, status, groups, execute)[group]
    n_excluded = table.attrs["n_excluded"]
    logger.info(
        "life table of %s: %d rows, %d accounts",
        status,
        len(table),
        int(table[list(COUNT_COLUMNS)].to_numpy().sum()),
    )
    if n_excluded:
        logger.warning("life table of %s: %d accounts excluded", status, n_excluded)
    return table


def life_tables(
    accounts: ibis.Table,
    days: str,
    status: str,
    groups: Sequence[str],
    execute: Callable[[ibis.Table], pd.DataFrame] | None = None,
) -> dict[str | None, pd.DataFrame]:
    """Build one milestone's life tables overall and per group column, in one query.

    The accounts are counted by every group column and time at once; each
    table then adds up the counts of the other columns. The result maps
    ``None`` to the overall table (group ``"all"``) and each name of
    ``groups`` to its table, each as :func:`life_table` returns it.
    """
    names = [f"_g{index}" for index in range(len(groups))]
    table = accounts.select(
        **{name: _group_text(accounts, group) for name, group in zip(names, groups)},
        time=accounts[days].cast("float64"),
        status_code=accounts[status].cast("int64"),
    )
    code = table.status_code
    expr = table.group_by([*names, "time"]).aggregate(
        **_count_aggregates(code), **_check_aggregates(code)
    )
    raw = execute(expr) if execute is not None else expr.execute()
    _reject_invalid_rows(raw, days, status)
    tables: dict[str | None, pd.DataFrame] = {
        None: _collapsed(raw, pd.Series(ALL_GROUP, index=raw.index, dtype=object))
    }
    for name, group in zip(names, groups):
        tables[group] = _collapsed(raw, raw[name])
    return tables


def _collapsed(raw: pd.DataFrame, groups: pd.Series) -> pd.DataFrame:
    """Return the life table of ``raw``'s counts by ``groups`` and time, one row each.

    Rows without an account are dropped. ``attrs["n_excluded"]`` contains
    the number of accounts left out for a null status.
    """
    counts = raw[list(COUNT_COLUMNS)].to_numpy(dtype="int64")
    included = counts.sum(axis=1) > 0
    names, codes, times, counts = _summed_by_group_and_time(
        groups[included], raw["time"].to_numpy(dtype="float64")[included], counts[included]
    )
    table = pd.DataFrame({"group": names[codes], "time": times})
    for index, name in enumerate(COUNT_COLUMNS):
        table[name] = counts[:, index]
    table.attrs["n_excluded"] = int(raw["n_excluded"].sum())
    return table


def _summed_by_group_and_time(
    groups: pd.Series, times: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sum ``counts`` rows per (group as text, time), sorted by group then time.

    Returns the sorted group texts, then per summed row its group code, time
    and counts. The work is one sort, so a table of every account's own time
    stays cheap.
    """
    codes, names = _group_codes(groups)
    order = np.lexsort((times, codes))
    codes, times, counts = codes[order], times[order], counts[order]
    first = np.ones(len(codes), dtype=bool)
    first[1:] = (codes[1:] != codes[:-1]) | (times[1:] != times[:-1])
    starts = np.flatnonzero(first)
    if len(starts):
        counts = np.add.reduceat(counts, starts, axis=0)
    return names, codes[starts], times[starts], counts


@dataclass(frozen=True)
class TimeCounts:
    """Counts of one group per distinct time, sorted by time.

    ``at_risk[i]`` is the number of accounts whose time is at least
    ``time[i]``: they are still under observation just before ``time[i]``.
    """

    group: str
    time: np.ndarray
    event: np.ndarray
    competing: np.ndarray
    censored: np.ndarray

    @property
    def total(self) -> np.ndarray:
        """Accounts leaving observation at each time, whatever the outcome."""
        return self.event + self.competing + self.censored

    @property
    def at_risk(self) -> np.ndarray:
        """Accounts with a time at least equal to each time."""
        return np.cumsum(self.total[::-1])[::-1]

    @property
    def n_accounts(self) -> int:
        """Accounts in the group."""
        return int(self.total.sum())


def _validate_life_table(table: pd.DataFrame) -> None:
    """Raise AnalysisError unless ``table`` follows the life-table contract."""
    missing = [name for name in LIFE_TABLE_COLUMNS if name not in table.columns]
    if missing:
        raise AnalysisError(
            "survival.missing_column",
            N_(
                "The life table has no column {column}. Expected the columns "
                "{expected}. Build it with jalon.survival.life_table."
            ),
            column=missing[0],
            expected=", ".join(LIFE_TABLE_COLUMNS),
        )

    times = pd.to_numeric(table["time"], errors="coerce").to_numpy(dtype=float)
    bad_time = ~np.isfinite(times) | (times < 0)
    if bad_time.any():
        raise AnalysisError(
            "survival.invalid_time",
            N_(
                "The life table contains the invalid time {value}. Times must be "
                "finite numbers of days, zero or more."
            ),
            value=str(table["time"].to_numpy()[bad_time.argmax()]),
        )

    for name in COUNT_COLUMNS:
        counts = pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(counts) | (counts < 0) | (counts != np.round(counts))
        if bad.any():
            raise AnalysisError(
                "survival.invalid_count",
                N_(
                    "The life table column {column} contains the invalid count "
                    "{value}. Counts must be whole numbers, zero or more."
                ),
                column=name,
                value=str(table[name].to_numpy()[bad.argmax()]),
            )


def _group_codes(groups: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the groups as text, and the texts in sorted order.

    Values are turned into text once per distinct value, not once per row;
    two values with the same text (1 and "1") share a code.
    """
    codes, values = pd.factorize(groups.to_numpy(), sort=False, use_na_sentinel=False)
    texts = np.array([str(value) for value in values], dtype=object)
    names, remap = np.unique(texts, return_inverse=True)
    return remap.astype("int64")[codes], names


def split_groups(table: pd.DataFrame) -> dict[str, TimeCounts]:
    """Validate a life table and return its counts per group, sorted by group.

    Rows repeating a (group, time) pair are summed.
    """
    _validate_life_table(table)
    names, codes, time, summed = _summed_by_group_and_time(
        table["group"],
        table["time"].to_numpy(dtype="float64"),
        table[list(COUNT_COLUMNS)].to_numpy(dtype="int64"),
    )
    bounds = np.searchsorted(codes, np.arange(len(names) + 1))
    groups = {}
    for index, name in enumerate(names):
        rows = slice(bounds[index], bounds[index + 1])
        groups[str(name)] = TimeCounts(
            group=str(name),
            time=time[rows],
            event=summed[rows, 0],
            competing=summed[rows, 1],
            censored=summed[rows, 2],
        )
    return groups


def single_group(table: pd.DataFrame) -> TimeCounts:
    """Validate a life table of exactly one group and return its counts.

    Raises
    ------
    AnalysisError
        ``survival.not_one_group`` when the table contains no group or several.
    """
    groups = split_groups(table)
    if len(groups) != 1:
        raise AnalysisError(
            "survival.not_one_group",
            N_(
                "This estimate needs a life table of one group, but it contains "
                "{count} groups ({groups}). Select one group first."
            ),
            count=len(groups),
            groups=", ".join(groups),
        )
    return next(iter(groups.values()))

"""Engine choice and the differences between DuckDB and Spark, in one place.

jalon builds Ibis expressions and runs them on DuckDB (the default) or on
Apache Spark through Ibis's PySpark backend. The expressions are the same on
both engines except in four places, which this module handles:

* **Durations.** ``delta(unit="day")`` counts calendar boundaries on DuckDB
  (23:00 to 01:00 is one day) and elapsed days on Spark (zero). A difference
  of ``epoch_seconds()`` agrees only for whole-second timestamps: DuckDB
  subtracts fractional epochs and truncates the result (00:00:00.999999 to
  00:00:01 is 0 s), Spark truncates each epoch first (1 s). Durations are
  therefore counted in microseconds, the unit both engines store and the
  one where calendar and elapsed counts agree (:func:`elapsed_seconds`,
  :func:`elapsed_days`).
* **Logarithm of zero.** ``ln(0)`` is ``-inf`` on DuckDB and NULL on Spark,
  where a ``sum`` then skips it. :func:`guarded_ln` returns NULL for zero and
  negative values on both, and :func:`running_product` counts the zeros
  apart so that a product over a zero is 0 on both engines.
* **Window frames.** A window with only ``order_by`` covers the whole
  partition in Ibis 12 on both engines, so a running sum needs an explicit
  frame (:func:`cumulative_window`).
* **Kth smallest value per group.** DuckDB has a top-k aggregate
  (``min(x, k)``), several times faster than numbering every row with a
  window; Spark has none, so it keeps the window (:func:`kth_smallest`).

It also opens the store named by the config (:func:`open_store`), exports a
DuckDB store to Parquet for Spark (:func:`export_parquet`) and materializes
an expression as a table on either engine (:func:`materialize`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from ibis.common.exceptions import IbisError

from jalon.store import schema
from jalon.store.store import Store

if TYPE_CHECKING:
    from jalon.config import Config
    from jalon.store.spark import SparkStore

logger = logging.getLogger(__name__)

SECONDS_PER_DAY = 86400
MICROSECONDS_PER_SECOND = 1_000_000

#: File and folder names written by :func:`export_parquet`.
EXPORT_EVENTS = "events"
EXPORT_ACCOUNTS = "accounts.parquet"
EXPORT_PROPERTIES = "_properties.parquet"
EXPORT_EXCLUSIONS = "_exclusions.parquet"


def elapsed_microseconds(
    later: ir.TimestampValue, earlier: ir.TimestampValue
) -> ir.IntegerValue:
    """Return the exact microseconds from ``earlier`` to ``later`` as int64."""
    return later.delta(earlier, unit="microsecond").cast("int64")


def elapsed_seconds(
    later: ir.TimestampValue, earlier: ir.TimestampValue
) -> ir.FloatingValue:
    """Return the seconds from ``earlier`` to ``later`` as float64, on any engine.

    >>> import datetime as dt
    >>> start = ibis.literal(dt.datetime(2024, 1, 1, 23, 0, 0, 250000))
    >>> stop = ibis.literal(dt.datetime(2024, 1, 2, 1, 0, 1, 100000))
    >>> float(ibis.duckdb.connect().execute(elapsed_seconds(stop, start)))
    7200.85
    """
    micros = elapsed_microseconds(later, earlier).cast("float64")
    return micros / MICROSECONDS_PER_SECOND


def elapsed_days(
    later: ir.TimestampValue, earlier: ir.TimestampValue
) -> ir.FloatingValue:
    """Return the days from ``earlier`` to ``later`` as float64 (seconds / 86400)."""
    micros = elapsed_microseconds(later, earlier).cast("float64")
    return micros / (SECONDS_PER_DAY * MICROSECONDS_PER_SECOND)


@ibis.udf.agg.builtin(name="min")
def _smallest(arg: dt.timestamp, n: dt.int64) -> dt.Array(dt.timestamp):
    """DuckDB's ``min(arg, n)``: the n smallest values, in ascending order."""


def kth_smallest(
    table: ir.Table, keys: Sequence[str], order: str, tie: str, k: int
) -> ir.Table:
    """Per ``keys``, the ``k``-th smallest value of the timestamp column ``order``.

    Returns ``keys`` and ``at``; groups with fewer than ``k`` rows have no
    row. Rows tied on ``order`` count once each. Because tied rows share the
    value, the result does not depend on their order; outside DuckDB they
    are numbered in ``(order, tie)`` order.
    """
    keys = list(keys)
    if _engine_name(table) == "duckdb":
        grouped = table.group_by(keys).aggregate(_smallest=_smallest(table[order], k))
        at = grouped._smallest[k - 1].cast(table[order].type())
        grouped = grouped.select(*keys, at=at)
        return grouped.filter(grouped.at.notnull())
    window = ibis.window(group_by=keys, order_by=[table[order], table[tie]])
    ranked = table.mutate(_rank=ibis.row_number().over(window))
    return ranked.filter(ranked._rank == k - 1).select(*keys, at=ranked[order])


def _engine_name(table: ir.Table) -> str | None:
    try:
        return ibis.get_backend(table).name
    except IbisError:  # an unbound table has no engine yet
        return None


def guarded_ln(value: ir.NumericValue) -> ir.FloatingValue:
    """Return ``ln(value)``, or NULL when ``value`` is zero or negative, on any engine."""
    return ibis.ifelse(value > 0, value.ln(), ibis.null().cast("float64"))


def cumulative_window(
    group_by: Sequence[str | ir.Value] = (), order_by: Sequence[str | ir.Value] = ()
) -> Any:
    """Return a window from the partition's first row to the current row.

    Ibis 12 gives a window with ``order_by`` alone the whole partition as
    frame on DuckDB and Spark, so ``sum().over(w)`` would return the total.
    """
    return ibis.window(group_by=list(group_by), order_by=list(order_by), rows=(None, 0))


def running_product(value: ir.NumericValue, window: Any) -> ir.FloatingValue:
    """Return the product of ``value`` over ``window`` as ``exp(sum(ln))``.

    Values must be zero or positive. Once a zero has entered the window the
    product is 0 on every engine, where a plain ``exp(sum(ln))`` gives 0 on
    DuckDB and ignores the zero on Spark.
    """
    zeros = (value <= 0).cast("int64").sum().over(window)
    log_sum = guarded_ln(value).sum().over(window).fill_null(0.0)
    return ibis.ifelse(zeros > 0, ibis.literal(0.0), log_sum.exp())


def kaplan_meier_expr(life_table: ir.Table) -> ir.Table:
    """Compute the Kaplan-Meier survival per group inside the engine.

    Parameters
    ----------
    life_table
        A life table expression with the columns of
        :func:`jalon.survival.life_table_expr`: ``group``, ``time``,
        ``n_event``, ``n_competing``, ``n_censored``. Competing events are
        treated as censoring, as in "1 - Kaplan-Meier".

    Returns
    -------
    ibis.Table
        ``group``, ``time``, ``n_at_risk`` and ``survival`` (the estimate just
        after ``time``), one row per life table row.
    """
    removed = life_table.n_event + life_table.n_competing + life_table.n_censored
    table = life_table.mutate(_removed=removed)
    everyone = ibis.window(group_by=[table.group])
    before = cumulative_window([table.group], [table.time])
    at_risk = table._removed.sum().over(everyone) - table._removed.sum().over(before)
    table = table.mutate(n_at_risk=(at_risk + table._removed).cast("int64"))
    factor = 1.0 - table.n_event.cast("float64") / table.n_at_risk.cast("float64")
    table = table.mutate(_factor=factor)
    survival = running_product(
        table._factor, cumulative_window([table.group], [table.time])
    )
    return table.select("group", "time", "n_at_risk", survival=survival)


def open_store(config: Config, read_only: bool = False) -> Store | SparkStore:
    """Open the store of the engine that the config names in ``project.engine``.

    Parameters
    ----------
    config
        The validated project configuration.
    read_only
        For DuckDB, open the file without write access. A Spark store is
        always read-only: it reads the Parquet files of ``[project.spark]``.

    Raises
    ------
    StoreError
        As :meth:`jalon.store.Store.open` or
        :meth:`jalon.store.spark.SparkStore.from_config` do.
    ConfigError
        On an invalid ``[project.spark]`` table.
    """
    if config.engine == "spark":
        from jalon.store.spark import SparkStore

        return SparkStore.from_config(config)
    return Store.open(
        config.store_path, read_only=read_only, memory_limit=config.memory_limit
    )


def materialize(store: Any, expr: ir.Table, name: str) -> ir.Table:
    """Compute ``expr`` once and return a table that reads the stored result.

    Ibis's PySpark backend has no temporary tables, so a store that defines
    ``materialize`` (the Spark store) does it its own way. Otherwise the
    result goes to a temporary table of the store's connection.
    """
    method = getattr(store, "materialize", None)
    if method is not None:
        return method(expr, name)
    return store.con.create_table(name, expr, temp=True, overwrite=True)


def export_parquet(
    store: Store, folder: str | Path, partition_by: Sequence[str] = ()
) -> Path:
    """Write a DuckDB store's tables to Parquet, so that Spark can read them.

    Parameters
    ----------
    store
        An open DuckDB :class:`~jalon.store.Store`.
    folder
        Destination folder, created when missing. Its ``events`` folder is
        replaced. It receives ``events/`` (Parquet files, one subfolder per
        value of ``partition_by`` when given), ``accounts.parquet`` (when the
        store has accounts), ``_properties.parquet`` and
        ``_exclusions.parquet``, the names the Spark store looks for by
        default.
    partition_by
        Events columns to partition the files by, such as ``("event",)``.

    Returns
    -------
    Path
        The absolute destination folder.
    """
    folder = Path(folder).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    raw = store.raw
    options = ["FORMAT parquet", "OVERWRITE_OR_IGNORE true"]
    if partition_by:
        options.append(f"PARTITION_BY ({', '.join(_quoted(c) for c in partition_by)})")
    else:
        options.append("PER_THREAD_OUTPUT true")
    events_dir = folder / EXPORT_EVENTS
    _remove_parquet_tree(events_dir)
    raw.execute(
        f"COPY (SELECT * FROM {schema.EVENTS} ORDER BY _seq) "
        f"TO {_string(events_dir)} ({', '.join(options)})"
    )
    if store.accounts() is not None:
        _copy_file(raw, f"SELECT * FROM {schema.ACCOUNTS}", folder / EXPORT_ACCOUNTS)
    _copy_file(raw, f"SELECT * FROM {schema.PROPERTIES}", folder / EXPORT_PROPERTIES)
    _copy_file(
        raw,
        f"SELECT x.*, f.path FROM {schema.EXCLUSIONS} AS x "
        f"LEFT JOIN {schema.FILES} AS f USING (file_id)",
        folder / EXPORT_EXCLUSIONS,
    )
    logger.info("exported store %s to %s", store.path, folder)
    return folder


def _copy_file(raw: Any, query: str, path: Path) -> None:
    raw.execute(f"COPY ({query}) TO {_string(path)} (FORMAT parquet)")


def _remove_parquet_tree(folder: Path) -> None:
    """Delete the Parquet files of an earlier export, and nothing else."""
    if not folder.exists():
        return
    for path in sorted(folder.rglob("*.parquet")):
        path.unlink()
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _string(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"

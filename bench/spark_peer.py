"""The benchmark's milestones and survival statistics on Spark in local mode.

The DuckDB store is exported to Parquet (timed apart), then the per-account
table is built, cached in Spark and summarized per milestone, overall and
per plan, from life tables. Cohorts and the churn link are left out,
because ``run_analysis`` cannot run on Spark until it materializes through
the store (see ``jalon.store.engine.materialize``).
"""

from __future__ import annotations

import time
from pathlib import Path

#: Spark settings for one 2-core machine.
SPARK_CONF = {
    "spark.driver.memory": "4g",
    "spark.sql.shuffle.partitions": "8",
}


def run_spark(folder: Path, config_path: Path) -> dict:
    """Return the wall times of export, session start and analysis, and the medians."""
    from jalon.config import load_config
    from jalon.milestones.accounts import build_account_table
    from jalon.store import Store
    from jalon.store.engine import EXPORT_ACCOUNTS, EXPORT_EVENTS, export_parquet
    from jalon.store.spark import SparkSettings, SparkStore
    from jalon.survival import life_table, summarize, summarize_groups

    config = load_config(config_path)
    export_dir = folder / "spark-export"
    started = time.perf_counter()
    with Store.open(config.store_path, read_only=True) as store:
        export_parquet(store, export_dir)
    export_seconds = time.perf_counter() - started

    settings = SparkSettings(
        events_path=export_dir / EXPORT_EVENTS,
        accounts_path=export_dir / EXPORT_ACCOUNTS,
        conf=SPARK_CONF,
    )
    started = time.perf_counter()
    store = SparkStore.open(settings)
    open_seconds = time.perf_counter() - started
    try:
        started = time.perf_counter()
        built = build_account_table(
            config,
            store.events(),
            store.accounts(),
            store.properties(),
            config.observation_end,
        )
        table = store.materialize(built.table, "_bench_accounts")
        materialize_seconds = time.perf_counter() - started
        medians = {}
        for milestone in config.milestones:
            days, status = f"m_{milestone.id}_days", f"m_{milestone.id}_status"
            overall = summarize(life_table(table, days, status, execute=store.execute))
            by_plan = summarize_groups(
                life_table(table, days, status, "plan", execute=store.execute)
            )
            for summary in (overall, *by_plan):
                median = next(p for p in summary.percentiles if p.q == 0.5)
                medians[f"{milestone.id}/{summary.group}"] = median.days
        analysis_seconds = time.perf_counter() - started
        jvm_peak_mib = _jvm_peak_mib(store.session)
    finally:
        store.close()
    return {
        "seconds": analysis_seconds,
        "materialize_seconds": materialize_seconds,
        "export_seconds": export_seconds,
        "session_seconds": open_seconds,
        "jvm_peak_rss_mib": jvm_peak_mib,
        "medians": medians,
    }


def _jvm_peak_mib(session) -> float | None:
    """Return the peak resident memory of the Spark JVM (VmHWM), in MiB, on Linux."""
    process = getattr(session.sparkContext._gateway, "proc", None)
    status = Path(f"/proc/{process.pid}/status") if process is not None else None
    if status is None or not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None

"""Benchmark the engine on a synthetic log: ingest, scan, milestones, analysis.

Each stage runs in its own process, so its peak memory (maximum resident set
size from ``os.wait4``) is its own. Timings inside a stage are the minimum of
:data:`REPEATS` runs where a stage repeats, because the machine may be
shared. Every figure is printed as one JSON line, with the load average.

Usage::

    python bench/bench_engine.py 1000000 /tmp/bench-1m --pandas
    python bench/bench_engine.py 10000000 /tmp/bench-10m --pandas --spark

The folder receives the generated log (see ``bench/generate.py``), a
jalon.toml and the store. Nothing is written to the repository.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

REPEATS = 3
HORIZONS_DAYS = (1, 7, 30)
FIRST_OCCURRENCE_EVENTS = (
    "project_created",
    "invite_sent",
    "report_viewed",
    "subscription_cancelled",
    "signed_up",
)
KIB = 1024
#: Set by ``--memory-limit``: every stage's config gets ``project.memory_limit``.
MEMORY_LIMIT_VARIABLE = "JALON_BENCH_MEMORY_LIMIT"

CONFIG_TEMPLATE = """
[project]
name = "bench"
store = "store.duckdb"
{memory_limit}

[events]
paths = ["{events_dir}"]
format = "{events_format}"
deduplicate = {deduplicate}
[events.columns]
account_id = "account_id"
user_id = "user_id"
event = "event"
timestamp = "timestamp"

[accounts]
path = "accounts.parquet"
[accounts.columns]
account_id = "account_id"
segments = ["plan"]

[start]
column = "signup_at"

[observation]
end = "2025-07-20"
horizons = [1, 7, 30]
{churn}
{cohorts}
{milestones}
"""

#: Churn is a competing risk of every milestone. It also turns on the churn
#: link analysis, whose Cox fits dominate the run time, so its sample and
#: bootstrap are kept small and its time is reported apart.
CHURN_SECTION = """
[churn]
event = "subscription_cancelled"

[analysis]
cox_max_accounts = 2000
landmarks = [7]
n_boot = 50
"""

COHORTS_SECTION = '[cohorts]\nperiod = "week"\nactivity = "report_viewed"\n'

#: The analysis milestones; their true medians are in truth.json.
ANALYSIS_MILESTONES = """
[[milestones]]
id = "activated"
name = "First project"
event = "project_created"

[[milestones]]
id = "engaged"
name = "Third report"
event = "report_viewed"
count = 3

[[milestones]]
id = "invited"
name = "Invite within 14 days"
event = "invite_sent"
within = "14d"
"""

#: Conditions that are neither first, Nth nor windowed occurrences: they
#: group events by (account, day) or (account, event name) and are timed
#: apart from the targets of the scale issue.
OTHER_MILESTONES = """
[[milestones]]
id = "active3"
name = "Three active days"
active_days = 3

[[milestones]]
id = "kinds3"
name = "Three kinds of event"
distinct = "event"
count = 3
"""


def first_occurrence_milestones() -> str:
    return "\n".join(
        f'[[milestones]]\nid = "first_{i}"\nname = "{event}"\nevent = "{event}"\n'
        for i, event in enumerate(FIRST_OCCURRENCE_EVENTS)
    )


def write_config(
    folder: Path,
    name: str,
    milestones: str,
    full: bool = False,
    events_dir: str = "events",
    events_format: str = "parquet",
    cohorts: bool | None = None,
) -> Path:
    """Write a jalon.toml variant; all variants share the store."""
    limit = os.environ.get(MEMORY_LIMIT_VARIABLE)
    text = CONFIG_TEMPLATE.format(
        memory_limit=f'memory_limit = "{limit}"' if limit else "",
        deduplicate="false",
        events_dir=events_dir,
        events_format=events_format,
        churn=CHURN_SECTION if full else "",
        cohorts=COHORTS_SECTION if (full if cohorts is None else cohorts) else "",
        milestones=milestones,
    )
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def load_average() -> float:
    return os.getloadavg()[0]


def best_of(function, repeats: int = REPEATS) -> tuple[float, Any]:
    """Run ``function`` ``repeats`` times; return the shortest time and a result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return min(times), result


# Stages: each runs in a child process and returns a dict of figures.


def stage_generate(folder: Path, n_events: int) -> dict:
    from generate import generate

    truth = generate(n_events, folder)
    return {"seconds": truth["generate_seconds"], "n_events": truth["n_events"]}


def stage_ingest(folder: Path, n_events: int) -> dict:
    from jalon.config import load_config
    from jalon.ingest import load_project
    from jalon.store import Store

    config = load_config(write_config(folder, "jalon.toml", ANALYSIS_MILESTONES))
    calls = []
    started = time.perf_counter()
    with Store.open(config.store_path, memory_limit=config.memory_limit) as store:
        summary = load_project(
            store,
            config.events,
            config.accounts,
            config.base_dir,
            progress=lambda path, done, total: calls.append(done),
        )
        loaded = store.raw.execute("SELECT count(*) FROM events").fetchone()[0]
    return {
        "seconds": time.perf_counter() - started,
        "events_loaded": int(loaded),
        "progress_calls": len(calls),
        "store_bytes": config.store_path.stat().st_size,
        "summary": repr(summary)[:200],
    }


def stage_scan(folder: Path, n_events: int) -> dict:
    from jalon.store import Store

    with Store.open(folder / "store.duckdb", read_only=True) as store:
        query = "SELECT account_id, min(ts) FROM events GROUP BY account_id"
        seconds, rows = best_of(lambda: store.raw.sql(query).to_arrow_table().num_rows)
        parquet = f"SELECT account_id, min(timestamp) FROM '{folder}/events/*.parquet' GROUP BY 1"
        parquet_seconds, _ = best_of(lambda: store.raw.sql(parquet).to_arrow_table())
    return {
        "seconds": seconds,
        "accounts": rows,
        "parquet_scan_seconds": parquet_seconds,
    }


def _account_table_seconds(folder: Path, config_name: str, milestones: str) -> dict:
    import ibis

    from jalon.config import load_config
    from jalon.milestones.accounts import build_account_table
    from jalon.store import Store
    from jalon.store.engine import materialize

    config = load_config(write_config(folder, config_name, milestones))
    with Store.open(
        config.store_path, read_only=True, memory_limit=config.memory_limit
    ) as store:
        built = build_account_table(
            config,
            store.events(),
            store.accounts(),
            store.properties(),
            config.observation_end,
        )
        seconds, table = best_of(
            lambda: materialize(store, built.table, "_bench_accounts")
        )
        rows = int(store.execute(table.count()).iloc[0, 0])
        # The same work split in two: Ibis compiling SQL, then DuckDB running it.
        compile_seconds, sql = best_of(
            lambda: str(ibis.to_sql(built.table, dialect="duckdb"))
        )
        statement = f"CREATE OR REPLACE TEMP TABLE _bench_sql AS {sql}"
        execute_seconds, _ = best_of(lambda: store.raw.execute(statement))
    return {
        "seconds": seconds,
        "compile_seconds": compile_seconds,
        "execute_seconds": execute_seconds,
        "accounts": rows,
        "milestones": len(config.milestones),
    }


def stage_first(folder: Path, n_events: int) -> dict:
    return _account_table_seconds(folder, "first.toml", first_occurrence_milestones())


def stage_windowed(folder: Path, n_events: int) -> dict:
    """The analysis milestones: first, 3rd and windowed (14 days) occurrences."""
    return _account_table_seconds(folder, "windowed.toml", ANALYSIS_MILESTONES)


def stage_conditions(folder: Path, n_events: int) -> dict:
    return _account_table_seconds(folder, "conditions.toml", OTHER_MILESTONES)


def stage_analysis(folder: Path, n_events: int) -> dict:
    from jalon.analysis import run_analysis
    from jalon.config import load_config
    from jalon.store import Store

    config = load_config(
        write_config(folder, "full.toml", ANALYSIS_MILESTONES, full=True)
    )
    _warm_up()
    steps: list[tuple[str, float]] = []
    started = time.perf_counter()
    with Store.open(
        config.store_path, read_only=True, memory_limit=config.memory_limit
    ) as store:
        analysis = run_analysis(
            config,
            store,
            progress=lambda name, *rest: steps.append((name, time.perf_counter())),
        )
    total = time.perf_counter() - started
    step_seconds = _step_seconds(steps, started, started + total)
    return {
        "seconds": total,
        "seconds_without_churn_link": total - step_seconds.get("churn_link", 0.0),
        "steps": step_seconds,
        "medians": _medians(analysis, folder),
    }


def _warm_up() -> None:
    """Run one tiny query, so that Ibis's one-time imports are not timed.

    The pandas peer is timed after its imports too.
    """
    import ibis

    connection = ibis.duckdb.connect()
    connection.execute(ibis.memtable({"x": [1]}).x.sum())
    connection.disconnect()


def _step_seconds(steps: list[tuple[str, float]], started: float, ended: float) -> dict:
    """Seconds spent in each progress step, from its call to the next one."""
    marks = [("setup", started), *steps, ("end", ended)]
    seconds: dict[str, float] = {}
    for (name, at), (_, following) in itertools.pairwise(marks):
        seconds[name] = seconds.get(name, 0.0) + following - at
    return {name: round(value, 3) for name, value in seconds.items()}


def _medians(analysis, folder: Path) -> dict:
    """Kaplan-Meier medians with their interval, beside the true medians."""
    truth = json.loads((folder / "truth.json").read_text())["medians_days"]
    found = {}
    for milestone_id, groups in truth.items():
        result = analysis.milestone(milestone_id)
        summaries = {"all": result.overall}
        summaries.update({s.group: s for s in result.by_segment.get("plan", ())})
        for group, true_median in groups.items():
            median = next(p for p in summaries[group].percentiles if p.q == 0.5)
            inside = (
                median.lower is not None
                and median.upper is not None
                and (median.lower <= true_median <= median.upper)
            )
            found[f"{milestone_id}/{group}"] = {
                "km": median.days,
                "lower": median.lower,
                "upper": median.upper,
                "truth": true_median,
                "inside": inside,
            }
    return found


def stage_analysis_core(folder: Path, n_events: int) -> dict:
    """Run the analysis without churn, so without the churn link step."""
    from jalon.analysis import run_analysis
    from jalon.config import load_config
    from jalon.store import Store

    config_path = write_config(folder, "core.toml", ANALYSIS_MILESTONES, cohorts=True)
    config = load_config(config_path)
    _warm_up()
    steps: list[tuple[str, float]] = []
    started = time.perf_counter()
    with Store.open(
        config.store_path, read_only=True, memory_limit=config.memory_limit
    ) as store:
        run_analysis(
            config,
            store,
            progress=lambda name, *rest: steps.append((name, time.perf_counter())),
        )
    total = time.perf_counter() - started
    return {"seconds": total, "steps": _step_seconds(steps, started, started + total)}


def stage_pandas(folder: Path, n_events: int) -> dict:
    from pandas_peer import run_pandas_peer

    started = time.perf_counter()
    medians = run_pandas_peer(folder)
    return {"seconds": time.perf_counter() - started, "medians": medians}


def stage_spark(folder: Path, n_events: int) -> dict:
    from spark_peer import run_spark

    # The churn section makes churn a competing risk, as in the analysis stage.
    config_path = write_config(folder, "spark.toml", ANALYSIS_MILESTONES, full=True)
    return run_spark(folder, config_path)


STAGES = {
    "generate": stage_generate,
    "ingest": stage_ingest,
    "scan": stage_scan,
    "first": stage_first,
    "windowed": stage_windowed,
    "conditions": stage_conditions,
    "analysis": stage_analysis,
    "analysis_core": stage_analysis_core,
    "pandas": stage_pandas,
    "spark": stage_spark,
}


def run_stage(name: str, folder: Path, n_events: int) -> dict:
    """Run one stage in a child process; add its peak memory and the load average."""
    command = [sys.executable, __file__, "--stage", name, str(n_events), str(folder)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(
            f"stage {name} failed with status {status}: {output[-2000:]}"
        )
    figures = json.loads(output.strip().splitlines()[-1])
    figures.update(
        stage=name,
        n_events=n_events,
        peak_rss_mib=round(usage.ru_maxrss / KIB, 1),
        load_average_1min=round(load_average(), 2),
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", type=int)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--stage", choices=sorted(STAGES))
    parser.add_argument("--only", nargs="*", choices=sorted(STAGES))
    parser.add_argument(
        "--pandas", action="store_true", help="also run the pandas peer"
    )
    parser.add_argument("--spark", action="store_true", help="also run on Spark")
    parser.add_argument(
        "--memory-limit", help='DuckDB memory limit written to each config, such as "3GB"'
    )
    arguments = parser.parse_args()
    if arguments.memory_limit:
        # Stages run in child processes, which inherit the environment.
        os.environ[MEMORY_LIMIT_VARIABLE] = arguments.memory_limit
    folder = arguments.folder.absolute()
    if arguments.stage:
        figures = STAGES[arguments.stage](folder, arguments.events)
        print(json.dumps(figures, default=str))
        return
    stages = arguments.only or [
        "generate",
        "ingest",
        "scan",
        "first",
        "windowed",
        "conditions",
        "analysis",
    ]
    if not arguments.only:
        stages += ["pandas"] * arguments.pandas + ["spark"] * arguments.spark
    folder.mkdir(parents=True, exist_ok=True)
    results_path = folder / "results.jsonl"
    for name in stages:
        if name == "generate" and (folder / "truth.json").exists():
            continue
        figures = run_stage(name, folder, arguments.events)
        with results_path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(figures, default=str) + "\n")
        print(json.dumps(figures, default=str), flush=True)


if __name__ == "__main__":
    main()

"""Print the figures of ``results.jsonl`` files as Markdown tables for RESULTS.md.

Usage::

    python bench/summarize.py /tmp/bench-1m /tmp/bench-10m

For each stage the last record of each folder is used.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def last_records(folder: Path) -> dict[str, dict]:
    """Return the last record of each stage in ``folder/results.jsonl``."""
    records: dict[str, dict] = {}
    for line in (folder / "results.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        records[record["stage"]] = record
    return records


def timing_rows(runs: dict[Path, dict[str, dict]]) -> list[str]:
    """Format one row per stage and size: seconds, ratios to the scans, memory, load.

    Account-table stages are timed as DuckDB's execution of the compiled
    SQL; the ratios divide that by one scan of the store's events and by
    one scan of the same events in the generated Parquet files.
    """
    rows = [
        (
            "| events | stage | seconds | ratio to one store scan "
            "| ratio to one Parquet scan | peak memory (MiB) | load average |"
        ),
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for records in runs.values():
        scan = records.get("scan", {})
        for stage, record in records.items():
            seconds = record.get("execute_seconds", record["seconds"])
            ratios = ["", ""]
            if stage in ACCOUNT_TABLE_STAGES and scan:
                ratios = [
                    f"{seconds / scan['seconds']:.1f}",
                    f"{seconds / scan['parquet_scan_seconds']:.1f}",
                ]
            if stage == "analysis":
                seconds = record["seconds_without_churn_link"]
                stage = "analysis without churn link"
            rows.append(
                f"| {record['n_events']:,} | {stage} | {seconds:.3f} | {ratios[0]} | "
                f"{ratios[1]} | {record['peak_rss_mib']:.0f} | "
                f"{record['load_average_1min']:.1f} |"
            )
    return rows


ACCOUNT_TABLE_STAGES = ("first", "windowed", "conditions")


def median_rows(runs: dict[Path, dict[str, dict]]) -> list[str]:
    """Format the Kaplan-Meier medians of the analysis stage beside the truth."""
    rows = [
        "| events | milestone/plan | true median (days) | KM median | 95% CI | inside |",
        "|---:|---|---:|---:|---|---|",
    ]
    for records in runs.values():
        analysis = records.get("analysis")
        if analysis is None:
            continue
        for key, found in analysis["medians"].items():
            rows.append(
                f"| {analysis['n_events']:,} | {key} | {found['truth']:.3f} | "
                f"{found['km']:.3f} | {found['lower']:.3f} to {found['upper']:.3f} | "
                f"{'yes' if found['inside'] else 'no'} |"
            )
    return rows


def main() -> None:
    runs = {Path(name): last_records(Path(name)) for name in sys.argv[1:]}
    print("\n".join(timing_rows(runs)))
    print()
    print("\n".join(median_rows(runs)))


if __name__ == "__main__":
    main()

"""The benchmark analysis written the way an analyst would, in pandas and lifelines.

It reads the generated Parquet files whole, as ``pd.read_parquet`` does, and
computes the same milestones, churn, Kaplan-Meier medians per plan and
weekly cohorts as the ``analysis`` stage of ``bench/bench_engine.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

END = pd.Timestamp(dt.datetime(2025, 7, 20))
INVITE_WINDOW = pd.Timedelta(days=14)
SECONDS_PER_DAY = 86400


def run_pandas_peer(folder: Path) -> dict:
    """Compute the milestones and their medians; return medians by milestone and plan."""
    events = pd.read_parquet(folder / "events")
    accounts = pd.read_parquet(folder / "accounts.parquet")
    events = events.merge(accounts[["account_id", "signup_at"]], on="account_id")
    events = events[
        (events["timestamp"] >= events["signup_at"]) & (events["timestamp"] <= END)
    ]
    events = events.sort_values(["account_id", "timestamp"])

    table = accounts.set_index("account_id")
    churn = (
        events[events["event"] == "subscription_cancelled"]
        .groupby("account_id")["timestamp"]
        .min()
    )
    table["churn_at"] = churn
    projects = events[events["event"] == "project_created"]
    table["activated"] = projects.groupby("account_id")["timestamp"].min()
    reports = events[events["event"] == "report_viewed"]
    # nth(2) is the third report; pandas 2 returns it with the row's original index.
    third = reports.groupby("account_id").nth(2)
    table["engaged"] = third.set_index("account_id")["timestamp"]
    invites = events[events["event"] == "invite_sent"]
    invites = invites[invites["timestamp"] <= invites["signup_at"] + INVITE_WINDOW]
    table["invited"] = invites.groupby("account_id")["timestamp"].min()

    _cohorts(events)
    medians = {}
    for milestone in ("activated", "engaged", "invited"):
        days, reached = _durations(table, milestone)
        medians[f"{milestone}/all"] = _km_median(days, reached)
        for plan in sorted(table["plan"].unique()):
            mask = (table["plan"] == plan).to_numpy()
            medians[f"{milestone}/{plan}"] = _km_median(days[mask], reached[mask])
    return medians


def _durations(table: pd.DataFrame, milestone: str) -> tuple[np.ndarray, np.ndarray]:
    reached_at = table[milestone]
    churn_at = table["churn_at"]
    reached = reached_at.notna() & (churn_at.isna() | (reached_at <= churn_at))
    until = reached_at.where(reached, churn_at.fillna(END))
    until = until.fillna(END)
    days = (until - table["signup_at"]).dt.total_seconds() / SECONDS_PER_DAY
    return days.clip(lower=0).to_numpy(), reached.to_numpy()


def _km_median(days: np.ndarray, reached: np.ndarray) -> dict:
    fitter = KaplanMeierFitter().fit(days, reached)
    bounds = median_survival_times(fitter.confidence_interval_)
    return {
        "km": float(fitter.median_survival_time_),
        "lower": float(bounds.iloc[0, 0]),
        "upper": float(bounds.iloc[0, 1]),
    }


def _cohorts(events: pd.DataFrame) -> pd.DataFrame:
    """Active accounts per weekly sign-up cohort and week since sign-up."""
    active = events[events["event"] == "report_viewed"]
    cohort = active["signup_at"].dt.to_period("W").dt.start_time
    week = ((active["timestamp"] - active["signup_at"]).dt.days // 7).clip(upper=11)
    return (
        active.assign(cohort=cohort, week=week)
        .groupby(["cohort", "week"])["account_id"]
        .nunique()
    )


if __name__ == "__main__":
    import sys

    print(json.dumps(run_pandas_peer(Path(sys.argv[1])), indent=2))

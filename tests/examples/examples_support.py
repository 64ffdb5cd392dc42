"""Helpers for the end-to-end tests of the real-data examples.

Each example runs once per test module. Its ``jalon.toml`` is copied into a
temporary folder, so the store and the report never land in the checkout.
``jalon report`` runs in a subprocess, and the analysis is then read back
through :func:`jalon.analysis.run_analysis` for exact values. The tests
compare those values with figures computed directly from the raw files
with pandas, lifelines and statsmodels.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jalon.analysis import Analysis, run_analysis
from jalon.config import load_config
from jalon.store import Store

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
DATA = Path(__file__).parents[2] / ".." / "shared" / "data"
#: Path of the shared data as the example configs write it, from examples/<name>/.
CONFIG_DATA_PREFIX = "../../../shared/data"
#: Generous limit for one ``jalon report`` run on these data sets: the OULAD
#: run took under a minute on an idle 2-core machine and 14 minutes on a busy one.
REPORT_TIMEOUT_SECONDS = 1800
SECONDS_PER_DAY = 86400.0

STATUS_CENSORED = 0
STATUS_REACHED = 1
STATUS_CHURNED = 2


def require_data(name: str) -> Path:
    """Return the folder of a shared data set, or skip the test when it is absent."""
    folder = DATA / name
    if not folder.is_dir():
        pytest.skip(f"real data set {name} not found at {folder.resolve()}")
    return folder


@dataclass(frozen=True)
class ExampleRun:
    """One ``jalon report`` run of an example in a temporary folder."""

    config_path: Path
    report_path: Path
    process: subprocess.CompletedProcess
    analysis: Analysis | None


def copy_config(example: str, folder: Path) -> Path:
    """Copy an example's jalon.toml into ``folder`` with the data paths made absolute.

    The store stays at its relative default, so it is created inside ``folder``.
    """
    text = (EXAMPLES / example / "jalon.toml").read_text(encoding="utf-8")
    absolute = DATA.resolve().as_posix()
    text = text.replace(CONFIG_DATA_PREFIX, absolute)
    path = folder / "jalon.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_report(config_path: Path, language: str) -> ExampleRun:
    """Run the ``jalon report`` command on ``config_path`` and read its analysis back."""
    report_path = config_path.parent / f"report-{language}.html"
    command = [
        sys.executable,
        "-m",
        "jalon.cli.main",
        "report",
        "--config",
        str(config_path),
        "--out",
        str(report_path),
        "--lang",
        language,
    ]
    process = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=REPORT_TIMEOUT_SECONDS,
        cwd=config_path.parent,
    )
    analysis = None
    if process.returncode == 0:
        analysis = read_analysis(config_path)
    return ExampleRun(config_path, report_path, process, analysis)


def read_analysis(config_path: Path) -> Analysis:
    """Run :func:`run_analysis` on the store the report command filled."""
    config = load_config(config_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Store.open(config.store_path) as store:
            return run_analysis(config, store)


def outcome_frame(
    start: pd.Series,
    reached_at: pd.Series,
    churn_at: pd.Series,
    end: pd.Timestamp,
) -> pd.DataFrame:
    """Return ``days`` and ``status`` per account, by the rules of docs/DESIGN.md.

    A milestone reached at the same instant as churn counts as reached;
    otherwise churn first gives status 2 and no outcome by ``end`` status 0.
    """
    reached = reached_at.notna() & (churn_at.isna() | (reached_at <= churn_at))
    churned = churn_at.notna() & ~reached
    until = end + pd.Series(pd.Timedelta(0), index=start.index)
    until = until.where(~churned, churn_at).where(~reached, reached_at)
    days = (until - start).dt.total_seconds().clip(lower=0) / SECONDS_PER_DAY
    status = np.select([reached, churned], [STATUS_REACHED, STATUS_CHURNED], STATUS_CENSORED)
    return pd.DataFrame({"days": days, "status": status}, index=start.index)


def first_time(events: pd.DataFrame, start: pd.Series, end: pd.Timestamp) -> pd.Series:
    """Return the first ``timestamp`` per ``account_id`` from the start to ``end``.

    ``start`` is indexed by account id; events before it are not used.
    """
    starts = events["account_id"].map(start)
    usable = events[(events["timestamp"] >= starts) & (events["timestamp"] <= end)]
    return usable.groupby("account_id")["timestamp"].min().reindex(start.index)


def cumulative_incidence_at(days: pd.Series, status: pd.Series, horizon: float) -> float:
    """Return the Aalen-Johansen share reached by ``horizon`` days (statsmodels)."""
    from statsmodels.duration.survfunc import CumIncidenceRight

    with np.errstate(divide="ignore", invalid="ignore"):
        fit = CumIncidenceRight(days.to_numpy(float), status.to_numpy(np.int64))
    position = np.searchsorted(fit.times, horizon, side="right") - 1
    if position < 0:
        return 0.0
    return float(fit.cinc[0][position])


def kaplan_meier_share(days: pd.Series, status: pd.Series, horizon: float) -> float:
    """Return one minus Kaplan-Meier at ``horizon``, churn treated as censoring (lifelines)."""
    from lifelines import KaplanMeierFitter

    fitter = KaplanMeierFitter().fit(days, event_observed=(status == STATUS_REACHED))
    return 1.0 - float(fitter.survival_function_at_times(horizon).iloc[0])


def kaplan_meier_median(days: pd.Series, status: pd.Series) -> float:
    """Return the Kaplan-Meier median time to the milestone (lifelines), inf if not reached."""
    from lifelines import KaplanMeierFitter

    fitter = KaplanMeierFitter().fit(days, event_observed=(status == STATUS_REACHED))
    return float(fitter.median_survival_time_)


def horizon_share(shares, day: float) -> float:
    """Return the share of the :class:`HorizonShare` at ``day`` in ``shares``."""
    for share in shares:
        if share.days == day:
            return share.share
    raise KeyError(day)

"""Cohort matrices in pandas, built from the engine's small count tables.

Every matrix has one row per cohort (sorted, index ``cohort``) and one
column per period 0 to ``periods - 1``. A cell that is not observable (see
:mod:`jalon.cohorts.periods`) is NaN, and ``observable`` marks the observable cells.

* ``retention``: accounts active in period k / cohort size;
* ``retention_or_later``: accounts active in period k or any later period,
  up to the observation end / cohort size;
* ``churn``: accounts whose ``churn_at`` falls in period k / cohort size
  (logo churn, the heatmap's values);
* ``churn_hazard``: accounts churned in period k / accounts not churned
  before period k.

The early-churn spike of a cohort is its observable period with the largest
churn hazard (the earliest on ties); a cohort without churn in its
observable periods has no spike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jalon.cohorts.periods import period_end
from jalon.cohorts.spec import CohortSpec

SPIKE_COLUMNS = ["cohort", "period", "churn_hazard", "n_churned", "n_at_risk"]


def observable_mask(
    sizes: pd.DataFrame, spec: CohortSpec, end: pd.Timestamp
) -> pd.DataFrame:
    """Return a boolean cohort x period matrix: True where the cell is observable."""
    rows = {}
    for _, row in sizes.iterrows():
        origin = row.cohort if spec.anchor == "calendar" else row.latest_start
        rows[row.cohort] = [
            period_end(pd.Timestamp(origin), spec.period, k) <= end
            for k in range(spec.periods)
        ]
    return _frame(rows, spec.periods, bool)


def count_matrix(
    counts: pd.DataFrame,
    sizes: pd.DataFrame,
    periods: int,
    value: str,
    period: str = "period",
) -> pd.DataFrame:
    """Pivot a (cohort, period, value) table to cohort x period counts (0 if absent)."""
    index = pd.Index(sizes.cohort, name="cohort")
    rows, ks = _cells(counts, index, counts[period])
    matrix = np.zeros((len(index), periods), dtype="int64")
    inside = (rows >= 0) & (ks >= 0) & (ks < periods)
    matrix[rows[inside], ks[inside]] = counts[value].to_numpy(dtype="int64")[inside]
    return pd.DataFrame(matrix, index=index, columns=range(periods))


def or_later_counts(
    last: pd.DataFrame, sizes: pd.DataFrame, periods: int
) -> pd.DataFrame:
    """Count accounts whose latest active period is k or later, per cohort."""
    index = pd.Index(sizes.cohort, name="cohort")
    rows, reach = _cells(last, index, last.last_period)
    reach = np.minimum(reach, periods - 1)
    inside = (rows >= 0) & (reach >= 0)
    latest = np.zeros((len(index), periods), dtype="int64")
    np.add.at(latest, (rows[inside], reach[inside]), last.n_accounts.to_numpy(dtype="int64")[inside])
    # Accounts last active in period j count in every period up to j.
    matrix = latest[:, ::-1].cumsum(axis=1)[:, ::-1]
    return pd.DataFrame(matrix, index=index, columns=range(periods))


def _cells(
    table: pd.DataFrame, index: pd.Index, periods: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``table``'s cohorts in ``index`` (-1 when absent), and its periods."""
    if table.empty:
        return np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
    rows = index.get_indexer(pd.Index(pd.to_datetime(table.cohort)))
    return rows, periods.to_numpy(dtype="int64")


def share(
    counts: pd.DataFrame, denominators: pd.DataFrame, mask: pd.DataFrame
) -> pd.DataFrame:
    """Divide counts by denominators, with NaN where the cell is not observable."""
    values = counts.astype("float64") / denominators.astype("float64").where(
        denominators > 0
    )
    return values.where(mask)


def sizes_matrix(sizes: pd.DataFrame, periods: int) -> pd.DataFrame:
    """Repeat each cohort's size across its periods."""
    values = np.repeat(sizes.n_accounts.to_numpy()[:, None], periods, axis=1)
    return pd.DataFrame(
        values, index=pd.Index(sizes.cohort, name="cohort"), columns=range(periods)
    )


def at_risk_matrix(churned: pd.DataFrame, sizes: pd.DataFrame) -> pd.DataFrame:
    """Return accounts not churned before each period: size minus earlier churn."""
    before = churned.cumsum(axis=1).shift(1, axis=1).fillna(0).astype("int64")
    return sizes_matrix(sizes, churned.shape[1]) - before


def churn_spikes(
    hazard: pd.DataFrame, churned: pd.DataFrame, at_risk: pd.DataFrame
) -> pd.DataFrame:
    """Return each cohort's period of largest churn hazard (see module docstring)."""
    rows = []
    for cohort in hazard.index:
        values = hazard.loc[cohort].dropna()
        if values.empty or values.max() <= 0:
            rows.append(
                {
                    "cohort": cohort,
                    "period": pd.NA,
                    "churn_hazard": np.nan,
                    "n_churned": 0,
                    "n_at_risk": 0,
                }
            )
            continue
        k = int(values.idxmax())
        rows.append(
            {
                "cohort": cohort,
                "period": k,
                "churn_hazard": float(values[k]),
                "n_churned": int(churned.loc[cohort, k]),
                "n_at_risk": int(at_risk.loc[cohort, k]),
            }
        )
    frame = pd.DataFrame(rows, columns=SPIKE_COLUMNS)
    frame["period"] = frame["period"].astype("Int64")
    return frame


def _frame(rows: dict, periods: int, dtype) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=range(periods)).astype(
        dtype
    )
    frame.index.name = "cohort"
    return frame

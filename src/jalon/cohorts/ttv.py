"""Time to value per cohort and milestone: medians and a trend test.

The life table of each milestone is built in the engine, grouped by cohort.
Each cohort's Kaplan-Meier median comes from :mod:`jalon.survival`. Churn
before the milestone is treated as censoring there, so the median is that
of accounts as long as they stay.

The trend test checks whether later cohorts reach the milestone faster. It is
the log-rank test for trend with cohort scores 0, 1, 2... in time order:
``U = Σ_t Σ_g w_g (d_gt - n_gt d_t / n_t)`` with variance
``Σ_t d_t (n_t - d_t) / (n_t - 1) · (Σ_g w_g² n_gt / n_t - (Σ_g w_g n_gt / n_t)²)``,
where ``d`` counts accounts reaching the milestone and ``n`` accounts at
risk at time ``t``. ``z = U / √variance`` is positive when later cohorts
reach the milestone sooner than equal hazards would give. With two cohorts
``z²`` is the ordinary log-rank statistic.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats

from jalon.cohorts.periods import cohort_of
from jalon.cohorts.spec import CohortSpec

logger = logging.getLogger(__name__)

MEDIAN = 0.5
#: Below this many accounts still observed at the median, its interval is
#: wide and the result gets a caveat (as in jalon.survival).
MIN_AT_RISK = 10
COHORT_LABEL = "_cohort_label"
COUNTS = ["n_event", "n_competing", "n_censored"]
TTV_COLUMNS = [
    "milestone",
    "cohort",
    "n_accounts",
    "n_reached",
    "n_churned_first",
    "n_censored",
    "median_days",
    "median_lower",
    "median_upper",
    "few_at_risk",
]
TREND_COLUMNS = ["milestone", "n_cohorts", "z", "p_value"]


def with_cohort_label(accounts: ir.Table, spec: CohortSpec) -> ir.Table:
    """Add the column :data:`COHORT_LABEL`: each account's cohort start as an ISO date."""
    label = cohort_of(accounts.start_at, spec.period).cast("date").cast("string")
    return accounts.mutate(**{COHORT_LABEL: label})


def cohort_life_tables(
    accounts: ir.Table, spec: CohortSpec, milestones: Sequence[str]
) -> dict[str, pd.DataFrame]:
    """Return each milestone's life table with one group per cohort.

    Groups are cohort starts as ISO dates (``"2024-01-01"``), so their
    alphabetical order is their time order.
    """
    from jalon.survival import life_table

    labelled = with_cohort_label(accounts, spec)
    return {
        milestone: life_table(
            labelled, f"m_{milestone}_days", f"m_{milestone}_status", group=COHORT_LABEL
        )
        for milestone in milestones
    }


def median_ttv_by_cohort(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Return one row per milestone and cohort, sorted by milestone then cohort.

    Parameters
    ----------
    tables
        From :func:`cohort_life_tables`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TTV_COLUMNS`. ``median_days`` and its 95% limits are
        NaN when the Kaplan-Meier curve does not reach one half (or the limit
        curve does not). ``few_at_risk`` is true when fewer than
        :data:`MIN_AT_RISK` accounts were still observed at the median.
    """
    from jalon.survival import KaplanMeier
    from jalon.survival.lifetable import split_groups

    rows = []
    for milestone, table in tables.items():
        for group, counts in split_groups(table).items():
            fitted = KaplanMeier().fit_counts(counts)
            median = fitted.percentile(MEDIAN)
            rows.append(
                {
                    "milestone": milestone,
                    "cohort": pd.Timestamp(group),
                    "n_accounts": counts.n_accounts,
                    "n_reached": int(counts.event.sum()),
                    "n_churned_first": int(counts.competing.sum()),
                    "n_censored": int(counts.censored.sum()),
                    "median_days": _nan(median.days),
                    "median_lower": _nan(median.lower),
                    "median_upper": _nan(median.upper),
                    "few_at_risk": median.days is not None
                    and fitted.at_risk(median.days) < MIN_AT_RISK,
                }
            )
    frame = pd.DataFrame(rows, columns=TTV_COLUMNS)
    return frame.sort_values(["milestone", "cohort"], ignore_index=True)


def ttv_trend(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Return the log-rank trend test across cohorts for each milestone.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TREND_COLUMNS`, sorted by milestone. ``z`` and the
        two-sided ``p_value`` are NaN with fewer than two cohorts or no
        variance (no account reached the milestone).
    """
    rows = []
    for milestone, table in sorted(tables.items()):
        z = _trend_z(table)
        p_value = 2 * stats.norm.sf(abs(z)) if not math.isnan(z) else math.nan
        rows.append(
            {
                "milestone": milestone,
                "n_cohorts": int(table.group.nunique()),
                "z": z,
                "p_value": p_value,
            }
        )
    return pd.DataFrame(rows, columns=TREND_COLUMNS)


def _trend_z(table: pd.DataFrame) -> float:
    """Log-rank trend statistic with cohort scores 0, 1, 2, ... in date order.

    At each time t with d events among n accounts at risk, cohort g adds
    its score s times (d_g - d n_g / n) to U. The variance is the sum over
    times of d (n - d) / (n - 1) times the at-risk-weighted variance of the
    scores. Sums over cohorts are running sums over all rows sorted by
    time, so the cost grows with rows, not rows times cohorts.
    """
    from jalon.survival.lifetable import split_groups

    groups = list(split_groups(table).values())
    if len(groups) < 2:
        return math.nan
    score = np.concatenate(
        [np.full(len(counts.time), float(index)) for index, counts in enumerate(groups)]
    )
    time = np.concatenate([counts.time for counts in groups])
    event = np.concatenate([counts.event for counts in groups]).astype("float64")
    total = np.concatenate([counts.total for counts in groups]).astype("float64")
    order = np.argsort(time, kind="stable")
    time, score, event, total = time[order], score[order], event[order], total[order]
    starts = np.flatnonzero(np.r_[True, time[1:] != time[:-1]])

    def per_time(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, starts)

    def from_time_on(values: np.ndarray) -> np.ndarray:
        return per_time(values)[::-1].cumsum()[::-1]

    d, scored_events = per_time(event), per_time(score * event)
    n = from_time_on(total)
    first_moment = from_time_on(score * total)
    second_moment = from_time_on(score**2 * total)
    used = (d > 0) & (n > 1)
    d, n = d[used], n[used]
    mean, mean_square = first_moment[used] / n, second_moment[used] / n
    u = (scored_events[used] - d * mean).sum()
    variance = (d * (n - d) / (n - 1) * (mean_square - mean**2)).sum()
    if variance <= 0:
        return math.nan
    return float(u / math.sqrt(variance))


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)

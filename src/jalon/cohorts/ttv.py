"""Median time to value per cohort and milestone, with its confidence interval.

The life table of each milestone is built in the engine, grouped by cohort,
and each cohort's Kaplan-Meier median comes from :mod:`jalon.survival`.
Churn before the milestone is treated as censoring there, so the median is
that of accounts as long as they stay.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import ibis.expr.types as ir
import pandas as pd

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


def median_ttv_by_cohort(
    accounts: ir.Table, spec: CohortSpec, milestones: Sequence[str]
) -> pd.DataFrame:
    """Return one row per milestone and cohort, sorted by milestone then cohort.

    Parameters
    ----------
    accounts
        The per-account table with ``m_<id>_days`` and ``m_<id>_status``.
    spec
        Cohort set-up; only ``period`` is used.
    milestones
        Milestone ids.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TTV_COLUMNS`. ``median_days`` and its 95% limits are
        NaN when the Kaplan-Meier curve does not reach one half (or the limit
        curve does not). ``few_at_risk`` is true when fewer than
        :data:`MIN_AT_RISK` accounts were still observed at the median.
    """
    from jalon.survival import KaplanMeier, life_table_expr

    label = cohort_of(accounts.start_at, spec.period).cast("date").cast("string")
    labelled = accounts.mutate(**{COHORT_LABEL: label})
    rows = []
    for milestone in milestones:
        table = life_table_expr(
            labelled, f"m_{milestone}_days", f"m_{milestone}_status", group=COHORT_LABEL
        ).to_pandas()
        table = table.astype({name: "int64" for name in COUNTS})
        for group, part in table.groupby("group", sort=True):
            part = part.sort_values("time", ignore_index=True)
            fitted = KaplanMeier().fit(part)
            median = fitted.percentile(MEDIAN)
            rows.append(
                {
                    "milestone": milestone,
                    "cohort": pd.Timestamp(group),
                    "n_accounts": int(part[COUNTS].to_numpy().sum()),
                    "n_reached": int(part.n_event.sum()),
                    "n_churned_first": int(part.n_competing.sum()),
                    "n_censored": int(part.n_censored.sum()),
                    "median_days": _nan(median.days),
                    "median_lower": _nan(median.lower),
                    "median_upper": _nan(median.upper),
                    "few_at_risk": median.days is not None
                    and fitted.at_risk(median.days) < MIN_AT_RISK,
                }
            )
    frame = pd.DataFrame(rows, columns=TTV_COLUMNS)
    return frame.sort_values(["milestone", "cohort"], ignore_index=True)


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)

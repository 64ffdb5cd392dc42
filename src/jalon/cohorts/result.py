"""The result object of a cohort analysis."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from jalon.errors import N_

CAVEAT_NOT_OBSERVABLE = N_(
    "Some periods have not ended yet for every account of their cohort: they "
    "are shown as not yet observable, not as zero."
)
CAVEAT_FEW_AT_RISK = N_(
    "For some cohorts fewer than 10 accounts were still observed at the "
    "median time to value, so its confidence interval is wide."
)


@dataclass(frozen=True)
class CohortResult:
    """Retention, churn and time to value by start cohort.

    Matrices have one row per cohort (index ``cohort``, the start of the
    cohort's period, sorted) and one column per period 0 to ``periods - 1``.
    Cells that are not observable are NaN; ``observable`` is the boolean mask.

    Attributes
    ----------
    period, anchor, activity, periods
        From the ``[cohorts]`` config (``activity`` None means any event).
    observation_end
        Naive UTC timestamp.
    cohort_sizes
        Accounts per cohort (pandas Series indexed by cohort).
    retention, retention_or_later
        Share of the cohort active in period k, and in period k or later.
        The second counts activity up to the observation end, so later
        activity can still raise it.
    active, active_or_later
        The matching account counts (integers, also in unobservable cells).
    churn, churn_hazard
        Share of the cohort churned in period k, and churned in period k
        among those not churned before it.
    churned, at_risk
        The matching account counts.
    observable
        True where the period has ended for every account of the cohort.
    churn_observable
        True where, in addition, churn in the period is known by the end:
        with churn after N days of inactivity, the period ended at least N
        days before the end. It masks ``churn``, ``churn_hazard`` and the
        spikes.
    churn_spike
        ``cohort``, ``period``, ``churn_hazard``, ``n_churned``, ``n_at_risk``:
        the observable period with the largest churn hazard per cohort.
    median_ttv
        Median time to each milestone per cohort, with 95% limits
        (columns in :data:`jalon.cohorts.ttv.TTV_COLUMNS`).
    ttv_trend
        Per milestone, the log-rank test for trend across cohorts: ``z`` > 0
        when later cohorts reach it sooner, and its two-sided ``p_value``
        (columns in :data:`jalon.cohorts.ttv.TREND_COLUMNS`).
    n_accounts
        Accounts in the per-account table.
    excluded_events
        Activity events left out, by reason (``not_in_accounts``,
        ``before_start``, ``after_end``).
    caveats
        Message ids marked for translation.
    """

    period: str
    anchor: str
    activity: tuple[str, ...] | None
    periods: int
    observation_end: dt.datetime
    cohort_sizes: pd.Series
    retention: pd.DataFrame
    retention_or_later: pd.DataFrame
    active: pd.DataFrame
    active_or_later: pd.DataFrame
    churn: pd.DataFrame
    churn_hazard: pd.DataFrame
    churned: pd.DataFrame
    at_risk: pd.DataFrame
    observable: pd.DataFrame
    churn_observable: pd.DataFrame
    churn_spike: pd.DataFrame
    median_ttv: pd.DataFrame
    ttv_trend: pd.DataFrame
    n_accounts: int
    excluded_events: dict[str, int] = field(default_factory=dict)
    caveats: tuple[str, ...] = ()

    def __repr__(self) -> str:
        hidden = int((~self.observable).to_numpy().sum())
        return (
            f"CohortResult(period={self.period!r}, anchor={self.anchor!r}, "
            f"n_cohorts={len(self.cohort_sizes)}, n_accounts={self.n_accounts}, "
            f"not_observable_cells={hidden}, excluded_events={self.excluded_events!r}, "
            f"observation_end={self.observation_end.isoformat()})"
        )

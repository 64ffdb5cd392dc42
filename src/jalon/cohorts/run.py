"""Run the cohort analysis: engine counts, then matrices, spikes and TTV."""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Mapping, Sequence

import ibis.expr.types as ir
import pandas as pd

from jalon.cohorts.counts import (
    activity_counts,
    activity_events,
    churn_counts,
    cohort_accounts,
    cohort_sizes,
)
from jalon.cohorts.matrix import (
    at_risk_matrix,
    churn_spikes,
    count_matrix,
    observable_mask,
    or_later_counts,
    share,
    sizes_matrix,
)
from jalon.cohorts.periods import naive_utc
from jalon.cohorts.result import (
    CAVEAT_FEW_AT_RISK,
    CAVEAT_NOT_OBSERVABLE,
    CohortResult,
)
from jalon.cohorts.spec import CohortSpec
from jalon.cohorts.ttv import cohort_life_tables, median_ttv_by_cohort, ttv_trend
from jalon.errors import FewAtRiskWarning

logger = logging.getLogger(__name__)


def compute_cohorts(
    events: ir.Table,
    accounts: ir.Table,
    spec: CohortSpec,
    *,
    milestones: Sequence[str] = (),
    observation_end: dt.datetime | None = None,
    life_tables: Mapping[str, pd.DataFrame] | None = None,
    churn_known_after_days: float = 0.0,
) -> CohortResult:
    """Compute retention, churn, spikes and median TTV by start cohort.

    Parameters
    ----------
    events
        The store's events table.
    accounts
        The per-account table (``account_id``, ``start_at``, ``end_at``,
        ``churn_at``, and ``m_<id>_days`` / ``m_<id>_status`` for each of
        ``milestones``).
    spec
        From :func:`jalon.cohorts.parse_cohorts`.
    milestones
        Milestone ids whose median TTV to report per cohort.
    observation_end
        Naive UTC timestamp; default: the latest ``end_at``.
    life_tables
        Each milestone's life table by cohort label (see
        :func:`jalon.cohorts.ttv.with_cohort_label`), when the caller has
        them already; otherwise they are built here.
    churn_known_after_days
        Days after which a churn is known: N for churn after N days of
        inactivity, since an account last active fewer than N days before
        the end may still churn at that activity. A churn cell is observable
        only when its period ended at least this long before the end;
        retention cells are not affected.

    Returns
    -------
    CohortResult
    """
    if observation_end is None:
        observation_end = pd.Timestamp(
            accounts.end_at.max().to_pandas()
        ).to_pydatetime()
    end = naive_utc(observation_end)
    cohorts = cohort_accounts(accounts, spec)
    sizes = cohort_sizes(cohorts)
    active, excluded = activity_events(events, cohorts, spec, end)
    per_period, per_last = activity_counts(active)
    churn_table = churn_counts(cohorts, spec)
    logger.info(
        "cohorts: %d accounts in %d cohorts by %s",
        int(sizes.n_accounts.sum()),
        len(sizes),
        spec.period,
    )

    mask = observable_mask(sizes, spec, pd.Timestamp(end))
    totals = sizes_matrix(sizes, spec.periods)
    active_matrix = count_matrix(per_period, sizes, spec.periods, "n_active")
    later_matrix = or_later_counts(per_last, sizes, spec.periods)
    churned = count_matrix(churn_table, sizes, spec.periods, "n_churned")
    at_risk = at_risk_matrix(churned, sizes)
    churn_known = pd.Timestamp(end) - pd.Timedelta(days=churn_known_after_days)
    churn_mask = observable_mask(sizes, spec, churn_known)
    hazard = share(churned, at_risk, churn_mask)
    caveats = []
    if not churn_mask.to_numpy().all():
        caveats.append(CAVEAT_NOT_OBSERVABLE)
    tables = (
        {milestone: life_tables[milestone] for milestone in milestones}
        if life_tables is not None
        else cohort_life_tables(accounts, spec, milestones)
    )
    median_ttv = median_ttv_by_cohort(tables)
    if median_ttv.few_at_risk.any():
        caveats.append(CAVEAT_FEW_AT_RISK)
        warnings.warn(FewAtRiskWarning(CAVEAT_FEW_AT_RISK), stacklevel=2)
    return CohortResult(
        period=spec.period,
        anchor=spec.anchor,
        activity=spec.activity,
        periods=spec.periods,
        observation_end=end,
        cohort_sizes=sizes.set_index("cohort").n_accounts,
        retention=share(active_matrix, totals, mask),
        retention_or_later=share(later_matrix, totals, mask),
        active=active_matrix,
        active_or_later=later_matrix,
        churn=share(churned, totals, churn_mask),
        churn_hazard=hazard,
        churned=churned,
        at_risk=at_risk,
        observable=mask,
        churn_observable=churn_mask,
        churn_spike=churn_spikes(hazard, churned, at_risk),
        median_ttv=median_ttv,
        ttv_trend=ttv_trend(tables),
        n_accounts=int(sizes.n_accounts.sum()),
        excluded_events=excluded,
        caveats=tuple(caveats),
    )

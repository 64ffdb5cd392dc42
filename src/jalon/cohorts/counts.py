"""Engine-side counts for cohort matrices: cohort sizes, activity and churn.

Each function builds Ibis expressions over the per-account table and the
events table and returns a small pandas table (one row per cohort and
period at most).
"""

from __future__ import annotations

import datetime as dt
import logging

import ibis
import ibis.expr.types as ir
import pandas as pd

from jalon.cohorts.periods import cohort_of, period_index
from jalon.cohorts.spec import CohortSpec

logger = logging.getLogger(__name__)

REASON = "_reason"


def cohort_accounts(accounts: ir.Table, spec: CohortSpec) -> ir.Table:
    """Return ``account_id``, ``start_at``, ``churn_at`` and ``cohort`` per account."""
    return accounts.select(
        "account_id",
        "start_at",
        "churn_at",
        cohort=cohort_of(accounts.start_at, spec.period),
    )


def cohort_sizes(cohorts: ir.Table) -> pd.DataFrame:
    """Return ``cohort``, ``n_accounts`` and ``latest_start``, sorted by cohort."""
    sizes = cohorts.group_by("cohort").aggregate(
        n_accounts=cohorts.count(), latest_start=cohorts.start_at.max()
    )
    frame = sizes.to_pandas()
    # Engines return microseconds (DuckDB) or nanoseconds (PySpark).
    frame = frame.astype({"cohort": "datetime64[us]", "latest_start": "datetime64[us]"})
    return frame.sort_values("cohort", ignore_index=True)


def activity_events(
    events: ir.Table,
    cohorts: ir.Table,
    spec: CohortSpec,
    end: dt.datetime,
) -> tuple[ir.Table, dict[str, int]]:
    """Return activity events with cohort and period, and left-out counts by reason.

    Activity events of accounts the per-account table does not list
    (``not_in_accounts``), before the account's start (``before_start``) or
    after the observation end (``after_end``) are left out and counted.
    """
    activity = events
    if spec.activity is not None:
        activity = events.filter(events.event.isin(list(spec.activity)))
    activity = activity.select("account_id", "ts")
    members = cohorts.rename(_account_id="account_id")
    joined = activity.left_join(members, activity.account_id == members._account_id)
    reason = ibis.cases(
        (joined._account_id.isnull(), "not_in_accounts"),
        (joined.ts < joined.start_at, "before_start"),
        (joined.ts > ibis.literal(end, "timestamp"), "after_end"),
        else_=ibis.null("string"),
    )
    joined = joined.mutate(**{REASON: reason})
    left_out = joined.filter(joined[REASON].notnull())
    counts = left_out.group_by(REASON).aggregate(rows=left_out.count()).to_pandas()
    excluded = {
        str(row[REASON]): int(row["rows"])
        for _, row in counts.sort_values(REASON).iterrows()
    }
    for name, rows in excluded.items():
        logger.warning("cohorts: %d activity events left out (%s)", rows, name)

    included = joined.filter(joined[REASON].isnull())
    included = included.select(
        account_id=included._account_id,
        cohort=included.cohort,
        period=period_index(included.ts, included.start_at, spec.period, spec.anchor),
    )
    return included, excluded


def activity_counts(active: ir.Table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Count active accounts per (cohort, period) and by last active period.

    Returns
    -------
    tuple of pandas.DataFrame
        ``cohort``, ``period``, ``n_active``: accounts with activity in the
        period; and ``cohort``, ``last_period``, ``n_accounts``: accounts whose
        latest active period is ``last_period``.
    """
    distinct = active.distinct()
    per_period = distinct.group_by(["cohort", "period"]).aggregate(
        n_active=distinct.count()
    )
    last = distinct.group_by(["account_id", "cohort"]).aggregate(
        last_period=distinct.period.max()
    )
    per_last = last.group_by(["cohort", "last_period"]).aggregate(
        n_accounts=last.count()
    )
    return per_period.to_pandas(), per_last.to_pandas()


def churn_counts(cohorts: ir.Table, spec: CohortSpec) -> pd.DataFrame:
    """Return ``cohort``, ``period``, ``n_churned``: accounts churned in each period."""
    churned = cohorts.filter(cohorts.churn_at.notnull())
    churned = churned.select(
        "cohort",
        period=period_index(
            churned.churn_at, churned.start_at, spec.period, spec.anchor
        ),
    )
    counts = churned.group_by(["cohort", "period"]).aggregate(n_churned=churned.count())
    return counts.to_pandas()

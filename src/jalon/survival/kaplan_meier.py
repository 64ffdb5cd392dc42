"""Kaplan-Meier estimate of time to a milestone, fitted on a life table."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from jalon.survival._curves import (
    DEFAULT_ALPHA,
    first_time_at_or_below,
    loglog_bounds,
    value_at,
    with_origin,
    z_value,
)
from jalon.survival.lifetable import TimeCounts, single_group
from jalon.survival.results import METHOD_KAPLAN_MEIER, HorizonShare, Percentile

logger = logging.getLogger(__name__)


def survival_and_greenwood(counts: TimeCounts) -> tuple[np.ndarray, np.ndarray]:
    """Return the Kaplan-Meier survival and Greenwood's sum at each time.

    Competing events count as censoring. At each time, events come before
    censorings, so an account censored at ``t`` is still at risk at ``t``.
    Greenwood's sum is ``Σ d / (n (n - d))``. As in lifelines, a step where
    every account at risk has the event adds 0, because the survival is 0
    from there on.
    """
    at_risk = counts.at_risk.astype(float)
    events = counts.event.astype(float)
    hazard = np.divide(events, at_risk, out=np.zeros_like(at_risk), where=at_risk > 0)
    survival = np.cumprod(1.0 - hazard)

    survivors = at_risk - events
    terms = np.zeros_like(at_risk)
    positive = survivors > 0
    terms[positive] = events[positive] / (at_risk[positive] * survivors[positive])
    return survival, np.cumsum(terms)


class KaplanMeier:
    """Kaplan-Meier estimator with churn before the milestone as censoring.

    Follows lifelines' conventions: :meth:`fit` returns the estimator and
    fitted values end in ``_``. The confidence interval is pointwise, from
    Greenwood's variance on the log(-log) scale (lifelines' default).

    Parameters
    ----------
    alpha
        One minus the confidence level of the intervals.

    Attributes
    ----------
    survival_function_ : pandas.DataFrame
        ``time``, ``survival``, ``lower``, ``upper``; one row per distinct
        time of the life table, after a row ``(0, 1, 1, 1)`` when no account
        has time 0.
    event_table_ : pandas.DataFrame
        ``time``, ``at_risk``, ``n_event``, ``n_competing``, ``n_censored``.
    group_ : str
    n_accounts_ : int

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"group": "all", "time": [1.0, 2.0],
    ...                       "n_event": [1, 1], "n_competing": [0, 0],
    ...                       "n_censored": [1, 1]})
    >>> KaplanMeier().fit(table).percentile(0.5).days
    2.0
    """

    def __init__(self, alpha: float = DEFAULT_ALPHA) -> None:
        self.alpha = alpha
        self._z = z_value(alpha)

    def fit(self, life_table: pd.DataFrame) -> KaplanMeier:
        """Fit the estimator on a life table of one group and return it.

        Raises
        ------
        AnalysisError
            When the table breaks the life-table contract or contains several
            groups.
        """
        return self.fit_counts(single_group(life_table))

    def fit_counts(self, counts: TimeCounts) -> KaplanMeier:
        """Fit the estimator on the counts of one group (see :func:`split_groups`)."""
        survival, greenwood = survival_and_greenwood(counts)
        lower, upper = loglog_bounds(survival, survival * np.sqrt(greenwood), self._z)
        times, survival, lower, upper = with_origin(
            counts.time, survival, lower, upper, origin_values=(1.0, 1.0, 1.0)
        )

        self.group_ = counts.group
        self.n_accounts_ = counts.n_accounts
        self._counts = counts
        self.survival_function_ = pd.DataFrame(
            {"time": times, "survival": survival, "lower": lower, "upper": upper}
        )
        self.event_table_ = pd.DataFrame(
            {
                "time": counts.time,
                "at_risk": counts.at_risk,
                "n_event": counts.event,
                "n_competing": counts.competing,
                "n_censored": counts.censored,
            }
        )
        logger.debug(
            "Kaplan-Meier fitted on group %s: %d accounts, %d times",
            self.group_,
            self.n_accounts_,
            len(counts.time),
        )
        return self

    def percentile(self, q: float) -> Percentile:
        """Return the time by which a share ``q`` reached the milestone.

        The time is the smallest ``t`` with ``S(t) <= 1 - q``; with
        ``q = 0.5`` it is lifelines' ``median_survival_time_``. When
        ``S(t)`` equals ``1 - q`` exactly on a step, the percentile is that
        step's time, not the midpoint to the next step as in R's
        ``survfit``. lifelines 0.30 computes ``S`` as ``exp(Σ log(1 - d/n))``,
        which can land one ulp above an exact tie (3 of 6 accounts at once).
        lifelines then returns the next time, but this estimator keeps the
        tie.

        The bounds apply the same rule to the lower and upper confidence
        curves, as ``median_survival_times(kmf.confidence_interval_)`` does.
        A bound is None when its curve never reaches the level.
        """
        if not 0.0 < q < 1.0:
            raise ValueError(f"q must lie strictly between 0 and 1, got {q}")
        curve = self.survival_function_
        times = curve["time"].to_numpy()
        level = 1.0 - q
        return Percentile(
            q=q,
            days=first_time_at_or_below(times, curve["survival"].to_numpy(), level),
            lower=first_time_at_or_below(times, curve["lower"].to_numpy(), level),
            upper=first_time_at_or_below(times, curve["upper"].to_numpy(), level),
        )

    def share_reached(self, days: float) -> HorizonShare:
        """Return ``1 - S(days)``, the share that reached the milestone by ``days``.

        The bounds are ``1 - upper`` and ``1 - lower`` of the survival
        interval at that time.
        """
        curve = self.survival_function_
        times = curve["time"].to_numpy()
        return HorizonShare(
            days=float(days),
            share=1.0 - value_at(times, curve["survival"].to_numpy(), days),
            lower=1.0 - value_at(times, curve["upper"].to_numpy(), days),
            upper=1.0 - value_at(times, curve["lower"].to_numpy(), days),
            method=METHOD_KAPLAN_MEIER,
        )

    def at_risk(self, days: float) -> int:
        """Return the number of accounts still observed at ``days``.

        These are accounts whose time is ``days`` or later.
        """
        counts = self._counts
        first = int(np.searchsorted(counts.time, days, side="left"))
        return int(counts.total[first:].sum())

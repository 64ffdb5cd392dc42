"""Aalen-Johansen cumulative incidence with churn as a competing risk.

Treating churn before the milestone as censoring assumes that churned
accounts would have reached it like those still observed, which overstates
the share reached. The cumulative incidence function (CIF) instead counts a
churned account as one that will never reach the milestone.

With the all-cause Kaplan-Meier survival ``S`` (an account leaves at its
first outcome, milestone or churn), at-risk counts ``n_j`` and ``d_kj``
outcomes of cause ``k`` at time ``t_j``::

    F_k(t) = Σ_{t_j <= t} S(t_{j-1}) d_kj / n_j

Its variance is the delta-method estimate that statsmodels 0.15's
``CumIncidenceRight`` also computes (its docs cite Marubini and Valsecchi,
1995). With ``F_j = F_k(t_j)`` and ``S_j- = S(t_{j-1})``, summing over
``t_j <= t``::

    Var F_k(t) = Σ (F_k(t) - F_j)² d_j / (n_j (n_j - d_j))
               + Σ S_j-² d_kj (n_j - d_kj) / n_j³
               - 2 Σ (F_k(t) - F_j) S_j- d_kj / n_j²
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from jalon.survival._curves import (
    DEFAULT_ALPHA,
    loglog_bounds,
    value_at,
    with_origin,
    z_value,
)
from jalon.survival.lifetable import TimeCounts, single_group
from jalon.survival.results import METHOD_AALEN_JOHANSEN, HorizonShare

logger = logging.getLogger(__name__)


def _safe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Divide elementwise, with 0 where the denominator is 0."""
    out = np.zeros_like(numerator, dtype=float)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def cumulative_incidence(
    at_risk: np.ndarray, cause: np.ndarray, all_causes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the CIF of one cause and its delta-method standard error.

    Parameters
    ----------
    at_risk
        Accounts at risk just before each time (``n_j``).
    cause
        Outcomes of the cause of interest at each time (``d_kj``).
    all_causes
        Outcomes of every cause at each time (``d_j``), censoring excluded.
    """
    n = at_risk.astype(float)
    d_k = cause.astype(float)
    d = all_causes.astype(float)

    survival = np.cumprod(1.0 - _safe_ratio(d, n))
    survival_before = np.concatenate(([1.0], survival[:-1]))
    jump = survival_before * _safe_ratio(d_k, n)
    cif = np.cumsum(jump)

    # Greenwood-type terms d / (n (n - d)); a step that empties the risk set
    # adds 0, because the CIF no longer moves after it.
    greenwood = _safe_ratio(d, n * (n - d))
    variance = (
        cif**2 * np.cumsum(greenwood)
        - 2.0 * cif * np.cumsum(cif * greenwood)
        + np.cumsum(cif**2 * greenwood)
        + np.cumsum(survival_before**2 * _safe_ratio((n - d_k) * d_k, n**3))
        - 2.0 * cif * np.cumsum(_safe_ratio(survival_before * d_k, n**2))
        + 2.0 * np.cumsum(cif * _safe_ratio(survival_before * d_k, n**2))
    )
    # Rounding can leave a tiny negative value where the exact variance is 0.
    return cif, np.sqrt(np.clip(variance, 0.0, None))


class AalenJohansen:
    """Cumulative incidence of the milestone, with churn as a competing risk.

    ``fit`` returns the estimator; fitted values end in ``_``. Intervals are
    pointwise, on the log(-log) scale so that they stay inside [0, 1].

    Parameters
    ----------
    alpha
        One minus the confidence level of the intervals.

    Attributes
    ----------
    cumulative_incidence_ : pandas.DataFrame
        ``time``, ``cif``, ``lower``, ``upper``: share that reached the
        milestone by each time, starting with ``(0, 0, 0, 0)`` unless an
        account has time 0.
    competing_incidence_ : pandas.DataFrame
        Same columns for the share that churned before reaching it.
    standard_errors_ : pandas.DataFrame
        ``time``, ``event``, ``competing``: standard errors of both CIFs.
    group_ : str
    n_accounts_ : int

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"group": "all", "time": [1.0, 2.0],
    ...                       "n_event": [1, 1], "n_competing": [1, 0],
    ...                       "n_censored": [0, 1]})
    >>> AalenJohansen().fit(table).share_reached(2.0).share
    0.5
    """

    def __init__(self, alpha: float = DEFAULT_ALPHA) -> None:
        self.alpha = alpha
        self._z = z_value(alpha)

    def fit(self, life_table: pd.DataFrame) -> AalenJohansen:
        """Fit both cumulative incidences on a life table of one group.

        Raises
        ------
        AnalysisError
            When the table breaks the life-table contract or contains several
            groups.
        """
        return self.fit_counts(single_group(life_table))

    def fit_counts(self, counts: TimeCounts) -> AalenJohansen:
        """Fit both cumulative incidences on the counts of one group."""
        all_causes = counts.event + counts.competing
        event_cif, event_se = cumulative_incidence(
            counts.at_risk, counts.event, all_causes
        )
        competing_cif, competing_se = cumulative_incidence(
            counts.at_risk, counts.competing, all_causes
        )

        self.group_ = counts.group
        self.n_accounts_ = counts.n_accounts
        self.cumulative_incidence_ = self._curve(counts, event_cif, event_se)
        self.competing_incidence_ = self._curve(counts, competing_cif, competing_se)
        times, event_se, competing_se = with_origin(
            counts.time, event_se, competing_se, origin_values=(0.0, 0.0)
        )
        self.standard_errors_ = pd.DataFrame(
            {"time": times, "event": event_se, "competing": competing_se}
        )
        logger.debug(
            "Aalen-Johansen fitted on group %s: %d accounts, %d times",
            self.group_,
            self.n_accounts_,
            len(counts.time),
        )
        return self

    def _curve(
        self, counts: TimeCounts, cif: np.ndarray, std_error: np.ndarray
    ) -> pd.DataFrame:
        lower, upper = loglog_bounds(cif, std_error, self._z)
        times, cif, lower, upper = with_origin(
            counts.time, cif, lower, upper, origin_values=(0.0, 0.0, 0.0)
        )
        return pd.DataFrame({"time": times, "cif": cif, "lower": lower, "upper": upper})

    def share_reached(self, days: float) -> HorizonShare:
        """Return the cumulative incidence of the milestone at ``days``."""
        return _share_at(self.cumulative_incidence_, days)

    def share_churned_first(self, days: float) -> HorizonShare:
        """Return the cumulative incidence of churn before the milestone at ``days``."""
        return _share_at(self.competing_incidence_, days)


def _share_at(curve: pd.DataFrame, days: float) -> HorizonShare:
    times = curve["time"].to_numpy()
    return HorizonShare(
        days=float(days),
        share=value_at(times, curve["cif"].to_numpy(), days),
        lower=value_at(times, curve["lower"].to_numpy(), days),
        upper=value_at(times, curve["upper"].to_numpy(), days),
        method=METHOD_AALEN_JOHANSEN,
    )

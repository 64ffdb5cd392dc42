"""Landmark comparison of later retention, by milestone reached or not.

Comparing accounts that reached value early with those that reached it late
is biased, because an account that churns early never gets the chance to
reach value late (immortal-time bias). A landmark comparison avoids it: at
day L it keeps only the accounts still active, splits them by whether they
had reached the milestone by L, and follows both groups from L on.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceError
from lifelines.statistics import proportional_hazard_test

from jalon.churn_link.cox import (
    CAVEAT_SAMPLED,
    DEFAULT_MAX_ACCOUNTS,
    landmark_adjusted_hazard_ratio,
    sample_accounts,
)
from jalon.churn_link.frame import STATUS_REACHED
from jalon.churn_link.results import Estimate, GroupRetention, LandmarkResult
from jalon.survival import KaplanMeier

logger = logging.getLogger(__name__)

GROUP_REACHED = "reached"
GROUP_NOT_REACHED = "not_reached"

#: Below this many churned accounts in a group, the hazard ratio gets a caveat.
MIN_CHURNED_PER_GROUP = 10

#: Caveat codes.
CAVEAT_FEW_CHURNED = "landmark_few_churned"
CAVEAT_EMPTY_GROUP = "landmark_empty_group"
CAVEAT_NO_CHURN_IN_GROUP = "landmark_no_churn_in_group"
CAVEAT_NOT_PROPORTIONAL = "landmark_not_proportional"
CAVEAT_HORIZON_NOT_AFTER = "landmark_horizon_not_after"
CAVEAT_ASSOCIATION = "association_not_cause"
#: Significance level of the proportional-hazards check.
PH_ALPHA = 0.05

#: Exclusion reasons.
EXCLUDED_CHURNED = "churned_before_landmark"
EXCLUDED_SHORT = "observed_less_than_landmark"
EXCLUDED_NO_START = "no_milestone_start"


def active_at_landmark(
    frame: pd.DataFrame, milestone: str, landmark: float
) -> tuple[pd.Series, dict[str, int]]:
    """Return the mask of accounts active at ``landmark`` and the others by reason.

    Active at L means observed at least L days, not churned by day L, and
    with a start for the milestone.
    """
    status = frame[f"m_{milestone}_status"]
    churned_by_landmark = (frame["churn_status"] == 1) & (
        frame["churn_days"] <= landmark
    )
    short = ~churned_by_landmark & (frame["observed_days"] < landmark)
    no_start = ~churned_by_landmark & ~short & status.isna()
    excluded = {
        EXCLUDED_CHURNED: int(churned_by_landmark.sum()),
        EXCLUDED_SHORT: int(short.sum()),
        EXCLUDED_NO_START: int(no_start.sum()),
    }
    active = ~(churned_by_landmark | short | no_start)
    return active, {reason: count for reason, count in excluded.items() if count}


def landmark_population(
    frame: pd.DataFrame, milestone: str, landmark: float
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Return the accounts active at ``landmark`` and the others counted by reason.

    The returned frame has ``reached`` (1 when the milestone was reached at
    or before L), ``time`` (days from L to churn or end) and ``event``
    (1 churned, 0 censored). See :func:`active_at_landmark` for "active".

    Examples
    --------
    >>> frame = pd.DataFrame({"observed_days": [40.0, 40.0, 5.0],
    ...     "churn_days": [40.0, 3.0, 5.0], "churn_status": [0, 1, 0],
    ...     "m_a_days": [2.0, 3.0, 5.0], "m_a_status": [1.0, 2.0, 0.0]})
    >>> active, excluded = landmark_population(frame, "a", 7.0)
    >>> len(active), excluded
    (1, {'churned_before_landmark': 1, 'observed_less_than_landmark': 1})
    """
    active, excluded = active_at_landmark(frame, milestone, landmark)
    status = frame[f"m_{milestone}_status"]
    days = frame[f"m_{milestone}_days"]
    subset = pd.DataFrame(
        {
            "reached": ((status == STATUS_REACHED) & (days <= landmark))[active].astype(
                int
            ),
            "time": frame.loc[active, "churn_days"] - landmark,
            "event": frame.loc[active, "churn_status"].astype(int),
        }
    ).reset_index(drop=True)
    return subset, excluded


def retention_life_table(time: pd.Series, event: pd.Series, group: str) -> pd.DataFrame:
    """Collapse follow-up times and churn flags into a life table of one group."""
    frame = pd.DataFrame({"time": time.to_numpy(float), "event": event.to_numpy(int)})
    grouped = frame.groupby("time", sort=True)["event"].agg(["sum", "count"])
    return pd.DataFrame(
        {
            "group": group,
            "time": grouped.index.to_numpy(float),
            "n_event": grouped["sum"].to_numpy(np.int64),
            "n_competing": 0,
            "n_censored": (grouped["count"] - grouped["sum"]).to_numpy(np.int64),
        }
    )


def retention_curve(
    time: pd.Series, event: pd.Series, group: str, offset_days: float = 0.0
) -> tuple[pd.DataFrame, KaplanMeier]:
    """Return the Kaplan-Meier retention curve of a group and its fitted estimator.

    Times of the curve are ``offset_days`` plus the follow-up time, so a
    landmark curve is drawn against days since the start.
    """
    km = KaplanMeier().fit(retention_life_table(time, event, group))
    curve = km.survival_function_
    frame = pd.DataFrame(
        {
            "group": group,
            "time": curve["time"].to_numpy() + offset_days,
            "retention": curve["survival"].to_numpy(),
            "lower": curve["lower"].to_numpy(),
            "upper": curve["upper"].to_numpy(),
        }
    )
    return frame, km


def _group_retention(
    subset: pd.DataFrame, flag: int, group: str, landmark: float, horizon: float
) -> tuple[GroupRetention, pd.DataFrame | None]:
    rows = subset[subset["reached"] == flag]
    if rows.empty:
        return GroupRetention(group, 0, 0, None, None, None), None
    curve, km = retention_curve(rows["time"], rows["event"], group, landmark)
    share = lower = upper = None
    if horizon > landmark:
        churned = km.share_reached(horizon - landmark)
        share, lower, upper = (
            1.0 - churned.share,
            1.0 - churned.upper,
            1.0 - churned.lower,
        )
    retention = GroupRetention(
        group, len(rows), int(rows["event"].sum()), share, lower, upper
    )
    return retention, curve


def fit_cox(data: pd.DataFrame, duration: str, event: str) -> CoxPHFitter:
    """Fit lifelines' Cox model (Efron ties) on every other column of ``data``."""
    fitter = CoxPHFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter.fit(data, duration_col=duration, event_col=event, batch_mode=True)
    return fitter


def hazard_ratio(fitter: CoxPHFitter, covariate: str) -> Estimate:
    """Return exp(coef) of ``covariate`` with its 95% Wald interval and p-value."""
    summary = fitter.summary.loc[covariate]
    return Estimate(
        value=float(summary["exp(coef)"]),
        lower=float(summary["exp(coef) lower 95%"]),
        upper=float(summary["exp(coef) upper 95%"]),
        p_value=float(summary["p"]),
    )


def _landmark_hazard_ratio(
    subset: pd.DataFrame,
) -> tuple[Estimate, float | None, list[str]]:
    """Fit churn after the landmark on ``reached``; return HR, PH p-value, caveats."""
    caveats: list[str] = []
    data = subset[["time", "event", "reached"]]
    try:
        fitter = fit_cox(data, "time", "event")
    except (ConvergenceError, ValueError, np.linalg.LinAlgError) as error:
        logger.warning("landmark Cox model failed: %s", error)
        return Estimate(None, None, None), None, caveats
    estimate = hazard_ratio(fitter, "reached")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = proportional_hazard_test(fitter, data, time_transform="rank")
    ph_p_value = float(np.atleast_1d(test.p_value)[0])
    if ph_p_value < PH_ALPHA:
        caveats.append(CAVEAT_NOT_PROPORTIONAL)
    return estimate, ph_p_value, caveats


def landmark_comparison(
    frame: pd.DataFrame,
    milestone: str,
    landmark: float,
    horizon: float,
    segments: Sequence[str] = (),
    max_accounts: int = DEFAULT_MAX_ACCOUNTS,
    seed: int = 0,
) -> LandmarkResult:
    """Compare retention after ``landmark`` of accounts that reached ``milestone`` by then.

    Parameters
    ----------
    frame
        Per-account frame from :func:`jalon.churn_link.frame.account_frame`.
    milestone
        Milestone id.
    landmark
        Day L after the start.
    horizon
        Day after the start at which retention is reported (must exceed L
        for a share to be given).
    segments
        Segment columns the adjusted hazard ratio accounts for.
    max_accounts, seed
        Sample size cap and seed of the adjusted model (see
        :func:`jalon.churn_link.cox.landmark_adjusted_hazard_ratio`).

    Returns
    -------
    LandmarkResult
        Caveat codes: ``landmark_empty_group``,
        ``landmark_no_churn_in_group`` (no ratio is fitted),
        ``landmark_few_churned``
        (fewer than 10 churned accounts in a group),
        ``landmark_not_proportional`` (the proportional-hazards test on
        ``reached`` gives p < 0.05), ``landmark_horizon_not_after``,
        ``cox_sampled`` (the hazard ratios come from a sample) and always
        ``association_not_cause``.
    """
    subset, excluded = landmark_population(frame, milestone, landmark)
    reached, reached_curve = _group_retention(
        subset, 1, GROUP_REACHED, landmark, horizon
    )
    not_reached, other_curve = _group_retention(
        subset, 0, GROUP_NOT_REACHED, landmark, horizon
    )
    curves = [curve for curve in (reached_curve, other_curve) if curve is not None]

    caveats: list[str] = []
    if horizon <= landmark:
        caveats.append(CAVEAT_HORIZON_NOT_AFTER)
    estimate, ph_p_value = Estimate(None, None, None), None
    adjusted = Estimate(None, None, None)
    if reached.n_accounts == 0 or not_reached.n_accounts == 0:
        caveats.append(CAVEAT_EMPTY_GROUP)
    elif reached.n_churned == 0 or not_reached.n_churned == 0:
        # A group without churn has no finite hazard ratio: the fit only
        # drifts towards 0 or infinity.
        caveats.append(CAVEAT_NO_CHURN_IN_GROUP)
    else:
        # Retention shares above use every account; the Cox fits, whose cost
        # grows quickly with accounts, use a seeded sample above max_accounts.
        fitted = sample_accounts(subset, max_accounts, seed)
        churned = fitted.groupby("reached")["event"].sum()
        if len(churned) == 2 and churned.min() > 0:
            estimate, ph_p_value, fit_caveats = _landmark_hazard_ratio(fitted)
            caveats.extend(fit_caveats)
        else:
            caveats.append(CAVEAT_NO_CHURN_IN_GROUP)
        active, _ = active_at_landmark(frame, milestone, landmark)
        adjusted = landmark_adjusted_hazard_ratio(
            frame[active], milestone, landmark, segments, max_accounts, seed
        )
        if max(len(subset), int(active.sum())) > max_accounts:
            caveats.append(CAVEAT_SAMPLED)
    if min(reached.n_churned, not_reached.n_churned) < MIN_CHURNED_PER_GROUP:
        caveats.append(CAVEAT_FEW_CHURNED)
    caveats.append(CAVEAT_ASSOCIATION)

    result = LandmarkResult(
        milestone=milestone,
        landmark_days=float(landmark),
        horizon_days=float(horizon),
        n_accounts=len(subset),
        excluded=excluded,
        reached=reached,
        not_reached=not_reached,
        hazard_ratio=estimate,
        adjusted_hazard_ratio=adjusted,
        ph_p_value=ph_p_value,
        curves=pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(),
        caveats=tuple(dict.fromkeys(caveats)),
    )
    logger.info("%r", result)
    return result

"""Cox model of churn with reaching a milestone as a time-varying covariate.

Each account contributes at most two start/stop rows: from its start until it
reaches the milestone with ``reached = 0``, then until churn or the end with
``reached = 1``. An account is therefore counted as "not reached" while it has
not reached the milestone yet, which removes the immortal-time bias of the
naive "ever reached" comparison.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm
from statsmodels.duration.hazard_regression import PHReg

from jalon.churn_link.frame import STATUS_REACHED
from jalon.churn_link.results import CoxCovariate, CoxResult, Estimate, PHCheck

logger = logging.getLogger(__name__)

REACHED = "reached"
REACHED_BEFORE = "reached_before_cut"
REACHED_AFTER = "reached_after_cut"
PH_METHOD = "piecewise_wald"
#: Segment values with fewer accounts are pooled with the reference value.
MIN_LEVEL_ACCOUNTS = 30
PH_ALPHA = 0.05
#: Two-sided 95% normal quantile.
Z_95 = 1.959963984540054
#: Above this many accounts, the time-varying models are fitted on a seeded
#: random sample of this size. statsmodels' PHReg took about 8 s for 30,000
#: accounts and 25 covariates on a shared 2-core x86-64 machine (one run).
DEFAULT_MAX_ACCOUNTS = 50_000

#: Caveat and exclusion codes.
CAVEAT_NOT_PROPORTIONAL = "cox_not_proportional"
CAVEAT_NOT_CONVERGED = "cox_not_converged"
CAVEAT_RARE_LEVELS = "cox_rare_levels_pooled"
CAVEAT_FAILED = "cox_failed"
CAVEAT_SAMPLED = "cox_sampled"
CAVEAT_ASSOCIATION = "association_not_cause"
EXCLUDED_NO_START = "no_milestone_start"
EXCLUDED_ZERO_FOLLOW_UP = "zero_follow_up"


def start_stop_rows(frame: pd.DataFrame, milestone: str) -> pd.DataFrame:
    """Return the start/stop rows of each account, at most two per account.

    Columns: ``row_id`` (position of the account in ``frame``), ``start``,
    ``stop`` (days since the start), ``reached`` and ``event`` (churn at
    ``stop``). A churn at the instant the milestone is reached falls in the
    first row, because the covariate must be known just before the event.

    Examples
    --------
    >>> frame = pd.DataFrame({"churn_days": [10.0, 8.0], "churn_status": [1, 0],
    ...     "m_a_days": [4.0, 8.0], "m_a_status": [1.0, 0.0]})
    >>> start_stop_rows(frame, "a")[["row_id", "start", "stop", "reached", "event"]]
       row_id  start  stop  reached  event
    0       0    0.0   4.0        0      0
    1       0    4.0  10.0        1      1
    2       1    0.0   8.0        0      0
    """
    status = frame[f"m_{milestone}_status"].to_numpy()
    reached_at = frame[f"m_{milestone}_days"].to_numpy(float)
    end = frame["churn_days"].to_numpy(float)
    churned = frame["churn_status"].to_numpy(int)
    row_id = np.arange(len(frame))
    has_reached = (status == STATUS_REACHED) & (reached_at < end)

    before_stop = np.where(has_reached, reached_at, end)
    before = pd.DataFrame(
        {
            "row_id": row_id,
            "start": 0.0,
            "stop": before_stop,
            "reached": 0,
            "event": np.where(has_reached, 0, churned),
        }
    )
    after = pd.DataFrame(
        {
            "row_id": row_id[has_reached],
            "start": reached_at[has_reached],
            "stop": end[has_reached],
            "reached": 1,
            "event": churned[has_reached],
        }
    )
    rows = pd.concat([before, after], ignore_index=True)
    rows = rows[rows["stop"] > rows["start"]]
    return rows.sort_values(["row_id", "start"], kind="mergesort").reset_index(
        drop=True
    )


def segment_indicators(
    frame: pd.DataFrame, segments: Sequence[str]
) -> tuple[pd.DataFrame, list[tuple[str, str, str, str]], bool]:
    """Return 0/1 indicator columns per segment value against the most common one.

    Returns the indicators (one row per account of ``frame``), the list of
    ``(column, segment, level, reference)`` and whether rare values were
    pooled with the reference.
    """
    columns: dict[str, np.ndarray] = {}
    described: list[tuple[str, str, str, str]] = []
    pooled = False
    for index, segment in enumerate(segments):
        counts = frame[segment].value_counts()
        counts = counts.sort_index().sort_values(ascending=False, kind="mergesort")
        if len(counts) < 2:
            continue
        reference = str(counts.index[0])
        for level, count in counts.iloc[1:].items():
            if count < MIN_LEVEL_ACCOUNTS:
                pooled = True
                continue
            name = f"seg{index}_{len(described)}"
            columns[name] = (frame[segment] == level).to_numpy(int)
            described.append((name, segment, str(level), reference))
    return pd.DataFrame(columns, index=frame.index), described, pooled


@dataclass(frozen=True)
class StartStopFit:
    """Coefficients and covariance of a Cox model fitted on start/stop rows."""

    params: pd.Series
    covariance: pd.DataFrame
    converged: bool

    def estimate(self, name: str) -> Estimate:
        """Return exp(coef) of ``name`` with its 95% Wald interval and p-value."""
        coef = float(self.params[name])
        se = float(np.sqrt(self.covariance.loc[name, name]))
        # A covariate with almost no events gets a huge standard error, and
        # a bound that overflows is reported as unknown.
        with np.errstate(over="ignore"):
            bounds = np.exp([coef, coef - Z_95 * se, coef + Z_95 * se])
        value, lower, upper = (float(b) if np.isfinite(b) else None for b in bounds)
        return Estimate(
            value=value,
            lower=lower,
            upper=upper,
            p_value=float(2 * norm.sf(abs(coef / se))) if se > 0 else None,
        )


def fit_start_stop(rows: pd.DataFrame) -> StartStopFit:
    """Fit churn on every covariate of start/stop ``rows`` (Efron ties).

    Each row is at risk on ``(start, stop]``. statsmodels' PHReg (0.15)
    counts a row as at risk at its entry time too, so each entry is moved to
    the next float above it. The fit then equals lifelines'
    CoxTimeVaryingFitter, which the tests check.

    Raises
    ------
    ValueError
        When the fit gives non-finite coefficients.
    """
    covariates = rows.drop(columns=["row_id", "start", "stop", "event"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = PHReg(
            rows["stop"].to_numpy(float),
            covariates.to_numpy(float),
            status=rows["event"].to_numpy(int),
            entry=np.nextafter(rows["start"].to_numpy(float), np.inf),
            ties="efron",
        )
        fitted = model.fit()
    names = list(covariates.columns)
    params = pd.Series(np.asarray(fitted.params), index=names)
    covariance = pd.DataFrame(
        np.asarray(fitted.cov_params()), index=names, columns=names
    )
    if not (np.isfinite(params).all() and np.isfinite(covariance.to_numpy()).all()):
        raise ValueError("the Cox model gave non-finite coefficients")
    converged = bool(getattr(fitted, "mle_retvals", {}).get("converged", True))
    return StartStopFit(params, covariance, converged)


def split_at(rows: pd.DataFrame, cut: float) -> pd.DataFrame:
    """Split rows spanning ``cut`` and give ``reached`` one column per period."""
    spanning = (rows["start"] < cut) & (rows["stop"] > cut)
    first = rows[spanning].assign(stop=cut, event=0)
    second = rows[spanning].assign(start=cut)
    split = pd.concat([rows[~spanning], first, second], ignore_index=True)
    early = split["stop"] <= cut
    split[REACHED_BEFORE] = np.where(early, split[REACHED], 0)
    split[REACHED_AFTER] = np.where(early, 0, split[REACHED])
    return split.drop(columns=[REACHED])


def piecewise_ph_check(rows: pd.DataFrame, cut: float) -> PHCheck:
    """Test whether the hazard ratio of ``reached`` differs before and after ``cut``."""
    try:
        fitted = fit_start_stop(split_at(rows, cut))
    except (np.linalg.LinAlgError, ValueError) as error:
        # The result marks the check as missing, so one warning line is enough.
        logger.warning("proportional-hazards check failed at cut day %s: %s", cut, error)
        return PHCheck(PH_METHOD, cut, None, None, None)
    params, covariance = fitted.params, fitted.covariance
    difference = params[REACHED_BEFORE] - params[REACHED_AFTER]
    variance = (
        covariance.loc[REACHED_BEFORE, REACHED_BEFORE]
        + covariance.loc[REACHED_AFTER, REACHED_AFTER]
        - 2 * covariance.loc[REACHED_BEFORE, REACHED_AFTER]
    )
    p_value = float(chi2.sf(difference**2 / variance, 1)) if variance > 0 else None
    return PHCheck(
        PH_METHOD,
        cut,
        fitted.estimate(REACHED_BEFORE),
        fitted.estimate(REACHED_AFTER),
        p_value,
    )


def _cut_day(rows: pd.DataFrame) -> float | None:
    """Return the median churn time of reached accounts, where the PH check cuts."""
    churn_times = rows.loc[(rows["event"] == 1) & (rows[REACHED] == 1), "stop"]
    if churn_times.empty:
        return None
    return float(np.median(churn_times))


def sample_accounts(frame: pd.DataFrame, max_accounts: int, seed: int) -> pd.DataFrame:
    """Return ``frame``, or a seeded random sample of ``max_accounts`` of its rows."""
    if len(frame) <= max_accounts:
        return frame
    return frame.sample(n=max_accounts, random_state=seed).sort_index()


def time_varying_cox(
    frame: pd.DataFrame,
    milestone: str,
    segments: Sequence[str] = (),
    max_accounts: int = DEFAULT_MAX_ACCOUNTS,
    seed: int = 0,
) -> CoxResult:
    """Fit churn on reaching ``milestone`` (time-varying) plus segment indicators.

    Parameters
    ----------
    frame
        Per-account frame from :func:`jalon.churn_link.frame.account_frame`.
    milestone
        Milestone id.
    segments
        Segment columns to adjust for.
    max_accounts, seed
        Above ``max_accounts`` included accounts, the model is fitted on a
        random sample of that many, drawn with ``seed``.

    Returns
    -------
    CoxResult
        ``n_accounts`` counts the accounts fitted. Caveat codes:
        ``cox_not_proportional`` (the piecewise check gives p < 0.05),
        ``cox_not_converged``, ``cox_rare_levels_pooled``, ``cox_failed``,
        ``cox_sampled`` and always ``association_not_cause``.
    """
    included = frame[frame[f"m_{milestone}_status"].notna()]
    excluded = {EXCLUDED_NO_START: len(frame) - len(included)}
    sampled = len(included) > max_accounts
    included = sample_accounts(included, max_accounts, seed).reset_index(drop=True)
    indicators, described, pooled = segment_indicators(included, segments)
    rows = start_stop_rows(included, milestone)
    excluded[EXCLUDED_ZERO_FOLLOW_UP] = len(included) - rows["row_id"].nunique()
    rows = rows.join(indicators, on="row_id")
    caveats = [CAVEAT_RARE_LEVELS] if pooled else []
    if sampled:
        caveats.append(CAVEAT_SAMPLED)
    n_churned = int(rows["event"].sum())

    try:
        fitted = fit_start_stop(rows)
    except (np.linalg.LinAlgError, ValueError) as error:
        logger.warning("time-varying Cox model failed for %s: %s", milestone, error)
        return CoxResult(
            milestone,
            rows["row_id"].nunique(),
            n_churned,
            len(rows),
            _nonzero(excluded),
            Estimate(None, None, None),
            (),
            PHCheck(PH_METHOD, None, None, None, None),
            (*caveats, CAVEAT_FAILED, CAVEAT_ASSOCIATION),
        )
    if not fitted.converged:
        caveats.append(CAVEAT_NOT_CONVERGED)
    cut = _cut_day(rows)
    ph_check = (
        piecewise_ph_check(rows, cut)
        if cut is not None
        else PHCheck(PH_METHOD, None, None, None, None)
    )
    if ph_check.p_value is not None and ph_check.p_value < PH_ALPHA:
        caveats.append(CAVEAT_NOT_PROPORTIONAL)
    covariates = tuple(
        CoxCovariate(name, segment, level, reference, fitted.estimate(name))
        for name, segment, level, reference in described
    )
    result = CoxResult(
        milestone=milestone,
        n_accounts=int(rows["row_id"].nunique()),
        n_churned=n_churned,
        n_rows=len(rows),
        excluded=_nonzero(excluded),
        reached=fitted.estimate(REACHED),
        covariates=covariates,
        ph_check=ph_check,
        caveats=(*caveats, CAVEAT_ASSOCIATION),
    )
    logger.info("%r", result)
    return result


def landmark_adjusted_hazard_ratio(
    frame: pd.DataFrame,
    milestone: str,
    landmark: float,
    segments: Sequence[str],
    max_accounts: int = DEFAULT_MAX_ACCOUNTS,
    seed: int = 0,
) -> Estimate:
    """Return the churn hazard ratio of reaching ``milestone``, followed from ``landmark``.

    Only accounts in the landmark population enter (``frame`` must hold
    them only, see :func:`jalon.churn_link.landmark.landmark_population`).
    Time restarts at the landmark. Accounts that reach the milestone later
    switch to ``reached = 1`` when they do, and segment indicators adjust
    for segment differences, so this estimates the hazard ratio of having
    reached value rather than of having reached it by the landmark. Above
    ``max_accounts`` accounts, a random sample drawn with ``seed`` is fitted.
    """
    frame = sample_accounts(frame, max_accounts, seed)
    shifted = frame.assign(
        churn_days=frame["churn_days"] - landmark,
        **{
            f"m_{milestone}_days": (frame[f"m_{milestone}_days"] - landmark).clip(
                lower=0.0
            )
        },
    ).reset_index(drop=True)
    indicators, _, _ = segment_indicators(shifted, segments)
    rows = start_stop_rows(shifted, milestone).join(indicators, on="row_id")
    try:
        fitted = fit_start_stop(rows)
    except (np.linalg.LinAlgError, ValueError) as error:
        logger.warning("adjusted landmark model failed for %s: %s", milestone, error)
        return Estimate(None, None, None)
    return fitted.estimate(REACHED)


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {key: int(value) for key, value in counts.items() if value}

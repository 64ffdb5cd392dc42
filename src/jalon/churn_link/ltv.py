"""Expected lifetime value by TTV bucket, and what reaching value sooner is worth.

Among accounts active at the landmark (the last bucket bound), accounts are
bucketed by their TTV. Each bucket's expected value over the horizon is its
mean monthly value times its restricted mean lifetime after the landmark,
from Kaplan-Meier. The value of reaching the milestone N days sooner is an
estimate: the slope of expected value against mean TTV across the reached
buckets, times N. It assumes that slope is linear and causal.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from jalon.churn_link.frame import STATUS_REACHED
from jalon.churn_link.landmark import active_at_landmark, retention_curve
from jalon.churn_link.results import LtvBucket, LtvResult
from jalon.churn_link.settings import ChurnLinkSettings

logger = logging.getLogger(__name__)

#: Average days per month (365.25 / 12), to turn days active into months paid.
DAYS_PER_MONTH = 30.4375

SOURCE_COLUMN = "column"
SOURCE_SEGMENT = "segment"
EXCLUDED_NO_VALUE = "no_value"
CAVEAT_ESTIMATE = "ltv_estimate"
CAVEAT_ASSOCIATION = "association_not_cause"
CAVEAT_TOO_FEW_BUCKETS = "ltv_too_few_buckets"


def restricted_mean(time: pd.Series, event: pd.Series, horizon: float) -> float:
    """Return the area under the Kaplan-Meier survival curve from 0 to ``horizon``.

    >>> restricted_mean(pd.Series([2.0, 4.0]), pd.Series([1, 1]), 10.0)
    3.0
    """
    curve, _ = retention_curve(time, event, "bucket")
    times = np.append(curve["time"].to_numpy(), np.inf)
    survival = curve["retention"].to_numpy()
    starts = np.clip(times[:-1], 0.0, horizon)
    ends = np.clip(times[1:], 0.0, horizon)
    return float(np.sum(survival * (ends - starts)))


def account_values(
    frame: pd.DataFrame, settings: ChurnLinkSettings
) -> tuple[pd.Series, str] | None:
    """Return the monthly value of each account and its source, or None when unset."""
    if settings.value_column is not None and "value" in frame:
        return frame["value"].astype(float), SOURCE_COLUMN
    if settings.value_by_segment is not None:
        column, amounts = settings.value_by_segment
        return frame[column].map(amounts).astype(float), SOURCE_SEGMENT
    return None


def _bucket_bounds(
    bounds: tuple[float, ...],
) -> list[tuple[float | None, float | None]]:
    lowers = [None, *bounds[:-1]]
    return [*zip(lowers, bounds), (bounds[-1], None)]


def _bucket_mask(ttv: pd.Series, reached: pd.Series, lower, upper) -> pd.Series:
    if upper is None:
        return ~reached
    above = ttv > lower if lower is not None else pd.Series(True, index=ttv.index)
    return reached & above & (ttv <= upper)


def lifetime_value(
    frame: pd.DataFrame, milestone: str, settings: ChurnLinkSettings
) -> LtvResult | None:
    """Return the expected value by TTV bucket, or None when no value is configured.

    Parameters
    ----------
    frame
        Per-account frame; with ``value_column`` set it must hold ``value``.
    milestone
        Milestone whose TTV defines the buckets.
    settings
        ``ttv_buckets``, ``ltv_horizon``, ``sooner_days`` and the value source.
    """
    values = account_values(frame, settings)
    if values is None:
        return None
    monthly, source = values
    landmark = settings.ttv_buckets[-1]
    active, excluded = active_at_landmark(frame, milestone, landmark)
    no_value = active & monthly.isna()
    excluded = {**excluded, EXCLUDED_NO_VALUE: int(no_value.sum())}
    keep = active & ~no_value
    rows = frame[keep]
    ttv = rows[f"m_{milestone}_days"]
    reached = (rows[f"m_{milestone}_status"] == STATUS_REACHED) & (ttv <= landmark)

    buckets, mean_ttv = [], []
    for lower, upper in _bucket_bounds(settings.ttv_buckets):
        mask = _bucket_mask(ttv, reached, lower, upper)
        if not mask.any():
            continue
        lifetime = restricted_mean(
            rows.loc[mask, "churn_days"] - landmark,
            rows.loc[mask, "churn_status"],
            settings.ltv_horizon,
        )
        mean_value = float(monthly[keep][mask].mean())
        buckets.append(
            LtvBucket(
                lower,
                upper,
                int(mask.sum()),
                mean_value,
                lifetime,
                mean_value * lifetime / DAYS_PER_MONTH,
            )
        )
        mean_ttv.append(float(ttv[mask].mean()) if upper is not None else None)

    slope = _slope(buckets, mean_ttv)
    caveats = [CAVEAT_ESTIMATE, CAVEAT_ASSOCIATION]
    if slope is None:
        caveats.append(CAVEAT_TOO_FEW_BUCKETS)
    result = LtvResult(
        milestone=milestone,
        landmark_days=landmark,
        horizon_days=settings.ltv_horizon,
        value_source=source,
        n_accounts=int(keep.sum()),
        excluded={reason: count for reason, count in excluded.items() if count},
        buckets=tuple(buckets),
        sooner_days=settings.sooner_days,
        value_per_day_sooner=slope,
        value_of_sooner=slope * settings.sooner_days if slope is not None else None,
        caveats=tuple(caveats),
    )
    logger.info("%r", result)
    return result


def _slope(buckets: list[LtvBucket], mean_ttv: list[float | None]) -> float | None:
    """Return minus the weighted slope of expected value on mean TTV (value per day sooner)."""
    pairs = [
        (days, bucket.expected_value, bucket.n_accounts)
        for bucket, days in zip(buckets, mean_ttv)
        if days is not None
    ]
    if len(pairs) < 2:
        return None
    x, y, weight = (np.array(column, dtype=float) for column in zip(*pairs))
    x_mean = np.average(x, weights=weight)
    spread = np.sum(weight * (x - x_mean) ** 2)
    if spread == 0:
        return None
    slope = np.sum(weight * (x - x_mean) * (y - np.average(y, weights=weight))) / spread
    return float(-slope)

"""Step-function helpers shared by the estimators."""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

#: Default significance level: 95% pointwise confidence intervals.
DEFAULT_ALPHA = 0.05

#: Slack when comparing a survival value with a percentile level. A value that
#: equals the level in exact arithmetic can land one or two ulps above it in
#: floating point: with 6 accounts and 3 reached at once, exp(log 3 - log 6)
#: is 0.5000000000000001. The tie rule must still hold there.
LEVEL_TOLERANCE = 1e-12


def z_value(alpha: float) -> float:
    """Return the two-sided standard normal quantile for level ``alpha``."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    return float(norm.ppf(1.0 - alpha / 2.0))


def value_at(times: np.ndarray, values: np.ndarray, day: float) -> float:
    """Return a right-continuous step function at ``day``.

    ``times`` is sorted and starts at 0, so every ``day >= 0`` has a step.
    """
    if day < 0:
        raise ValueError(f"a horizon must be zero or more days, got {day}")
    index = int(np.searchsorted(times, day, side="right")) - 1
    return float(values[index])


def first_time_at_or_below(
    times: np.ndarray, survival: np.ndarray, level: float
) -> float | None:
    """Return the smallest time where a non-increasing curve is at most ``level``.

    This is the percentile rule of lifelines' ``qth_survival_time``: a curve
    that equals the level exactly on a step reaches it at that step. Returns
    None when the curve stays above the level.
    """
    reached = survival <= level + LEVEL_TOLERANCE
    if not reached.any():
        return None
    return float(times[int(reached.argmax())])


def loglog_bounds(
    estimate: np.ndarray, std_error: np.ndarray, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return pointwise bounds of a probability on the log(-log) scale.

    ``g = log(-log p)`` has the delta-method standard error
    ``se / |p log p|``. Mapping ``g ± z·se_g`` back gives bounds inside
    [0, 1]. Where ``p`` is 0 or 1 the interval collapses onto ``p``.

    Returns
    -------
    (lower, upper)
        Arrays of the same shape as ``estimate``.
    """
    lower = estimate.astype(float).copy()
    upper = estimate.astype(float).copy()
    inside = (estimate > 0) & (estimate < 1)
    p = estimate[inside]
    log_p = np.log(p)
    spread = z * std_error[inside] / (-p * log_p)
    lower[inside] = np.exp(-np.exp(np.log(-log_p) + spread))
    upper[inside] = np.exp(-np.exp(np.log(-log_p) - spread))
    return lower, upper


def with_origin(times: np.ndarray, *columns: np.ndarray, origin_values: tuple):
    """Prepend a row at time 0 unless the first time already is 0.

    Returns the extended ``times`` followed by each extended column.
    """
    if len(times) and times[0] == 0:
        return (times, *columns)
    extended = [np.concatenate(([0.0], times))]
    for column, first in zip(columns, origin_values, strict=True):
        extended.append(np.concatenate(([first], column)))
    return tuple(extended)

"""Known truth of the demo: latent time-to-value quantiles, empirical and analytic.

"Latent" means as if no account churned and observation never ended: the
time at which each account would reach the milestone, ``inf`` for accounts
that never would. Kaplan-Meier on the observed data, with churn and the end of
observation as censoring, estimates this distribution. Cumulative incidence
with churn as a competing risk estimates something else, the share reached
before churn.

Quantiles count never-reaching accounts as infinitely late, like a
Kaplan-Meier curve that levels off above zero, so a quantile above the share
that ever reaches is None. The ``among_reaching`` quantiles condition on
reaching instead. Empirical quantiles use the inverted-CDF definition (the
smallest sampled time t whose empirical CDF at t is at least q), which is
the one a Kaplan-Meier median uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import ndtr

from jalon.demo import model
from jalon.demo.model import DemoEffects

QUANTILES = {"p50": 0.5, "p75": 0.75, "p90": 0.9}
HORIZONS_DAYS = (1, 7, 30)
SEGMENTS = ("plan", "company_size")
# Nodes of the Gauss-Legendre rule that integrates the sum of two log-normal
# delays, and the lower bound of the integral in standard-normal units.
CONVOLUTION_NODES = 200
CONVOLUTION_LOWER_Z = -10.0
# Bracket, in days, in which analytic quantiles are searched.
QUANTILE_BRACKET_DAYS = (1e-6, 1e6)

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(CONVOLUTION_NODES)


def lognormal_cdf(t: float, median: float, sigma: float) -> float:
    """Return P(X <= t) for a log-normal X with this median and sigma.

    >>> lognormal_cdf(2.5, 2.5, 1.1)
    0.5
    """
    if t <= 0:
        return 0.0
    return float(ndtr((math.log(t) - math.log(median)) / sigma))


def lognormal_sum_cdf(
    t: float, first: tuple[float, float], second: tuple[float, float]
) -> float:
    """Return P(A + B <= t) for independent log-normal A and B.

    ``first`` and ``second`` are (median, sigma). The integral over
    A = median * exp(sigma * z) runs on z in [-10, (ln t - ln median) / sigma]
    with a Gauss-Legendre rule. The integrand vanishes smoothly at both ends,
    so the rule converges fast.
    """
    if t <= 0:
        return 0.0
    median_a, sigma_a = first
    median_b, sigma_b = second
    upper = (math.log(t) - math.log(median_a)) / sigma_a
    if upper <= CONVOLUTION_LOWER_Z:
        return 0.0
    half = (upper - CONVOLUTION_LOWER_Z) / 2
    z = CONVOLUTION_LOWER_Z + half * (_NODES + 1)
    rest = t - median_a * np.exp(sigma_a * z)
    safe_rest = np.where(rest > 0, rest, 1.0)
    cdf_b = np.where(
        rest > 0, ndtr((np.log(safe_rest) - math.log(median_b)) / sigma_b), 0.0
    )
    density_z = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return float(half * np.sum(_WEIGHTS * density_z * cdf_b))


def _cell_model(
    milestone: str, plan: int, size: int, effects: DemoEffects
) -> tuple[float, Callable[[float], float]]:
    """Return P(ever reach) and the CDF of the delay given reaching, for one cell."""
    scale = effects.segment_ttv_ratio if model.PLANS[plan] == "enterprise" else 1.0
    basic = (model.BASIC_DELAY_MEDIAN_DAYS, model.BASIC_DELAY_SIGMA)
    reach_basic = 1.0 - model.NEVER_BASIC_BY_SIZE[size]
    if milestone == "basic_value":
        return reach_basic, lambda t: lognormal_cdf(t / scale, *basic)
    if milestone == "exceed_value":
        extra = (model.EXCEED_DELAY_MEDIAN_DAYS, model.EXCEED_DELAY_SIGMA)
        reach = reach_basic * (1.0 - model.NEVER_EXCEED_AFTER_BASIC_BY_PLAN[plan])
        return reach, lambda t: lognormal_sum_cdf(t / scale, basic, extra)
    if milestone == "full_adoption":
        extra = (model.FULL_DELAY_MEDIAN_DAYS, model.FULL_DELAY_SIGMA)
        low, high = model.SEAT_RANGES[size]
        enough_seats = (high - max(low, model.FULL_ADOPTION_USERS) + 1) / (
            high - low + 1
        )
        reach = (
            reach_basic
            * (1.0 - model.NEVER_FULL_AFTER_BASIC_BY_SIZE[size])
            * enough_seats
        )
        return reach, lambda t: lognormal_sum_cdf(t / scale, basic, extra)
    raise ValueError(f"unknown demo milestone {milestone!r}")


class MixtureModel:
    """Latent distribution of a milestone over a group of (plan, size) cells.

    The cell weights are the model probabilities P(plan) * P(size | plan),
    renormalised within the group. ``cdf(t)`` is P(T <= t) counting
    never-reaching accounts, so it levels off at ``reach``.
    """

    def __init__(
        self,
        milestone: str,
        effects: DemoEffects,
        segment: str | None,
        value: str | None,
    ):
        cells = []
        for plan, plan_share in enumerate(model.PLAN_SHARES):
            for size, size_share in enumerate(model.COMPANY_SIZE_SHARES[plan]):
                if segment == "plan" and model.PLANS[plan] != value:
                    continue
                if segment == "company_size" and model.COMPANY_SIZES[size] != value:
                    continue
                reach, cdf = _cell_model(milestone, plan, size, effects)
                cells.append((plan_share * size_share, reach, cdf))
        total = sum(weight for weight, _, _ in cells)
        self.cells = [(weight / total, reach, cdf) for weight, reach, cdf in cells]
        self.reach = sum(weight * reach for weight, reach, _ in self.cells)

    def cdf(self, t: float) -> float:
        """Return P(T <= t), never-reaching accounts included in the denominator."""
        return sum(weight * reach * cdf(t) for weight, reach, cdf in self.cells)

    def quantile(self, q: float, among_reaching: bool = False) -> float | None:
        """Return the q-quantile in days, or None when fewer than q ever reach."""
        target = q * self.reach if among_reaching else q
        if target >= self.reach:
            return None
        low, high = (math.log(bound) for bound in QUANTILE_BRACKET_DAYS)
        log_t = brentq(lambda x: self.cdf(math.exp(x)) - target, low, high, xtol=1e-10)
        return math.exp(log_t)


def empirical_quantile(latent_days: np.ndarray, q: float) -> float | None:
    """Return the inverted-CDF q-quantile of latent days, None when it is inf.

    >>> empirical_quantile(np.array([1.0, 2.0, 3.0, np.inf]), 0.5)
    2.0
    >>> empirical_quantile(np.array([1.0, np.inf, np.inf]), 0.5) is None
    True
    """
    if latent_days.size == 0:
        return None
    value = float(np.quantile(latent_days, q, method="inverted_cdf"))
    return value if math.isfinite(value) else None


def group_truth(latent_days: np.ndarray, mixture: MixtureModel) -> dict[str, object]:
    """Return the truth of one milestone for one group of accounts."""
    reaching = latent_days[np.isfinite(latent_days)]
    observed = latent_days.size > 0
    return {
        "n_accounts": int(latent_days.size),
        "never_share": {
            "empirical": float(np.mean(~np.isfinite(latent_days)))
            if observed
            else None,
            "analytic": 1.0 - mixture.reach,
        },
        "quantiles_days": {
            "empirical": {
                k: empirical_quantile(latent_days, q) for k, q in QUANTILES.items()
            },
            "analytic": {k: mixture.quantile(q) for k, q in QUANTILES.items()},
        },
        "quantiles_days_among_reaching": {
            "empirical": {
                k: empirical_quantile(reaching, q) for k, q in QUANTILES.items()
            },
            "analytic": {
                k: mixture.quantile(q, among_reaching=True)
                for k, q in QUANTILES.items()
            },
        },
        "reached_by_day": {
            "empirical": {
                str(h): float(np.mean(latent_days <= h)) if observed else None
                for h in HORIZONS_DAYS
            },
            "analytic": {str(h): mixture.cdf(float(h)) for h in HORIZONS_DAYS},
        },
    }


def milestone_truth(
    accounts: pd.DataFrame, milestone: str, effects: DemoEffects
) -> dict[str, object]:
    """Return the truth of one milestone overall and by each segment value.

    ``accounts`` is the frame of :func:`jalon.demo.population.accounts_frame`.
    """
    latent = accounts[f"{milestone}_latent_days"].to_numpy()
    result: dict[str, object] = {
        "overall": group_truth(latent, MixtureModel(milestone, effects, None, None))
    }
    segments: dict[str, dict[str, object]] = {}
    for segment, values in (
        ("plan", model.PLANS),
        ("company_size", model.COMPANY_SIZES),
    ):
        column = accounts[segment].to_numpy()
        segments[segment] = {
            value: group_truth(
                latent[column == value],
                MixtureModel(milestone, effects, segment, value),
            )
            for value in values
        }
    result["segments"] = segments
    return result

"""Log-rank tests comparing time to a milestone between groups.

Churn before the milestone counts as censoring here, so the tests compare
the cause-specific hazards of reaching the milestone.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2

from jalon.errors import N_, AnalysisError
from jalon.survival.lifetable import TimeCounts, split_groups

logger = logging.getLogger(__name__)

CORRECTIONS = ("holm", "bonferroni", "bh", "none")


@dataclass(frozen=True)
class LogRankResult:
    """Log-rank test of equal hazards across ``groups``.

    ``observed`` and ``expected`` are, per group in the order of
    ``groups``, the accounts that reached the milestone and the number
    expected under equal hazards.
    """

    groups: tuple[str, ...]
    statistic: float
    df: int
    p_value: float
    observed: tuple[int, ...]
    expected: tuple[float, ...]


@dataclass(frozen=True)
class PairwiseResult:
    """Log-rank test of one pair of groups, with its multiplicity-adjusted p-value."""

    group_a: str
    group_b: str
    statistic: float
    p_value: float
    p_adjusted: float


def _aligned_counts(
    groups: Mapping[str, TimeCounts],
) -> tuple[np.ndarray, np.ndarray]:
    """Return events and at-risk counts per group on the union of event times.

    Both arrays have shape (groups, times) and keep only the times where at
    least one account of any group reached the milestone.
    """
    event_times = np.unique(
        np.concatenate([counts.time[counts.event > 0] for counts in groups.values()])
    )
    events = np.zeros((len(groups), len(event_times)))
    at_risk = np.zeros((len(groups), len(event_times)))
    for row, counts in enumerate(groups.values()):
        position = np.searchsorted(counts.time, event_times, side="left")
        matches = position < len(counts.time)
        matches[matches] = counts.time[position[matches]] == event_times[matches]
        events[row, matches] = counts.event[position[matches]]
        # Accounts with a time at or after t are at risk at t.
        left_before = np.concatenate(([0], np.cumsum(counts.total)))[position]
        at_risk[row] = counts.n_accounts - left_before
    return events, at_risk


def _logrank(groups: Mapping[str, TimeCounts]) -> LogRankResult:
    events, at_risk = _aligned_counts(groups)
    total_events = events.sum(axis=0)
    total_at_risk = at_risk.sum(axis=0)
    share_at_risk = at_risk / total_at_risk

    expected = (share_at_risk * total_events).sum(axis=1)
    z = events.sum(axis=1) - expected

    # Hypergeometric covariance. A time with one account at risk adds nothing.
    ties = np.zeros_like(total_events)
    several = total_at_risk > 1
    ties[several] = (
        total_events[several]
        * (total_at_risk[several] - total_events[several])
        / (total_at_risk[several] - 1)
    )
    covariance = np.einsum("t,gt,ht->gh", ties, share_at_risk, -share_at_risk)
    covariance[np.diag_indices_from(covariance)] += (ties * share_at_risk).sum(axis=1)

    statistic = float(z @ np.linalg.pinv(covariance) @ z)
    df = len(groups) - 1
    return LogRankResult(
        groups=tuple(groups),
        statistic=statistic,
        df=df,
        p_value=float(chi2.sf(statistic, df)),
        observed=tuple(int(value) for value in events.sum(axis=1)),
        expected=tuple(float(value) for value in expected),
    )


def _several_groups(life_table: pd.DataFrame) -> dict[str, TimeCounts]:
    groups = split_groups(life_table)
    if len(groups) < 2:
        raise AnalysisError(
            "survival.too_few_groups",
            N_(
                "A log-rank test compares two groups or more, but the life table "
                "contains {count} ({groups}). Choose a segment with several values."
            ),
            count=len(groups),
            groups=", ".join(groups),
        )
    return groups


def logrank_test(life_table: pd.DataFrame) -> LogRankResult:
    """Test whether the hazard of reaching the milestone differs between groups.

    Parameters
    ----------
    life_table
        Life table with two groups or more.

    Returns
    -------
    LogRankResult
        Chi-square statistic with ``k - 1`` degrees of freedom for ``k``
        groups, and its p-value.

    Raises
    ------
    AnalysisError
        ``survival.too_few_groups`` with fewer than two groups.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"group": ["a", "b"], "time": [1.0, 2.0],
    ...                       "n_event": [5, 5], "n_competing": [0, 0],
    ...                       "n_censored": [0, 0]})
    >>> logrank_test(table).df
    1
    """
    groups = _several_groups(life_table)
    result = _logrank(groups)
    logger.info(
        "log-rank over %d groups: chi2=%.4g, p=%.4g",
        len(groups),
        result.statistic,
        result.p_value,
    )
    return result


def adjust_p_values(p_values: np.ndarray, correction: str) -> np.ndarray:
    """Adjust p-values for multiple comparisons.

    ``correction`` is ``"holm"`` (step-down Holm-Bonferroni), ``"bonferroni"``,
    ``"bh"`` (Benjamini-Hochberg false discovery rate) or ``"none"``.
    """
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if correction == "none" or m == 0:
        return p.copy()
    if correction == "bonferroni":
        return np.minimum(p * m, 1.0)

    order = np.argsort(p, kind="mergesort")
    ranked = p[order]
    if correction == "holm":
        stepped = np.maximum.accumulate(ranked * (m - np.arange(m)))
    elif correction == "bh":
        scaled = ranked * m / np.arange(1, m + 1)
        stepped = np.minimum.accumulate(scaled[::-1])[::-1]
    else:
        raise NotImplementedError(
            f"correction {correction!r} is not supported; use one of {CORRECTIONS}"
        )
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def pairwise_logrank(
    life_table: pd.DataFrame, correction: str = "holm"
) -> tuple[PairwiseResult, ...]:
    """Run a log-rank test on every pair of groups.

    Each pair is tested on its two groups only. Pairs come in sorted group
    order; ``p_adjusted`` applies ``correction`` (see
    :func:`adjust_p_values`) across all pairs.

    Raises
    ------
    AnalysisError
        ``survival.too_few_groups`` with fewer than two groups.
    NotImplementedError
        For an unknown ``correction``.
    """
    if correction not in CORRECTIONS:
        raise NotImplementedError(
            f"correction {correction!r} is not supported; use one of {CORRECTIONS}"
        )
    groups = _several_groups(life_table)
    pairs = list(itertools.combinations(groups, 2))
    results = [_logrank({a: groups[a], b: groups[b]}) for a, b in pairs]
    adjusted = adjust_p_values(
        np.array([result.p_value for result in results]), correction
    )
    return tuple(
        PairwiseResult(
            group_a=a,
            group_b=b,
            statistic=result.statistic,
            p_value=result.p_value,
            p_adjusted=float(p_adj),
        )
        for (a, b), result, p_adj in zip(pairs, results, adjusted, strict=True)
    )

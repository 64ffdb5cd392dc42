"""Summary of time to one milestone: shares by horizon, percentiles, curves.

The report, the CLI and the dashboard format a :class:`MilestoneSummary`
instead of recomputing its figures.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from jalon.errors import FewAtRiskWarning
from jalon.survival._curves import DEFAULT_ALPHA
from jalon.survival.aalen_johansen import AalenJohansen
from jalon.survival.kaplan_meier import KaplanMeier
from jalon.survival.lifetable import TimeCounts, single_group, split_groups
from jalon.survival.results import HorizonShare, Percentile

logger = logging.getLogger(__name__)

#: Below this many accounts at risk, a percentile gets the caveat ``few_at_risk``.
MIN_AT_RISK = 10
MEDIAN_Q = 0.5

DEFAULT_HORIZONS_DAYS = (1, 7, 30)
DEFAULT_QUANTILES = (0.5, 0.75, 0.9)

#: Caveat codes. Presentation turns them into text with jalon.i18n.labels.
CAVEAT_FEW_AT_RISK = "few_at_risk"
CAVEAT_MEDIAN_NOT_REACHED = "median_not_reached"
CAVEAT_PERCENTILE_NOT_REACHED = "percentile_not_reached"
CAVEAT_NONE_REACHED = "none_reached"
CAVEAT_HORIZON_BEYOND_FOLLOW_UP = "horizon_beyond_follow_up"
CAVEAT_CHURN_AS_CENSORING = "churn_as_censoring"


@dataclass(frozen=True, eq=False, repr=False)
class MilestoneSummary:
    """Time to one milestone in one group, with its population and caveats.

    Shares are cumulative shares of the group's accounts that reached the
    milestone. With churn before the milestone in the data (and
    ``competing=True``), ``horizons``, ``plateau`` and ``curve`` use the
    Aalen-Johansen estimate, which counts churned accounts as never
    reaching it. ``km_horizons`` and ``km_curve`` always hold one minus
    Kaplan-Meier, which treats churn as censoring; the percentiles come from
    Kaplan-Meier too. ``naive_mean_days`` and ``naive_median_days`` average
    only the accounts that reached the milestone, a biased figure kept so
    the report can explain the bias.
    """

    group: str
    n_accounts: int
    n_reached: int
    n_churned_first: int
    n_censored: int
    horizons: tuple[HorizonShare, ...]
    km_horizons: tuple[HorizonShare, ...]
    percentiles: tuple[Percentile, ...]
    plateau: float
    naive_mean_days: float | None
    naive_median_days: float | None
    curve: pd.DataFrame
    km_curve: pd.DataFrame
    churn_curve: pd.DataFrame | None
    caveats: tuple[str, ...]

    def __repr__(self) -> str:
        return (
            f"MilestoneSummary({self.group}: {self.n_accounts:,} accounts, "
            f"{self.n_reached:,} reached, {self.n_churned_first:,} churned first, "
            f"{self.n_censored:,} censored)"
        )


def naive_days(counts: TimeCounts) -> tuple[float | None, float | None]:
    """Return mean and median days over the accounts that reached the milestone.

    The median is that of the expanded list of event times: the middle value,
    or the mean of the two middle values for an even count (``numpy.median``).
    Both are None when no account reached the milestone.
    """
    reached = int(counts.event.sum())
    if reached == 0:
        return None, None

    mean = float(np.dot(counts.time, counts.event) / reached)
    cumulative = np.cumsum(counts.event)

    def order_statistic(index: int) -> float:
        return float(counts.time[int(np.searchsorted(cumulative, index, "right"))])

    middle = reached // 2
    if reached % 2:
        return mean, order_statistic(middle)
    return mean, (order_statistic(middle - 1) + order_statistic(middle)) / 2.0


def _share_curve(times, share, lower, upper) -> pd.DataFrame:
    return pd.DataFrame({"time": times, "share": share, "lower": lower, "upper": upper})


def _km_curve(km: KaplanMeier) -> pd.DataFrame:
    curve = km.survival_function_
    return _share_curve(
        curve["time"].to_numpy(),
        1.0 - curve["survival"].to_numpy(),
        1.0 - curve["upper"].to_numpy(),
        1.0 - curve["lower"].to_numpy(),
    )


def _percentile_caveats(
    km: KaplanMeier, percentiles: Sequence[Percentile]
) -> list[str]:
    caveats = []
    for percentile in percentiles:
        if not percentile.reached:
            is_median = percentile.q == MEDIAN_Q
            caveats.append(
                CAVEAT_MEDIAN_NOT_REACHED
                if is_median
                else CAVEAT_PERCENTILE_NOT_REACHED
            )
            continue
        at_risk = km.at_risk(percentile.days)
        if at_risk < MIN_AT_RISK:
            caveats.append(CAVEAT_FEW_AT_RISK)
            warnings.warn(
                FewAtRiskWarning(
                    f"group {km.group_}: {at_risk} accounts at risk at the "
                    f"{percentile.q:g} percentile ({percentile.days:g} days)"
                ),
                stacklevel=3,
            )
    return caveats


def _unique(codes: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(codes))


def summarize(
    life_table: pd.DataFrame,
    horizons: Sequence[float] = DEFAULT_HORIZONS_DAYS,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    competing: bool = True,
    alpha: float = DEFAULT_ALPHA,
) -> MilestoneSummary:
    """Summarize the time to a milestone in a life table of one group.

    Parameters
    ----------
    life_table
        Life table of one group (see :mod:`jalon.survival.lifetable`).
    horizons
        Days at which to report the cumulative share reached.
    quantiles
        Shares reached whose time is reported (0.5 gives the median).
    competing
        Treat churn before the milestone as a competing risk. With False,
        churn is censoring everywhere and the caveat ``churn_as_censoring``
        is set when the table contains churn.
    alpha
        One minus the confidence level of every interval.

    Returns
    -------
    MilestoneSummary
        Caveat codes: ``few_at_risk`` (fewer than 10 accounts at risk at a
        reported percentile, also raised as :class:`FewAtRiskWarning`),
        ``median_not_reached``, ``percentile_not_reached``,
        ``none_reached``, ``horizon_beyond_follow_up`` (a horizon after the
        last observed time, where the share is carried forward) and
        ``churn_as_censoring``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"group": "all", "time": [1.0, 3.0],
    ...                       "n_event": [2, 0], "n_competing": [0, 1],
    ...                       "n_censored": [0, 1]})
    >>> summarize(table, horizons=(2,), quantiles=(0.5,))
    MilestoneSummary(all: 4 accounts, 2 reached, 1 churned first, 1 censored)
    """
    return summarize_counts(single_group(life_table), horizons, quantiles, competing, alpha)


def summarize_counts(
    counts: TimeCounts,
    horizons: Sequence[float] = DEFAULT_HORIZONS_DAYS,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    competing: bool = True,
    alpha: float = DEFAULT_ALPHA,
) -> MilestoneSummary:
    """Summarize the counts of one group; parameters are those of :func:`summarize`."""
    km = KaplanMeier(alpha).fit_counts(counts)
    km_horizons = tuple(km.share_reached(float(day)) for day in horizons)
    km_curve = _km_curve(km)
    has_churn = bool(counts.competing.sum() > 0)

    caveats: list[str] = []
    if competing and has_churn:
        aj = AalenJohansen(alpha).fit_counts(counts)
        shares = tuple(aj.share_reached(float(day)) for day in horizons)
        incidence = aj.cumulative_incidence_
        curve = _share_curve(
            incidence["time"].to_numpy(),
            incidence["cif"].to_numpy(),
            incidence["lower"].to_numpy(),
            incidence["upper"].to_numpy(),
        )
        churn = aj.competing_incidence_
        churn_curve = pd.DataFrame({"time": churn["time"], "share": churn["cif"]})
    else:
        shares, curve, churn_curve = km_horizons, km_curve, None
        if has_churn:
            caveats.append(CAVEAT_CHURN_AS_CENSORING)

    percentiles = tuple(km.percentile(q) for q in quantiles)
    n_reached = int(counts.event.sum())
    if n_reached == 0:
        caveats.append(CAVEAT_NONE_REACHED)
    caveats.extend(_percentile_caveats(km, percentiles))
    if any(day > counts.time[-1] for day in horizons):
        caveats.append(CAVEAT_HORIZON_BEYOND_FOLLOW_UP)

    naive_mean, naive_median = naive_days(counts)
    summary = MilestoneSummary(
        group=counts.group,
        n_accounts=counts.n_accounts,
        n_reached=n_reached,
        n_churned_first=int(counts.competing.sum()),
        n_censored=int(counts.censored.sum()),
        horizons=shares,
        km_horizons=km_horizons,
        percentiles=percentiles,
        plateau=float(curve["share"].iloc[-1]),
        naive_mean_days=naive_mean,
        naive_median_days=naive_median,
        curve=curve,
        km_curve=km_curve,
        churn_curve=churn_curve,
        caveats=_unique(caveats),
    )
    logger.info("%r", summary)
    return summary


def summarize_groups(
    life_table: pd.DataFrame,
    horizons: Sequence[float] = DEFAULT_HORIZONS_DAYS,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    competing: bool = True,
    alpha: float = DEFAULT_ALPHA,
) -> tuple[MilestoneSummary, ...]:
    """Summarize every group of a life table, sorted by group.

    Parameters are those of :func:`summarize`.
    """
    return tuple(
        summarize_counts(
            counts, horizons=horizons, quantiles=quantiles, competing=competing, alpha=alpha
        )
        for counts in split_groups(life_table).values()
    )

"""Survival statistics of time to value, fitted on life tables.

Build a life table in the engine with :func:`life_table`, then estimate with
:class:`KaplanMeier` (churn as censoring) or :class:`AalenJohansen` (churn as
a competing risk), summarize with :func:`summarize`, compare groups with
:func:`logrank_test`, :func:`pairwise_logrank` and :func:`percentile_ratio`.
"""

from jalon.survival.aalen_johansen import AalenJohansen
from jalon.survival.bootstrap import RatioResult, percentile_ratio
from jalon.survival.kaplan_meier import KaplanMeier
from jalon.survival.lifetable import (
    ALL_GROUP,
    LIFE_TABLE_COLUMNS,
    UNKNOWN_GROUP,
    life_table,
    life_table_expr,
)
from jalon.survival.logrank import (
    LogRankResult,
    PairwiseResult,
    adjust_p_values,
    logrank_test,
    pairwise_logrank,
)
from jalon.survival.results import HorizonShare, Percentile
from jalon.survival.summary import MilestoneSummary, summarize, summarize_groups

__all__ = [
    "ALL_GROUP",
    "LIFE_TABLE_COLUMNS",
    "UNKNOWN_GROUP",
    "AalenJohansen",
    "HorizonShare",
    "KaplanMeier",
    "LogRankResult",
    "MilestoneSummary",
    "PairwiseResult",
    "Percentile",
    "RatioResult",
    "adjust_p_values",
    "life_table",
    "life_table_expr",
    "logrank_test",
    "pairwise_logrank",
    "percentile_ratio",
    "summarize",
    "summarize_groups",
]

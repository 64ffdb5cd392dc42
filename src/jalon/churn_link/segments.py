"""Time to value and retention compared between the values of a segment.

Life tables are built in the engine (:func:`jalon.survival.life_table`).
The tests and ratios come from :mod:`jalon.survival`. They are the log-rank
test over all groups, pairwise log-rank tests with Holm's correction, and
bootstrap intervals for the ratio of the times at which a share is reached.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import ibis.expr.types as ir
import pandas as pd

from jalon.churn_link.frame import Execute
from jalon.churn_link.landmark import retention_curve
from jalon.churn_link.results import Estimate, GroupRatio, SegmentComparison
from jalon.errors import AnalysisError
from jalon.survival import life_table, logrank_test, pairwise_logrank, percentile_ratio

logger = logging.getLogger(__name__)

OUTCOME_CHURN = "churn"
CORRECTION = "holm"
#: Caveat codes.
CAVEAT_ONE_GROUP = "segment_one_group"
CAVEAT_RATIO_NOT_REACHED = "segment_ratio_not_reached"
CAVEAT_MULTIPLE = "holm_corrected"


def _group_sizes(table: pd.DataFrame) -> dict[str, int]:
    counts = table.groupby("group", sort=True)[
        ["n_event", "n_competing", "n_censored"]
    ].sum()
    return {str(group): int(row.sum()) for group, row in counts.iterrows()}


def _reference(sizes: dict[str, int]) -> str:
    """Return the largest group, ties broken by name."""
    return min(sizes, key=lambda group: (-sizes[group], group))


def _ratio(
    table: pd.DataFrame,
    group: str,
    reference: str,
    quantiles: Sequence[float],
    n_boot: int,
    seed: int,
) -> GroupRatio:
    """Return the ratio at the first share of ``quantiles`` reached by both groups."""
    own = table[table["group"] == group]
    base = table[table["group"] == reference]
    result = None
    for q in quantiles:
        result = percentile_ratio(own, base, q=q, n_boot=n_boot, seed=seed)
        if result.ratio is not None:
            break
    assert result is not None
    return GroupRatio(
        group=group,
        reference=reference,
        q=result.q,
        ratio=Estimate(result.ratio, result.lower, result.upper),
        reason=result.reason,
    )


def compare_table(
    table: pd.DataFrame,
    outcome: str,
    segment: str,
    quantiles: Sequence[float],
    n_boot: int,
    seed: int,
) -> SegmentComparison:
    """Compare the groups of a life table: log-rank tests and time ratios.

    Parameters
    ----------
    table
        Life table with one group per segment value.
    outcome
        Milestone id, or ``"churn"``.
    segment
        Segment column the groups come from.
    quantiles
        Shares whose times are compared, tried in order until both groups
        reach one.
    n_boot, seed
        Bootstrap replicates and seed of each ratio interval.
    """
    sizes = _group_sizes(table)
    reference = _reference(sizes)
    if len(sizes) < 2:
        return SegmentComparison(
            outcome,
            segment,
            sum(sizes.values()),
            sizes,
            reference,
            None,
            (),
            (),
            caveats=(CAVEAT_ONE_GROUP,),
        )
    try:
        overall = logrank_test(table)
        pairs = pairwise_logrank(table, correction=CORRECTION)
    except AnalysisError as error:
        logger.warning("log-rank of %s by %s failed: %s", outcome, segment, error)
        overall, pairs = None, ()
    ratios = tuple(
        _ratio(table, group, reference, quantiles, n_boot, seed)
        for group in sizes
        if group != reference
    )
    caveats = [CAVEAT_MULTIPLE] if len(pairs) > 1 else []
    if any(ratio.ratio.value is None for ratio in ratios):
        caveats.append(CAVEAT_RATIO_NOT_REACHED)
    return SegmentComparison(
        outcome=outcome,
        segment=segment,
        n_accounts=sum(sizes.values()),
        group_sizes=sizes,
        reference=reference,
        logrank=overall,
        pairwise=pairs,
        ratios=ratios,
        caveats=tuple(caveats),
    )


def _retention_curves(frame: pd.DataFrame, segment: str) -> pd.DataFrame:
    curves = [
        retention_curve(rows["churn_days"], rows["churn_status"], str(group))[0]
        for group, rows in frame.groupby(segment, sort=True)
    ]
    return pd.concat(curves, ignore_index=True)


def compare_segments(
    accounts: ir.Table,
    frame: pd.DataFrame,
    milestone_ids: Sequence[str],
    segments: Sequence[str],
    execute: Execute,
    ttv_quantiles: Sequence[float],
    retention_quantiles: Sequence[float],
    n_boot: int,
    seed: int,
) -> tuple[SegmentComparison, ...]:
    """Compare TTV of every milestone and retention between the values of each segment.

    ``accounts`` is the per-account Ibis table (life tables are built in the
    engine); ``frame`` is its pandas copy, used for the retention curves.
    """
    results = []
    for segment in segments:
        for milestone in milestone_ids:
            table = life_table(
                accounts,
                f"m_{milestone}_days",
                f"m_{milestone}_status",
                segment,
                execute=execute,
            )
            results.append(
                compare_table(table, milestone, segment, ttv_quantiles, n_boot, seed)
            )
        churn = life_table(
            accounts, "churn_days", "churn_status", segment, execute=execute
        )
        comparison = compare_table(
            churn, OUTCOME_CHURN, segment, retention_quantiles, n_boot, seed
        )
        results.append(
            SegmentComparison(
                **{**comparison.__dict__, "curves": _retention_curves(frame, segment)}
            )
        )
    for result in results:
        logger.info("%r", result)
    return tuple(results)

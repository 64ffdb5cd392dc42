"""Accounts late to value: not reached, not churned, past the expected time.

For each milestone, an account is late when its ``m_<id>_status`` is 0 (still
observed: not reached, not churned), and its ``m_<id>_days`` (days from its
start to the end of observation) exceed the expected time of its segment.
The expected time is the segment's Kaplan-Meier percentile from the
analysis (``MilestoneSummary.percentiles``), or the overall one when the
segment's curve never reaches that share, or a fixed number of days.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import pandas as pd

from jalon.alerts.settings import RULE_DAYS, AlertSettings

logger = logging.getLogger(__name__)

STATUS_CENSORED = 0
OVERALL_GROUP = "all"
LATE_COLUMNS = (
    "account_id",
    "milestone",
    "milestone_name",
    "segment",
    "start_at",
    "elapsed_days",
    "expected_days",
    "days_late",
)


def percentile_days(summary: Any, q: float) -> float | None:
    """Return the Kaplan-Meier time of share ``q`` in a MilestoneSummary, or None.

    Raises
    ------
    KeyError
        When the summary has no percentile ``q`` (the analysis computes
        0.5, 0.75 and 0.9).
    """
    for percentile in summary.percentiles:
        if abs(percentile.q - q) < 1e-9:
            return percentile.days
    raise KeyError(q)


def expected_days(
    analysis: Any, milestone_id: str, settings: AlertSettings
) -> dict[str, float]:
    """Return the expected days of one milestone by segment value.

    The key ``"all"`` maps to the overall expected time, which applies to a
    segment value whose own percentile is not reached (or to every account
    when ``settings.segment`` is None). A missing key means no expected time.
    """
    if settings.rule == RULE_DAYS:
        fixed = settings.expected_days_for(milestone_id)
        return {} if fixed is None else {OVERALL_GROUP: float(fixed)}

    result = analysis.milestone(milestone_id)
    expected: dict[str, float] = {}
    overall = percentile_days(result.overall, settings.percentile)
    if overall is not None:
        expected[OVERALL_GROUP] = float(overall)
    if settings.segment is not None:
        for summary in result.by_segment.get(settings.segment, ()):
            days = percentile_days(summary, settings.percentile)
            if days is not None:
                expected[summary.group] = float(days)
    return expected


def late_accounts(
    accounts: pd.DataFrame, analysis: Any, settings: AlertSettings
) -> pd.DataFrame:
    """List the accounts late to each checked milestone.

    Parameters
    ----------
    accounts
        The per-account table in pandas (see ``jalon.milestones.accounts``).
    analysis
        The :class:`jalon.analysis.Analysis` computed on the same table.
    settings
        Rule, percentile, segment and milestones to check.

    Returns
    -------
    pandas.DataFrame
        One row per (account, milestone) with the columns of
        ``LATE_COLUMNS``, sorted by milestone, then days late (largest
        first), then account id. ``segment`` is the account's value of the
        alert segment, or ``"all"``.
    """
    frames = [
        _late_for_milestone(accounts, analysis, settings, milestone_id)
        for milestone_id in _checked_milestones(analysis, settings)
    ]
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame(
            {column: pd.Series(dtype=object) for column in LATE_COLUMNS}
        )
    late = pd.concat(frames, ignore_index=True)
    late = late.sort_values(
        ["milestone", "days_late", "account_id"], ascending=[True, False, True]
    ).reset_index(drop=True)
    logger.info("%d late (account, milestone) pairs", len(late))
    return late


def _checked_milestones(analysis: Any, settings: AlertSettings) -> Iterable[str]:
    ids = [result.id for result in analysis.milestones]
    if settings.milestones is None:
        return ids
    return [identifier for identifier in ids if identifier in settings.milestones]


def _late_for_milestone(
    accounts: pd.DataFrame, analysis: Any, settings: AlertSettings, milestone_id: str
) -> pd.DataFrame:
    expected = expected_days(analysis, milestone_id, settings)
    if not expected:
        logger.info(
            "milestone %s has no expected time, so no account is late", milestone_id
        )
        return pd.DataFrame()

    status = accounts[f"m_{milestone_id}_status"]
    observed = accounts[status == STATUS_CENSORED]
    if settings.segment is not None:
        groups = observed[settings.segment].astype(str)
    else:
        groups = pd.Series(OVERALL_GROUP, index=observed.index)
    overall = expected.get(OVERALL_GROUP)
    limit = groups.map(lambda group: expected.get(group, overall)).astype(float)
    elapsed = observed[f"m_{milestone_id}_days"].astype(float)

    # A percentile is the time by which that share has reached the milestone,
    # so an account exactly at it is on time.
    is_late = limit.notna() & (elapsed > limit)
    late = observed[is_late]
    return pd.DataFrame(
        {
            "account_id": late["account_id"].astype(str),
            "milestone": milestone_id,
            "milestone_name": analysis.milestone(milestone_id).name,
            "segment": groups[is_late],
            "start_at": late[f"m_{milestone_id}_start_at"]
            if f"m_{milestone_id}_start_at" in late
            else late["start_at"],
            "elapsed_days": elapsed[is_late],
            "expected_days": limit[is_late],
            "days_late": elapsed[is_late] - limit[is_late],
        }
    ).reset_index(drop=True)


def filter_late(
    late: pd.DataFrame,
    milestone: str | None = None,
    segment: str | None = None,
    min_days_late: float | None = None,
) -> pd.DataFrame:
    """Keep the late rows of one milestone, one segment value and at least N days late."""
    mask = pd.Series(True, index=late.index)
    if milestone:
        mask &= late["milestone"] == milestone
    if segment:
        mask &= late["segment"] == segment
    if min_days_late is not None:
        mask &= late["days_late"] >= min_days_late
    return late[mask].reset_index(drop=True)

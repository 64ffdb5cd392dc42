"""Findings: the few results that matter most, as codes with their figures.

Each finding carries the numbers its sentence needs and the size of its
effect (absolute log of a ratio), so presentation can word it and findings
can be ranked. Only effects whose 95% interval excludes no effect become
findings, and every sentence is worded as an association.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from jalon.churn_link.cox import CAVEAT_NOT_PROPORTIONAL
from jalon.churn_link.frame import STATUS_CHURNED_FIRST
from jalon.churn_link.results import (
    AhaResult,
    CoxResult,
    Estimate,
    Finding,
    LandmarkResult,
    LtvResult,
    SegmentComparison,
)
from jalon.churn_link.segments import OUTCOME_CHURN
from jalon.survival import UNKNOWN_GROUP

LANDMARK = "landmark_retention"
COX = "cox_hazard_ratio"
SEGMENT_TTV = "segment_ttv_ratio"
SEGMENT_RETENTION = "segment_retention_ratio"
AHA = "aha_behaviour"
CHURNED_BEFORE_VALUE = "churned_before_value"
LTV_SOONER = "ltv_sooner"
MAX_PER_CODE = 2


def _log_effect(estimate: Estimate) -> float:
    return abs(math.log(estimate.value)) if estimate.value else 0.0


def _interval(estimate: Estimate) -> dict[str, float | None]:
    return {"ratio": estimate.value, "lower": estimate.lower, "upper": estimate.upper}


def landmark_findings(results: Sequence[LandmarkResult]) -> list[Finding]:
    """Return, per milestone, the earliest landmark with a clear difference."""
    findings, seen = [], set()
    for result in sorted(
        results, key=lambda item: (item.milestone, item.landmark_days)
    ):
        if result.milestone in seen or not result.hazard_ratio.excludes_one:
            continue
        if result.reached.share is None or result.not_reached.share is None:
            continue
        seen.add(result.milestone)
        params = {
            "milestone": result.milestone,
            "landmark": result.landmark_days,
            "horizon": result.horizon_days,
            "n_accounts": result.n_accounts,
            "retention_reached": result.reached.share,
            "retention_not_reached": result.not_reached.share,
            **_interval(result.hazard_ratio),
        }
        findings.append(Finding(LANDMARK, params, _log_effect(result.hazard_ratio)))
    return findings


def cox_findings(results: Sequence[CoxResult]) -> list[Finding]:
    """Return the time-varying hazard ratios whose interval excludes 1."""
    return [
        Finding(
            COX,
            {
                "milestone": result.milestone,
                "n_accounts": result.n_accounts,
                "proportional": CAVEAT_NOT_PROPORTIONAL not in result.caveats,
                **_interval(result.reached),
            },
            _log_effect(result.reached),
        )
        for result in results
        if result.reached.excludes_one
    ]


def _pair_p_value(
    comparison: SegmentComparison, group: str, reference: str
) -> float | None:
    for pair in comparison.pairwise:
        if {pair.group_a, pair.group_b} == {group, reference}:
            return pair.p_adjusted
    return None


def segment_findings(comparisons: Sequence[SegmentComparison]) -> list[Finding]:
    """Return segment ratios whose bootstrap interval excludes 1.

    Groups of accounts without a segment value are left out, because a
    difference there describes missing data rather than a segment.

    The Holm-adjusted log-rank p-value of the pair goes into the params, so
    the sentence can show it. It does not filter, because the log-rank test
    loses power when curves cross and the ratio of times does not.
    """
    findings = []
    for comparison in comparisons:
        code = SEGMENT_RETENTION if comparison.outcome == OUTCOME_CHURN else SEGMENT_TTV
        for ratio in comparison.ratios:
            p_value = _pair_p_value(comparison, ratio.group, ratio.reference)
            unknown = UNKNOWN_GROUP in (ratio.group, ratio.reference)
            if unknown or not ratio.ratio.excludes_one:
                continue
            params = {
                "outcome": comparison.outcome,
                "segment": comparison.segment,
                "group": ratio.group,
                "reference": ratio.reference,
                "q": ratio.q,
                "p_adjusted": p_value,
                **_interval(ratio.ratio),
            }
            findings.append(Finding(code, params, _log_effect(ratio.ratio)))
    return findings


def aha_findings(result: AhaResult | None) -> list[Finding]:
    """Return the best candidate when its held-out retention is higher with it."""
    if result is None or not result.candidates:
        return []
    best = result.candidates[0]
    scores = best.held_out
    if not (scores.retention_with and scores.retention_without and scores.phi):
        return []
    if scores.phi <= 0:
        return []
    ratio = scores.retention_with / scores.retention_without
    params = {
        "kind": best.kind,
        "name": best.name,
        "min_count": best.min_count,
        "window": best.window_days,
        "horizon": result.horizon_days,
        "retention_with": scores.retention_with,
        "retention_without": scores.retention_without,
        "lift": scores.lift,
        "phi": scores.phi,
        "reach": scores.reach,
        "n_held_out": result.n_held_out,
    }
    return [Finding(AHA, params, abs(math.log(ratio)))]


def churned_first_findings(
    frame: pd.DataFrame, milestone_ids: Sequence[str]
) -> list[Finding]:
    """Return the share of accounts that churned before each milestone.

    Its effect is ``-log(1 - share)``, the log ratio of all accounts over
    those that did not churn first.
    """
    findings = []
    for milestone in milestone_ids:
        status = frame[f"m_{milestone}_status"].dropna()
        if status.empty:
            continue
        churned = int((status == STATUS_CHURNED_FIRST).sum())
        share = churned / len(status)
        if churned == 0 or share >= 1:
            continue
        params = {
            "milestone": milestone,
            "share": share,
            "n_churned": churned,
            "n_accounts": len(status),
        }
        findings.append(Finding(CHURNED_BEFORE_VALUE, params, -math.log(1 - share)))
    return findings


def ltv_findings(result: LtvResult | None) -> list[Finding]:
    """Return the value of reaching the milestone sooner, ranked last (an estimate)."""
    if result is None or result.value_of_sooner is None or result.value_of_sooner <= 0:
        return []
    params = {
        "milestone": result.milestone,
        "days": result.sooner_days,
        "value": result.value_of_sooner,
        "horizon": result.horizon_days,
        "landmark": result.landmark_days,
    }
    return [Finding(LTV_SOONER, params, 0.0)]


def rank_findings(findings: Sequence[Finding], limit: int) -> tuple[Finding, ...]:
    """Sort findings by effect, largest first (ties by code), and keep ``limit``.

    At most two findings of one code are kept, so one method with many
    milestones or segments does not crowd out the others.
    """
    ordered = sorted(
        findings, key=lambda item: (-item.effect, item.code, str(item.params))
    )
    kept: list[Finding] = []
    for finding in ordered:
        if sum(item.code == finding.code for item in kept) < MAX_PER_CODE:
            kept.append(finding)
    return tuple(kept[:limit])

"""Links between time to value, churn and lifetime value.

:func:`analyze_churn_link` runs every part on the per-account table and the
usable events. Landmark comparisons and a time-varying Cox model compare
retention by milestone reached without immortal-time bias. Segment
comparisons, lifetime value by TTV bucket, aha-moment discovery with
held-out scores and the ranked findings follow. Results are frozen dataclasses holding numbers and
codes only.
"""

from jalon.churn_link.aha import discover_aha, score_behaviour
from jalon.churn_link.analyze import analyze_churn_link
from jalon.churn_link.cox import landmark_adjusted_hazard_ratio, time_varying_cox
from jalon.churn_link.frame import account_frame
from jalon.churn_link.landmark import landmark_comparison, landmark_population
from jalon.churn_link.ltv import lifetime_value, restricted_mean
from jalon.churn_link.results import (
    AhaCandidate,
    AhaResult,
    AhaScores,
    ChurnLinkResult,
    CoxCovariate,
    CoxResult,
    Estimate,
    Finding,
    GroupRatio,
    GroupRetention,
    LandmarkResult,
    LtvBucket,
    LtvResult,
    PHCheck,
    SegmentComparison,
)
from jalon.churn_link.segments import compare_segments, compare_table
from jalon.churn_link.settings import ChurnLinkSettings, parse_settings

__all__ = [
    "AhaCandidate",
    "AhaResult",
    "AhaScores",
    "ChurnLinkResult",
    "ChurnLinkSettings",
    "CoxCovariate",
    "CoxResult",
    "Estimate",
    "Finding",
    "GroupRatio",
    "GroupRetention",
    "LandmarkResult",
    "LtvBucket",
    "LtvResult",
    "PHCheck",
    "SegmentComparison",
    "account_frame",
    "analyze_churn_link",
    "compare_segments",
    "compare_table",
    "discover_aha",
    "landmark_adjusted_hazard_ratio",
    "landmark_comparison",
    "landmark_population",
    "lifetime_value",
    "parse_settings",
    "restricted_mean",
    "score_behaviour",
    "time_varying_cox",
]

"""Frozen results of the churn link analysis.

Analysis code fills these with numbers, codes and small tables only. The
report, the CLI and the dashboard turn codes into text (see
``jalon.report.churn_link_view``) and never recompute a figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from jalon.churn_link.settings import ChurnLinkSettings
from jalon.survival import LogRankResult, PairwiseResult


@dataclass(frozen=True)
class Estimate:
    """A ratio with its confidence interval and, when a test gives one, a p-value."""

    value: float | None
    lower: float | None
    upper: float | None
    p_value: float | None = None

    @property
    def excludes_one(self) -> bool:
        """Whether the interval lies entirely above or below 1."""
        if self.lower is None or self.upper is None:
            return False
        return self.lower > 1.0 or self.upper < 1.0


@dataclass(frozen=True)
class GroupRetention:
    """Retention of one landmark group at the retention horizon.

    ``share`` is the Kaplan-Meier share still active ``horizon_days`` after
    the start, among accounts active at the landmark. It is None when the
    horizon is not after the landmark.
    """

    group: str
    n_accounts: int
    n_churned: int
    share: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True, repr=False)
class LandmarkResult:
    """Later retention of accounts active at a landmark, by milestone reached or not.

    Population: accounts not churned by day ``landmark_days`` and observed at
    least that long; ``excluded`` counts the others by reason. Group
    ``"reached"`` reached the milestone by the landmark, ``"not_reached"``
    did not. ``hazard_ratio`` is the churn hazard of reached over not
    reached after the landmark (Cox model, Efron ties).
    ``adjusted_hazard_ratio`` follows the same accounts from the landmark,
    switches later reachers to reached when they reach, and adjusts for
    segments (see :func:`jalon.churn_link.cox.landmark_adjusted_hazard_ratio`).
    ``ph_p_value`` is lifelines' proportional-hazards test of ``reached``
    (rank time transform). ``curves`` has
    columns ``group``, ``time`` (days since the start), ``retention``,
    ``lower`` and ``upper``.
    """

    milestone: str
    landmark_days: float
    horizon_days: float
    n_accounts: int
    excluded: dict[str, int]
    reached: GroupRetention
    not_reached: GroupRetention
    hazard_ratio: Estimate
    adjusted_hazard_ratio: Estimate
    ph_p_value: float | None
    curves: pd.DataFrame = field(compare=False)
    caveats: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"LandmarkResult({self.milestone} at day {self.landmark_days:g}: "
            f"{self.n_accounts:,} accounts active, {self.reached.n_accounts:,} reached, "
            f"{self.reached.n_churned + self.not_reached.n_churned:,} churned later, "
            f"HR {self.hazard_ratio.value})"
        )


@dataclass(frozen=True)
class PHCheck:
    """Check of proportional hazards for the effect of reaching the milestone.

    The time after the start is cut at ``cut_days``. ``hr_before`` and
    ``hr_after`` are the hazard ratios of reached accounts in each period,
    and ``p_value`` is the Wald test of their equality. A small p-value
    means the effect changes with time, so one hazard ratio summarises it
    poorly.
    """

    method: str
    cut_days: float | None
    hr_before: Estimate | None
    hr_after: Estimate | None
    p_value: float | None


@dataclass(frozen=True)
class CoxCovariate:
    """Hazard ratio of one covariate of the time-varying Cox model."""

    name: str
    segment: str | None
    level: str | None
    reference: str | None
    estimate: Estimate


@dataclass(frozen=True, repr=False)
class CoxResult:
    """Cox model of churn with the milestone as a time-varying covariate.

    Each account is at risk from its start, with ``reached = 0`` until it
    reaches the milestone and ``reached = 1`` after, so accounts that churn
    early are not compared with accounts that had longer to reach value.
    Segment covariates enter as indicators against their most common value.
    """

    milestone: str
    n_accounts: int
    n_churned: int
    n_rows: int
    excluded: dict[str, int]
    reached: Estimate
    covariates: tuple[CoxCovariate, ...]
    ph_check: PHCheck
    caveats: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"CoxResult({self.milestone}: {self.n_accounts:,} accounts, "
            f"{self.n_churned:,} churned, HR reached {self.reached.value})"
        )


@dataclass(frozen=True)
class GroupRatio:
    """Ratio of the time to reach share ``q`` in ``group`` over ``reference``.

    ``ratio`` is None when a percentile is not reached; ``reason`` is then
    the code of :class:`jalon.survival.RatioResult`.
    """

    group: str
    reference: str
    q: float
    ratio: Estimate
    reason: str | None = None


@dataclass(frozen=True, repr=False)
class SegmentComparison:
    """Time to a milestone (``outcome`` = its id) or to churn, compared by segment.

    ``outcome`` is ``"churn"`` for retention. ``curves`` (retention only)
    has columns ``group``, ``time``, ``retention``, ``lower``, ``upper``;
    TTV curves per segment are those of the milestone summaries. The
    log-rank tests treat churn before a milestone as censoring.
    """

    outcome: str
    segment: str
    n_accounts: int
    group_sizes: dict[str, int]
    reference: str
    logrank: LogRankResult | None
    pairwise: tuple[PairwiseResult, ...]
    ratios: tuple[GroupRatio, ...]
    curves: pd.DataFrame | None = field(default=None, compare=False)
    caveats: tuple[str, ...] = ()

    def __repr__(self) -> str:
        p_value = self.logrank.p_value if self.logrank else None
        return (
            f"SegmentComparison({self.outcome} by {self.segment}: "
            f"{self.n_accounts:,} accounts in {len(self.group_sizes)} groups, p={p_value})"
        )


@dataclass(frozen=True)
class AhaScores:
    """Scores of a yes/no behaviour against retention at the horizon.

    ``reach`` = P(behaviour), ``precision`` = ``retention_with`` =
    P(retained | behaviour), ``retention_without`` = P(retained | no
    behaviour), ``recall`` = P(behaviour | retained), ``lift`` =
    P(retained | behaviour) / P(retained), ``phi`` = correlation of the two
    yes/no variables. A share is None when its denominator is 0.
    """

    n_accounts: int
    n_with: int
    n_retained: int
    n_with_retained: int
    reach: float | None
    retention_with: float | None
    retention_without: float | None
    precision: float | None
    recall: float | None
    lift: float | None
    phi: float | None


@dataclass(frozen=True)
class AhaCandidate:
    """A candidate aha behaviour: at least ``min_count`` of something in the window.

    ``kind`` is ``"event"`` (``min_count`` occurrences of ``name``),
    ``"distinct_events"`` (``min_count`` distinct event names) or
    ``"distinct_property"`` (``min_count`` distinct values of property
    ``name``). ``fit`` scores come from the accounts used to choose,
    ``held_out`` from the others. ``milestone_toml`` is a milestone
    definition the user may paste into ``jalon.toml``.
    """

    kind: str
    name: str | None
    min_count: int
    window_days: float
    fit: AhaScores
    held_out: AhaScores
    milestone_toml: str


@dataclass(frozen=True, repr=False)
class AhaResult:
    """Candidate aha behaviours ranked by phi on the fitting accounts.

    Population: accounts active at the end of the behaviour window and
    observed until the horizon; ``excluded`` counts the others. Retained
    means not churned by ``horizon_days`` after the start.
    """

    window_days: float
    horizon_days: float
    n_accounts: int
    n_fit: int
    n_held_out: int
    excluded: dict[str, int]
    candidates: tuple[AhaCandidate, ...]
    caveats: tuple[str, ...] = ()

    def __repr__(self) -> str:
        best = self.candidates[0] if self.candidates else None
        name = f"{best.kind}:{best.name}>={best.min_count}" if best else None
        return (
            f"AhaResult({self.n_accounts:,} accounts, {self.n_held_out:,} held out, "
            f"{len(self.candidates)} candidates, best {name})"
        )


@dataclass(frozen=True)
class LtvBucket:
    """Expected lifetime value of the accounts of one TTV bucket.

    ``lower_days`` < TTV <= ``upper_days``; the last bucket (``upper_days``
    None) contains accounts that had not reached the milestone by the landmark.
    ``mean_lifetime_days`` is the restricted mean of days active between the
    landmark and the landmark plus the horizon, from Kaplan-Meier.
    """

    lower_days: float | None
    upper_days: float | None
    n_accounts: int
    mean_monthly_value: float
    mean_lifetime_days: float
    expected_value: float


@dataclass(frozen=True, repr=False)
class LtvResult:
    """Expected value over a horizon by TTV bucket, and of reaching value sooner.

    Population: accounts active at ``landmark_days`` (the last bucket bound)
    with a known value. ``value_per_day_sooner`` is the slope of the expected
    value against the bucket's mean TTV among reached buckets: an estimate
    of association that assumes the slope is linear and causal.
    ``value_of_sooner`` is it times ``sooner_days``.
    """

    milestone: str
    landmark_days: float
    horizon_days: float
    value_source: str
    n_accounts: int
    excluded: dict[str, int]
    buckets: tuple[LtvBucket, ...]
    sooner_days: float
    value_per_day_sooner: float | None
    value_of_sooner: float | None
    caveats: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"LtvResult({self.milestone}: {self.n_accounts:,} accounts active at day "
            f"{self.landmark_days:g}, {len(self.buckets)} buckets)"
        )


@dataclass(frozen=True)
class Finding:
    """One finding: a code, the figures its sentence needs, and its effect size.

    ``effect`` is the absolute log of the ratio behind the finding, used to
    rank findings. ``params`` contains plain numbers and names only.
    """

    code: str
    params: dict[str, Any]
    effect: float


@dataclass(frozen=True, repr=False)
class ChurnLinkResult:
    """Everything the churn link analysis found, for the report, CLI and dashboard."""

    settings: ChurnLinkSettings
    n_accounts: int
    landmarks: tuple[LandmarkResult, ...]
    cox: tuple[CoxResult, ...]
    segments: tuple[SegmentComparison, ...]
    ltv: LtvResult | None
    aha: AhaResult | None
    findings: tuple[Finding, ...]
    caveats: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"ChurnLinkResult({self.n_accounts:,} accounts, {len(self.landmarks)} "
            f"landmark comparisons, {len(self.cox)} Cox models, "
            f"{len(self.segments)} segment comparisons, {len(self.findings)} findings)"
        )

    def all_caveats(self) -> tuple[str, ...]:
        """Return the caveat codes of every part, each once, in order of appearance."""
        parts = [*self.landmarks, *self.cox, *self.segments, self.ltv, self.aha, self]
        codes = [code for part in parts if part is not None for code in part.caveats]
        return tuple(dict.fromkeys(codes))

    def landmark(self, milestone: str, day: float) -> LandmarkResult:
        """Return the landmark comparison of ``milestone`` at ``day``."""
        for result in self.landmarks:
            if result.milestone == milestone and result.landmark_days == day:
                return result
        raise KeyError((milestone, day))

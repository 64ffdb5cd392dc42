"""Small frozen results shared by the estimators and the milestone summary."""

from __future__ import annotations

from dataclasses import dataclass

#: ``HorizonShare.method`` values.
METHOD_KAPLAN_MEIER = "kaplan_meier"
METHOD_AALEN_JOHANSEN = "aalen_johansen"


@dataclass(frozen=True)
class Percentile:
    """Time by which a share ``q`` of the accounts reached the milestone.

    ``days`` is None when the curve never reaches the share within the
    window. ``lower`` and ``upper`` come from the same rule applied to the
    confidence bounds of the curve, so either may be None on its own: an
    upper bound of None means "later than the window shows".
    """

    q: float
    days: float | None
    lower: float | None
    upper: float | None

    @property
    def reached(self) -> bool:
        """Whether the curve reaches the share ``q`` within the window."""
        return self.days is not None


@dataclass(frozen=True)
class HorizonShare:
    """Cumulative share of accounts that reached the milestone by ``days``.

    ``method`` is ``"kaplan_meier"`` (one minus Kaplan-Meier, churn treated
    as censoring) or ``"aalen_johansen"`` (churn as a competing risk).
    ``lower`` and ``upper`` bound a 95% pointwise confidence interval unless
    the estimator was given another ``alpha``.
    """

    days: float
    share: float
    lower: float
    upper: float
    method: str

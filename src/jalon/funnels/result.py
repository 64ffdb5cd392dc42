"""The result object of a funnel analysis."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from jalon.errors import N_

CAVEAT_STILL_IN_WINDOW = N_(
    "Some people are still inside their conversion window: they count as not "
    "converted yet, not as lost."
)
CAVEAT_PERCENTILE_NOT_REACHED = N_(
    "For some steps too few people converted to estimate the median or the "
    "90th percentile of the time from the previous step."
)
CAVEAT_FEW_AT_RISK = N_(
    "For some steps fewer than 10 people were still waiting to convert at a "
    "reported time, so its confidence interval is wide."
)
CAVEAT_EXCLUDED = N_(
    "Some people were left out because an exclusion event occurred during "
    "their attempt."
)


@dataclass(frozen=True)
class FunnelResult:
    """Steps, conversion, times and friction points of one funnel.

    Attributes
    ----------
    funnel_id, name, order, level, start_anchor
        From the funnel's config.
    window_seconds
        Conversion window in seconds (inclusive).
    observation_end
        Naive UTC timestamp; windows that end after it are still open.
    steps
        One row per step, columns :data:`jalon.funnels.stats.STEP_COLUMNS`,
        for everyone (``segment = "all"``, ``segment_value = "all"``).
    by_segment
        The same columns for each segment value, sorted by segment, value
        and step.
    friction
        Columns ``segment``, ``segment_value``, ``largest_drop_off_step`` and
        ``slowest_step`` (step numbers, missing when undefined).
    n_persons
        Persons who did step 1 (any step for ``order = "any"``), after
        exclusions. With ``start_anchor = "account_start"``, only those who
        did it within the window from their account's start.
    excluded
        Persons left out, by reason (``exclusion_event``).
    excluded_events
        Step or exclusion events left out, by reason (``missing_user_id``,
        ``not_in_accounts``, ``before_start``, ``after_end``).
    caveats
        Message ids marked for translation.
    """

    funnel_id: str
    name: str
    order: str
    level: str
    start_anchor: str
    window_seconds: float
    observation_end: dt.datetime
    steps: pd.DataFrame
    by_segment: pd.DataFrame
    friction: pd.DataFrame
    n_persons: int
    excluded: dict[str, int] = field(default_factory=dict)
    excluded_events: dict[str, int] = field(default_factory=dict)
    caveats: tuple[str, ...] = ()

    def __repr__(self) -> str:
        still = int(self.steps.n_still_in_window.sum()) if len(self.steps) else 0
        return (
            f"FunnelResult(funnel_id={self.funnel_id!r}, level={self.level!r}, "
            f"n_persons={self.n_persons}, still_in_window={still}, "
            f"excluded={self.excluded!r}, excluded_events={self.excluded_events!r}, "
            f"window_days={self.window_seconds / 86400:g}, "
            f"observation_end={self.observation_end.isoformat()})"
        )

"""Step statistics of a funnel, computed from the per-person paths.

For step k of a group of persons (everyone, or one segment value):

* ``n_reached``: persons whose furthest step is k or more;
* ``n_still_in_window``: persons stopped at step k-1 whose latest conversion
  window ends after the observation end. They may still convert, so they are
  not counted as lost;
* ``n_dropped``: persons stopped at step k-1 whose window has closed;
* ``conversion_from_previous`` = n_reached(k) / n_reached(k-1), and
  ``conversion_from_first`` = n_reached(k) / n_reached(1). Both count persons
  still in the window as not converted yet, so they are lower bounds;
  ``conversion_decided`` = n_reached(k) / (n_reached(k-1) - n_still_in_window)
  leaves them out;
* ``drop_off`` = n_dropped / n_reached(k-1) and ``still_in_window`` =
  n_still_in_window / n_reached(k-1), so conversion + drop-off + still in
  window = 1;
* time from step k-1 to step k, in days: Kaplan-Meier median and 90th
  percentile with 95% confidence limits. Persons who reached step k are
  events, and persons still in the window are censored at the observation
  end. Persons whose window closed without step k are left out. The estimate
  therefore describes how long converting persons take, not how likely they
  are to convert. ``few_at_risk`` marks a step where fewer than
  :data:`MIN_AT_RISK` persons were still waiting at a reported percentile.

Friction points: the step with the largest drop-off and the step with the
largest median time from the previous step (ties go to the earlier step).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from jalon.funnels.paths import time_column

logger = logging.getLogger(__name__)

SECONDS_PER_DAY = 86400.0
MEDIAN = 0.5
P90 = 0.9
#: Below this many persons still waiting at a reported percentile, its
#: interval is wide and the result gets a caveat (as in jalon.survival).
MIN_AT_RISK = 10
OVERALL = "all"

STEP_COLUMNS = [
    "segment",
    "segment_value",
    "step",
    "step_name",
    "n_reached",
    "n_still_in_window",
    "n_dropped",
    "conversion_from_previous",
    "conversion_from_first",
    "conversion_decided",
    "drop_off",
    "still_in_window",
    "n_timed",
    "n_censored",
    "median_days",
    "median_lower",
    "median_upper",
    "p90_days",
    "p90_lower",
    "p90_upper",
    "few_at_risk",
    "largest_drop_off",
    "slowest",
]


def order_step_times(persons: pd.DataFrame, n_steps: int) -> pd.DataFrame:
    """Sort the step times of each row so that ``tk`` is the k-th step done.

    Used for ``order = "any"``, where ``tk`` first contains the time of the
    funnel's step k. Missing times sort last.
    """
    columns = [time_column(index) for index in range(1, n_steps + 1)]
    values = persons[columns].to_numpy(dtype="float64")
    ordered = np.sort(values, axis=1)
    result = persons.copy()
    result[columns] = ordered
    return result


def step_table(
    persons: pd.DataFrame,
    step_names: list[str],
    observation_end_epoch: float,
    segment: str,
    segment_value: str,
) -> pd.DataFrame:
    """Return the step rows of one group of persons (see module docstring).

    ``persons`` has ``furthest``, ``open`` and ``t1`` ... ``tn`` (epoch
    seconds) and contains only persons who are not excluded.
    """
    rows = []
    reached = [
        int((persons.furthest >= index).sum())
        for index in range(1, len(step_names) + 1)
    ]
    for index, name in enumerate(step_names, start=1):
        row = {
            "segment": segment,
            "segment_value": segment_value,
            "step": index,
            "step_name": name,
            "n_reached": reached[index - 1],
        }
        if index == 1:
            row.update(_first_step_fields(reached[0]))
        else:
            row.update(_conversion_fields(persons, index, reached))
            row.update(_time_fields(persons, index, observation_end_epoch))
        rows.append(row)
    table = pd.DataFrame(rows)
    return _flag_friction(table)


def _first_step_fields(n_first: int) -> dict:
    return {
        "n_still_in_window": 0,
        "n_dropped": 0,
        "conversion_from_previous": math.nan,
        "conversion_from_first": 1.0 if n_first else math.nan,
        "conversion_decided": math.nan,
        "drop_off": math.nan,
        "still_in_window": math.nan,
        "n_timed": 0,
        "n_censored": 0,
        "median_days": math.nan,
        "median_lower": math.nan,
        "median_upper": math.nan,
        "p90_days": math.nan,
        "p90_lower": math.nan,
        "p90_upper": math.nan,
        "few_at_risk": False,
    }


def _conversion_fields(persons: pd.DataFrame, index: int, reached: list[int]) -> dict:
    stopped = persons[persons.furthest == index - 1]
    pending = int(stopped.open.sum())
    dropped = len(stopped) - pending
    previous = reached[index - 2]
    decided = previous - pending
    return {
        "n_still_in_window": pending,
        "n_dropped": dropped,
        "conversion_from_previous": _ratio(reached[index - 1], previous),
        "conversion_from_first": _ratio(reached[index - 1], reached[0]),
        "conversion_decided": _ratio(reached[index - 1], decided),
        "drop_off": _ratio(dropped, previous),
        "still_in_window": _ratio(pending, previous),
    }


def _time_fields(persons: pd.DataFrame, index: int, end_epoch: float) -> dict:
    done = persons[persons.furthest >= index]
    pending = persons[(persons.furthest == index - 1) & persons.open]
    later, earlier = time_column(index), time_column(index - 1)
    durations = pd.concat(
        [
            (done[later] - done[earlier]) / SECONDS_PER_DAY,
            (end_epoch - pending[earlier]) / SECONDS_PER_DAY,
        ],
        ignore_index=True,
    )
    events = np.concatenate(
        [np.ones(len(done), "int64"), np.zeros(len(pending), "int64")]
    )
    fields = {"n_timed": len(done), "n_censored": len(pending), "few_at_risk": False}
    estimates = time_percentiles(durations.to_numpy("float64"), events, (MEDIAN, P90))
    for label, estimate in zip(("median", "p90"), estimates, strict=True):
        fields[f"{label}_days"] = estimate.days
        fields[f"{label}_lower"] = estimate.lower
        fields[f"{label}_upper"] = estimate.upper
        if estimate.at_risk < MIN_AT_RISK and not math.isnan(estimate.days):
            fields["few_at_risk"] = True
    return fields


def life_table(
    durations: np.ndarray, events: np.ndarray, group: str = OVERALL
) -> pd.DataFrame:
    """Collapse durations (days) and event flags (1 event, 0 censored) to a life table.

    The columns follow ``jalon.survival``: ``group``, ``time``, ``n_event``,
    ``n_competing`` (always 0 here) and ``n_censored``.
    """
    frame = pd.DataFrame(
        {"time": durations.astype("float64"), "event": events.astype("int64")}
    )
    grouped = frame.groupby("time", sort=True).event.agg(["sum", "count"]).reset_index()
    return pd.DataFrame(
        {
            "group": group,
            "time": grouped["time"].astype("float64"),
            "n_event": grouped["sum"].astype("int64"),
            "n_competing": np.zeros(len(grouped), "int64"),
            "n_censored": (grouped["count"] - grouped["sum"]).astype("int64"),
        }
    )


@dataclass(frozen=True)
class TimeEstimate:
    """A percentile of the time to convert, in days, with its 95% limits.

    Values are NaN where undefined; ``at_risk`` is the number of persons
    still waiting to convert at ``days`` (0 when ``days`` is NaN).
    """

    days: float
    lower: float
    upper: float
    at_risk: int


def time_percentiles(
    durations: np.ndarray, events: np.ndarray, quantiles: tuple[float, ...]
) -> list[TimeEstimate]:
    """Return the times (days) by which each share ``q`` of persons converted.

    Kaplan-Meier with censoring: the time where the survival curve first falls
    to ``1 - q`` or below. NaN when there are no events or the curve never
    falls that low.
    """
    if len(durations) == 0 or events.sum() == 0:
        return [TimeEstimate(math.nan, math.nan, math.nan, 0) for _ in quantiles]
    from jalon.survival import KaplanMeier

    fitted = KaplanMeier().fit(life_table(durations, events))
    estimates = []
    for quantile in quantiles:
        result = fitted.percentile(quantile)
        at_risk = 0 if result.days is None else fitted.at_risk(result.days)
        estimates.append(
            TimeEstimate(
                _nan(result.days), _nan(result.lower), _nan(result.upper), at_risk
            )
        )
    return estimates


def _flag_friction(table: pd.DataFrame) -> pd.DataFrame:
    table["largest_drop_off"] = False
    table["slowest"] = False
    later = table[table.step > 1]
    drop = later.drop_off.dropna()
    if len(drop) and drop.max() > 0:
        table.loc[drop.idxmax(), "largest_drop_off"] = True
    median = later.median_days.dropna()
    if len(median):
        table.loc[median.idxmax(), "slowest"] = True
    return table


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator > 0 else math.nan


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)

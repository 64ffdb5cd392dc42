"""Settings of the churn link analysis, read from the ``[analysis]`` table.

Every key is optional. Each check is a small named rule that raises
:class:`jalon.errors.ConfigError` with the key path, the value and what is
allowed, like the rest of the configuration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from jalon.errors import N_
from jalon.milestones.spec import check_bool, check_keys, config_error

SECTION = "analysis"
SECONDS_PER_DAY = 86_400.0

DEFAULT_LANDMARKS_DAYS = (7.0, 14.0, 30.0)
DEFAULT_RETENTION_HORIZON_DAYS = 90.0
DEFAULT_AHA_WINDOW_DAYS = 3.0
DEFAULT_AHA_MIN_COUNTS = (1, 2, 3, 5)
DEFAULT_AHA_DISTINCT_COUNTS = (2, 3, 4, 5)
DEFAULT_AHA_MAX_EVENTS = 30
DEFAULT_HELD_OUT_SHARE = 0.3
DEFAULT_SEED = 0
DEFAULT_N_BOOT = 400
DEFAULT_TTV_BUCKETS_DAYS = (1.0, 7.0, 30.0)
DEFAULT_SOONER_DAYS = 7.0
DEFAULT_LTV_HORIZON_DAYS = 365.0
DEFAULT_SEGMENT_QUANTILES = (0.5, 0.25)
DEFAULT_RETENTION_QUANTILES = (0.5, 0.25, 0.1)
DEFAULT_MAX_FINDINGS = 5
DEFAULT_COX_MAX_ACCOUNTS = 50_000

ALLOWED_KEYS = (
    "churn_link",
    "landmarks",
    "retention_horizon",
    "aha_window",
    "aha_horizon",
    "aha_events",
    "aha_exclude_events",
    "aha_min_counts",
    "aha_distinct_counts",
    "aha_distinct_properties",
    "aha_max_events",
    "held_out_share",
    "seed",
    "n_boot",
    "segment_quantiles",
    "retention_quantiles",
    "value_column",
    "value_by_segment",
    "ttv_buckets",
    "sooner_days",
    "ltv_horizon",
    "ltv_milestone",
    "max_findings",
    "cox_max_accounts",
)


@dataclass(frozen=True)
class ChurnLinkSettings:
    """Validated ``[analysis]`` settings; every duration is in days.

    Attributes
    ----------
    churn_link
        False skips the churn link analysis, the slowest step at scale.
    landmarks
        Days after the start at which the landmark comparison is made.
    retention_horizon
        Days after the start at which an account counts as retained when it
        has not churned; used by the aha-moment discovery and the findings.
    aha_window
        Days after the start whose behaviour the discovery may use.
    aha_horizon
        Retention horizon of the discovery, in days after the start.
    aha_events
        Candidate events, or None for the most common events.
    aha_exclude_events
        Events never proposed as candidates (the churn event is always left out).
    aha_min_counts, aha_distinct_counts
        Thresholds tried for event counts and for distinct-value counts.
    aha_distinct_properties
        Property names whose distinct values are counted as candidates, beside
        distinct event names.
    aha_max_events
        Number of candidate events kept when ``aha_events`` is None.
    held_out_share
        Share of accounts whose scores are reported, never used for the choice.
    seed
        Seed of the held-out split and of the bootstraps.
    n_boot
        Bootstrap replicates of each ratio interval.
    segment_quantiles, retention_quantiles
        Shares whose times are compared between segments, tried in order.
    value_column
        Numeric per-account column holding the monthly value of an account.
    value_by_segment
        ``(segment column, {segment value: monthly value})``, used when
        ``value_column`` is None.
    ttv_buckets
        Upper bounds in days of the TTV buckets of the lifetime value.
    sooner_days
        Days sooner whose value the lifetime-value estimate states.
    ltv_horizon
        Days after the last bucket bound over which lifetime is averaged.
    ltv_milestone
        Milestone of the lifetime value, or None for the first one declared.
    max_findings
        Number of findings kept, largest effects first.
    cox_max_accounts
        Above this many accounts, time-varying Cox models are fitted on a
        random sample of this size (drawn with ``seed``).
    """

    landmarks: tuple[float, ...] = DEFAULT_LANDMARKS_DAYS
    retention_horizon: float = DEFAULT_RETENTION_HORIZON_DAYS
    aha_window: float = DEFAULT_AHA_WINDOW_DAYS
    aha_horizon: float = DEFAULT_RETENTION_HORIZON_DAYS
    aha_events: tuple[str, ...] | None = None
    aha_exclude_events: tuple[str, ...] = ()
    aha_min_counts: tuple[int, ...] = DEFAULT_AHA_MIN_COUNTS
    aha_distinct_counts: tuple[int, ...] = DEFAULT_AHA_DISTINCT_COUNTS
    aha_distinct_properties: tuple[str, ...] = ()
    aha_max_events: int = DEFAULT_AHA_MAX_EVENTS
    held_out_share: float = DEFAULT_HELD_OUT_SHARE
    seed: int = DEFAULT_SEED
    n_boot: int = DEFAULT_N_BOOT
    segment_quantiles: tuple[float, ...] = DEFAULT_SEGMENT_QUANTILES
    retention_quantiles: tuple[float, ...] = DEFAULT_RETENTION_QUANTILES
    value_column: str | None = None
    value_by_segment: tuple[str, dict[str, float]] | None = None
    ttv_buckets: tuple[float, ...] = DEFAULT_TTV_BUCKETS_DAYS
    sooner_days: float = DEFAULT_SOONER_DAYS
    ltv_horizon: float = DEFAULT_LTV_HORIZON_DAYS
    ltv_milestone: str | None = None
    max_findings: int = DEFAULT_MAX_FINDINGS
    cox_max_accounts: int = DEFAULT_COX_MAX_ACCOUNTS
    churn_link: bool = True


def _path(key: str) -> str:
    return f"{SECTION}.{key}"


def _days(value: Any, key: str, minimum: float = 0.0) -> float:
    """Return a number of days greater than ``minimum``, or raise ConfigError."""
    valid = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not valid or not math.isfinite(value) or value <= minimum:
        raise config_error(
            "config.bad_days",
            N_(
                "Invalid value at {path}: {value}. Expected a number of days above {minimum}."
            ),
            _path(key),
            value,
            minimum=minimum,
        )
    return float(value)


def _days_list(value: Any, key: str) -> tuple[float, ...]:
    if not isinstance(value, list) or not value:
        raise config_error(
            "config.bad_days_list",
            N_(
                "Invalid value at {path}: {value}. Expected a list of numbers of days, such as [7, 14, 30]."
            ),
            _path(key),
            value,
        )
    return tuple(sorted({_days(item, key) for item in value}))


def _count_list(value: Any, key: str) -> tuple[int, ...]:
    valid = (
        isinstance(value, list)
        and value
        and all(
            isinstance(item, int) and not isinstance(item, bool) and item >= 1
            for item in value
        )
    )
    if not valid:
        raise config_error(
            "config.bad_count_list",
            N_(
                "Invalid value at {path}: {value}. Expected a list of whole numbers of 1 or more, such as [1, 2, 3]."
            ),
            _path(key),
            value,
        )
    return tuple(sorted(set(value)))


def _share_list(value: Any, key: str) -> tuple[float, ...]:
    valid = (
        isinstance(value, list)
        and value
        and all(
            isinstance(item, (int, float))
            and not isinstance(item, bool)
            and 0 < item < 1
            for item in value
        )
    )
    if not valid:
        raise config_error(
            "config.bad_share_list",
            N_(
                "Invalid value at {path}: {value}. Expected a list of shares between 0 and 1, such as [0.5, 0.25]."
            ),
            _path(key),
            value,
        )
    return tuple(float(item) for item in value)


def _names(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(
        isinstance(item, str) and item for item in value
    ):
        raise config_error(
            "config.bad_name_list",
            N_(
                'Invalid value at {path}: {value}. Expected a list of names, such as ["report_shared"].'
            ),
            _path(key),
            value,
        )
    return tuple(value)


def _held_out_share(value: Any) -> float:
    valid = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not valid or not 0.05 <= value <= 0.9:
        raise config_error(
            "config.bad_held_out_share",
            N_(
                "Invalid value at {path}: {value}. Expected a share between 0.05 and 0.9, such as 0.3."
            ),
            _path("held_out_share"),
            value,
        )
    return float(value)


def _whole(value: Any, key: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise config_error(
            "config.bad_whole_number",
            N_(
                "Invalid value at {path}: {value}. Expected a whole number of {minimum} or more."
            ),
            _path(key),
            value,
            minimum=minimum,
        )
    return value


def _value_by_segment(
    value: Any, segments: tuple[str, ...]
) -> tuple[str, dict[str, float]]:
    """Parse ``{ column = "plan", values = { starter = 15, team = 29 } }``."""
    key = "value_by_segment"
    valid = (
        isinstance(value, dict)
        and set(value) == {"column", "values"}
        and value["column"] in segments
        and isinstance(value["values"], dict)
        and value["values"]
        and all(
            isinstance(amount, (int, float))
            and not isinstance(amount, bool)
            and amount >= 0
            for amount in value["values"].values()
        )
    )
    if not valid:
        raise config_error(
            "config.bad_value_by_segment",
            N_(
                "Invalid value at {path}: {value}. Expected a table such as "
                '{{ column = "plan", values = {{ starter = 15, team = 29 }} }}, '
                "where column is one of the segments ({allowed}) and every value "
                "is a monthly amount of 0 or more."
            ),
            _path(key),
            value,
            allowed=", ".join(segments),
        )
    return value["column"], {str(k): float(v) for k, v in value["values"].items()}


def parse_settings(
    analysis: dict[str, Any],
    segments: tuple[str, ...] = (),
    milestone_ids: tuple[str, ...] = (),
) -> ChurnLinkSettings:
    """Validate the ``[analysis]`` table and return its settings.

    Parameters
    ----------
    analysis
        The ``[analysis]`` table as parsed from TOML (``Config.analysis``).
    segments
        Configured segment columns, for ``value_by_segment``.
    milestone_ids
        Declared milestone ids, for ``ltv_milestone``.

    Raises
    ------
    ConfigError
        With the key path under ``analysis`` and the value received.

    Examples
    --------
    >>> parse_settings({"landmarks": [30, 7]}).landmarks
    (7.0, 30.0)
    """
    check_keys(analysis, ALLOWED_KEYS, SECTION)
    values: dict[str, Any] = {}
    for key in ("landmarks", "ttv_buckets"):
        if key in analysis:
            values[key] = _days_list(analysis[key], key)
    for key in (
        "retention_horizon",
        "aha_window",
        "aha_horizon",
        "sooner_days",
        "ltv_horizon",
    ):
        if key in analysis:
            values[key] = _days(analysis[key], key)
    for key in ("aha_min_counts", "aha_distinct_counts"):
        if key in analysis:
            values[key] = _count_list(analysis[key], key)
    for key in ("segment_quantiles", "retention_quantiles"):
        if key in analysis:
            values[key] = _share_list(analysis[key], key)
    for key in ("aha_events", "aha_exclude_events", "aha_distinct_properties"):
        if key in analysis:
            values[key] = _names(analysis[key], key)
    for key, minimum in (
        ("aha_max_events", 1),
        ("seed", 0),
        ("n_boot", 50),
        ("max_findings", 1),
        ("cox_max_accounts", 500),
    ):
        if key in analysis:
            values[key] = _whole(analysis[key], key, minimum)
    if "churn_link" in analysis:
        values["churn_link"] = check_bool(analysis["churn_link"], f"{SECTION}.churn_link")
    if "held_out_share" in analysis:
        values["held_out_share"] = _held_out_share(analysis["held_out_share"])
    if "value_column" in analysis:
        values["value_column"] = _names(analysis["value_column"], "value_column")[0]
    if "value_by_segment" in analysis:
        values["value_by_segment"] = _value_by_segment(
            analysis["value_by_segment"], segments
        )
    if "ltv_milestone" in analysis:
        values["ltv_milestone"] = _milestone_id(
            analysis["ltv_milestone"], milestone_ids
        )
    if "aha_horizon" not in values and "retention_horizon" in values:
        values["aha_horizon"] = values["retention_horizon"]
    settings = ChurnLinkSettings(**values)
    _check_window_before_horizon(settings)
    return settings


def _milestone_id(value: Any, milestone_ids: tuple[str, ...]) -> str:
    if value not in milestone_ids:
        raise config_error(
            "config.unknown_milestone",
            N_(
                "Invalid value at {path}: {value}. Expected one of the milestone ids: {allowed}."
            ),
            _path("ltv_milestone"),
            value,
            allowed=", ".join(milestone_ids),
        )
    return str(value)


def _check_window_before_horizon(settings: ChurnLinkSettings) -> None:
    """Reject an aha window that reaches the retention horizon it predicts."""
    if settings.aha_window >= settings.aha_horizon:
        raise config_error(
            "config.aha_window_after_horizon",
            N_(
                "Invalid value at {path}: {value}. The behaviour window must end "
                "before the retention horizon ({horizon} days), otherwise the "
                "outcome leaks into the behaviour."
            ),
            _path("aha_window"),
            settings.aha_window,
            horizon=settings.aha_horizon,
        )

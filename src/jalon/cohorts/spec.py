"""Cohort configuration: the ``[cohorts]`` table of jalon.toml.

::

    [cohorts]
    period = "week"            # day | week | month
    activity = ["question_posted", "answer_posted"]   # default: any event
    periods = 12               # number of periods after the start to show
    anchor = "calendar"        # calendar | start

:func:`parse_cohorts` turns the table into a :class:`CohortSpec` and raises
:class:`jalon.errors.ConfigError` naming the key path, the value and what is
allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jalon.errors import N_
from jalon.milestones.spec import check_choice, check_keys, config_error, positive_int

PERIODS = ("day", "week", "month")
ANCHORS = ("calendar", "start")
COHORT_KEYS = ("period", "activity", "periods", "anchor")
DEFAULT_PERIODS = 12


@dataclass(frozen=True)
class CohortSpec:
    """A validated cohort set-up.

    ``activity`` is the tuple of event names that count as activity, or None
    for any event. ``periods`` is the number of periods (0 to periods - 1)
    in the matrices.
    """

    period: str = "week"
    activity: tuple[str, ...] | None = None
    periods: int = DEFAULT_PERIODS
    anchor: str = "calendar"


def parse_cohorts(raw: Any, path: str) -> CohortSpec:
    """Validate the ``[cohorts]`` table and return its :class:`CohortSpec`.

    Parameters
    ----------
    raw
        The TOML table as a dict.
    path
        Key path of the table (``"cohorts"``); error messages use it.

    Raises
    ------
    ConfigError
        On an unknown key or an invalid value.

    Examples
    --------
    >>> parse_cohorts({"period": "month", "activity": "login"}, "cohorts")
    CohortSpec(period='month', activity=('login',), periods=12, anchor='calendar')
    """
    if not isinstance(raw, dict):
        raise config_error(
            "config.bad_section",
            N_("Invalid value at {path}: {value}. Expected a table."),
            path,
            raw,
        )
    check_keys(raw, COHORT_KEYS, path)
    return CohortSpec(
        period=check_choice(raw.get("period", "week"), PERIODS, f"{path}.period"),
        activity=_parse_activity(raw.get("activity"), f"{path}.activity"),
        periods=positive_int(raw.get("periods", DEFAULT_PERIODS), f"{path}.periods"),
        anchor=check_choice(raw.get("anchor", "calendar"), ANCHORS, f"{path}.anchor"),
    )


def _parse_activity(value: Any, path: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) and value:
        return (value,)
    if (
        isinstance(value, list)
        and value
        and all(isinstance(item, str) and item for item in value)
    ):
        return tuple(value)
    raise config_error(
        "config.bad_event",
        N_(
            "Invalid value at {path}: {value}. Expected an event name or a list of names."
        ),
        path,
        value,
    )

"""A deliberately simple evaluator of milestone conditions, for cross-checks.

It reads a condition as written in jalon.toml (a plain dict), walks one
account's events in ``(ts, _seq)`` order with Python loops and returns the
instant the condition is first met. Its rules come from the design document
(sections "Time", "Conditions" and "Per-account table"), and it shares no
code with ``jalon.milestones``:

* only events with ``start <= ts <= end`` are used, and windows are inclusive;
* missing property values satisfy only ``ne``, ``not_in`` and
  ``is_set = false``, and they are not a value for ``distinct``;
* day k of ``active_days`` is ``[start + k * 24 h, start + (k + 1) * 24 h)``;
* ``users = U`` evaluates the rest on each user's own events, so events
  without a user count for no user;
* a sequence step must come at a strictly later time than the previous
  step, and at most ``gap`` after it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SECONDS_PER_UNIT = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
ONE_DAY = dt.timedelta(days=1)
STATUS_CENSORED, STATUS_REACHED, STATUS_CHURNED = 0, 1, 2


@dataclass(frozen=True)
class OracleEvent:
    """One event of an account; a property absent from ``properties`` is missing."""

    ts: dt.datetime
    seq: int
    event: str
    user: str | None
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class Outcome:
    """Expected milestone columns of one account."""

    status: int
    reached_at: dt.datetime | None
    days: float


def duration(value: str | float) -> dt.timedelta:
    """Convert ``"90m"``, ``"36h"``, ``"7d"``, ``"2w"`` or a number of days."""
    if isinstance(value, (int, float)):
        return dt.timedelta(days=value)
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([mhdw])", value)
    if match is None:
        raise ValueError(f"not a duration: {value!r}")
    return dt.timedelta(
        seconds=float(match.group(1)) * SECONDS_PER_UNIT[match.group(2)]
    )


def usable_events(
    events: Iterable[OracleEvent], start: dt.datetime, end: dt.datetime
) -> list[OracleEvent]:
    """Keep the events from ``start`` to ``end`` inclusive, in ``(ts, seq)`` order."""
    usable = [event for event in events if start <= event.ts <= end]
    usable.sort(key=lambda event: (event.ts, event.seq))
    return usable


def reached_at(
    condition: Mapping[str, Any], events: Sequence[OracleEvent], start: dt.datetime
) -> dt.datetime | None:
    """Return when ``condition`` is first met, or None.

    ``events`` are one account's usable events, sorted by ``usable_events``.
    """
    if "all_of" in condition:
        times = [reached_at(child, events, start) for child in condition["all_of"]]
        if any(moment is None for moment in times):
            return None
        return max(times)
    if "any_of" in condition:
        times = [reached_at(child, events, start) for child in condition["any_of"]]
        found = [moment for moment in times if moment is not None]
        return min(found) if found else None
    if "sequence" in condition:
        return _sequence_end(condition, events, start)
    return _event_condition_time(condition, events, start)


def _event_condition_time(
    condition: Mapping[str, Any], events: Sequence[OracleEvent], start: dt.datetime
) -> dt.datetime | None:
    matched = [event for event in events if matches(condition, event, start)]
    if "users" not in condition:
        return _counted_time(condition, matched, start)

    user_times = []
    for user in {event.user for event in matched if event.user is not None}:
        own = [event for event in matched if event.user == user]
        moment = _counted_time(condition, own, start)
        if moment is not None:
            user_times.append(moment)
    user_times.sort()
    needed = condition["users"]
    return user_times[needed - 1] if len(user_times) >= needed else None


def _counted_time(
    condition: Mapping[str, Any], matched: Sequence[OracleEvent], start: dt.datetime
) -> dt.datetime | None:
    """Apply ``count``, ``distinct`` or ``active_days`` to sorted matching events."""
    if "distinct" in condition:
        needed = condition.get("count", 1)
        seen: set[Any] = set()
        for event in matched:
            if condition["distinct"] == "event":
                value = event.event
            else:
                value = event.properties.get(condition["distinct"])
            if value is None or value in seen:
                continue
            seen.add(value)
            if len(seen) == needed:
                return event.ts
        return None

    if "active_days" in condition:
        days: set[int] = set()
        for event in matched:
            days.add((event.ts - start) // ONE_DAY)
            if len(days) == condition["active_days"]:
                return event.ts
        return None

    needed = condition.get("count", 1)
    return matched[needed - 1].ts if len(matched) >= needed else None


def matches(
    condition: Mapping[str, Any], event: OracleEvent, start: dt.datetime
) -> bool:
    """Tell whether ``event`` has a listed name, passes ``where`` and is in the window."""
    names = condition.get("event")
    if isinstance(names, str):
        names = [names]
    if names is not None and event.event not in names:
        return False
    if "where" in condition and not where_holds(condition["where"], event.properties):
        return False
    if "within" in condition and event.ts - start > duration(condition["within"]):
        return False
    return True


def _sequence_end(
    condition: Mapping[str, Any], events: Sequence[OracleEvent], start: dt.datetime
) -> dt.datetime | None:
    """Return the final step of the earliest complete chain.

    After each step, ``ends`` lists every event that can end a valid chain
    of the steps so far.
    """
    gap = duration(condition["gap"]) if "gap" in condition else None
    steps = condition["sequence"]
    ends = [event for event in events if matches(steps[0], event, start)]
    for step in steps[1:]:
        ends = [
            event
            for event in events
            if matches(step, event, start)
            and any(_follows(event, previous, gap) for previous in ends)
        ]
    return min((event.ts for event in ends), default=None)


def _follows(
    event: OracleEvent, previous: OracleEvent, gap: dt.timedelta | None
) -> bool:
    if previous.ts >= event.ts:
        return False
    return gap is None or event.ts - previous.ts <= gap


def where_holds(where: Mapping[str, Any], properties: Mapping[str, Any]) -> bool:
    """Evaluate a ``where`` table on one event's properties."""
    for key, value in where.items():
        if key == "any":
            passes = any(where_holds(child, properties) for child in value)
        elif key == "all":
            passes = all(where_holds(child, properties) for child in value)
        elif isinstance(value, dict):
            passes = all(
                compare(properties.get(key), op, arg) for op, arg in value.items()
            )
        elif isinstance(value, list):
            passes = compare(properties.get(key), "in", value)
        else:
            passes = compare(properties.get(key), "eq", value)
        if not passes:
            return False
    return True


def compare(actual: Any, op: str, expected: Any) -> bool:
    """Apply one operator; ``actual`` None is a missing value."""
    if op == "is_set":
        return (actual is not None) == expected
    if actual is None:
        return op in ("ne", "not_in")
    if op == "eq":
        return actual == expected
    if op == "ne":
        return actual != expected
    if op == "in":
        return actual in expected
    if op == "not_in":
        return actual not in expected
    if op == "gt":
        return actual > expected
    if op == "ge":
        return actual >= expected
    if op == "lt":
        return actual < expected
    if op == "le":
        return actual <= expected
    if op == "contains":
        return str(expected) in str(actual)
    raise ValueError(f"unknown operator {op!r}")


def days_between(later: dt.datetime, earlier: dt.datetime) -> float:
    """Return the difference in days, from whole seconds divided by 86400."""
    return (later - earlier).total_seconds() / 86400


def outcome(
    reached: dt.datetime | None,
    churn: dt.datetime | None,
    start: dt.datetime,
    end: dt.datetime,
) -> Outcome:
    """Combine a milestone time with the churn time, reached winning a tie."""
    if reached is not None and (churn is None or reached <= churn):
        return Outcome(STATUS_REACHED, reached, days_between(reached, start))
    if churn is not None:
        return Outcome(STATUS_CHURNED, None, days_between(churn, start))
    return Outcome(STATUS_CENSORED, None, days_between(end, start))

"""Milestone conditions as frozen dataclasses, parsed from jalon.toml tables.

A condition is one of four shapes (see ``docs/DESIGN.md``, "Conditions"):

* :class:`EventCondition`: matching events, optionally the Nth one, K distinct
  values, D active days or U distinct users, optionally within a window;
* :class:`AllOf` and :class:`AnyOf`: combinations of other conditions;
* :class:`Sequence`: event steps in order, each at most ``gap`` after the last.

Property filters (``where``) are :class:`Compare`, :class:`AllFilter` and
:class:`AnyFilter` trees. Parsing raises :class:`jalon.errors.ConfigError`
naming the key path, the value and what is allowed.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from jalon.errors import N_, ConfigError

TIERS = ("basic", "exceed", "full_adoption")
COMPARE_OPS = ("eq", "ne", "in", "not_in", "gt", "ge", "lt", "le", "contains", "is_set")
EVENT_KEYS = ("event", "where", "count", "within", "distinct", "active_days", "users")
COMBINATION_KEYS = ("all_of", "any_of", "sequence", "gap")
CONDITION_KEYS = EVENT_KEYS + COMBINATION_KEYS
SECONDS_PER_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
DURATION_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
IDENTIFIER_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

Scalar = str | int | float | bool


@dataclass(frozen=True)
class Compare:
    """``property <op> value``; ``value`` is a tuple for ``in`` and ``not_in``."""

    prop: str
    op: str
    value: Scalar | tuple[Scalar, ...]


@dataclass(frozen=True)
class AllFilter:
    filters: tuple[Filter, ...]


@dataclass(frozen=True)
class AnyFilter:
    filters: tuple[Filter, ...]


Filter = Compare | AllFilter | AnyFilter


@dataclass(frozen=True)
class EventCondition:
    """Matching events and how many of them (or of what) are needed.

    ``events`` is None for "any event". ``count`` is N for the Nth matching
    event, or K with ``distinct`` (K distinct values of a property or of the
    event name). ``within`` is a window in seconds after the start.
    """

    events: tuple[str, ...] | None = None
    where: Filter | None = None
    count: int = 1
    distinct: str | None = None
    active_days: int | None = None
    users: int | None = None
    within: float | None = None

    @property
    def is_first_occurrence(self) -> bool:
        return (
            self.count == 1
            and self.distinct is None
            and self.active_days is None
            and self.users is None
        )


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Sequence:
    """Steps in ``(ts, _seq)`` order, each at most ``gap`` seconds after the last."""

    steps: tuple[EventCondition, ...]
    gap: float | None = None
    within: float | None = None


Condition = EventCondition | AllOf | AnyOf | Sequence


@dataclass(frozen=True)
class MilestoneSpec:
    """A declared milestone: identity, tier, the start it is measured from."""

    id: str
    name: str
    tier: str
    condition: Condition
    start: str | None = None
    raw: tuple[tuple[str, Any], ...] = ()

    @property
    def raw_dict(self) -> dict[str, Any]:
        return dict(self.raw)


def config_error(code: str, template: str, path: str, value: Any, **extra: Any):
    """Build a :class:`ConfigError` carrying the key path and the value."""
    return ConfigError(code, template, path=path, value=_show(value), **extra)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_keys(table: dict, allowed: tuple[str, ...], path: str) -> None:
    """Reject keys of ``table`` not in ``allowed``, suggesting close spellings."""
    for key in table:
        if key in allowed:
            continue
        close = difflib.get_close_matches(key, allowed, n=1)
        suggestion = close[0] if close else ""
        raise config_error(
            "config.unknown_key",
            N_(
                "Unknown key {path} (value {value}). "
                "Did you mean {suggestion}? Allowed keys: {allowed}."
            )
            if suggestion
            else N_("Unknown key {path} (value {value}). Allowed keys: {allowed}."),
            f"{path}.{key}" if path else key,
            table[key],
            suggestion=suggestion,
            allowed=", ".join(allowed),
        )


def check_choice(value: Any, allowed: tuple[str, ...], path: str) -> str:
    """Return ``value`` when it is one of ``allowed``; else raise with a close spelling."""
    if isinstance(value, str) and value in allowed:
        return value
    close = difflib.get_close_matches(str(value), allowed, n=1)
    raise config_error(
        "config.bad_choice",
        N_("Invalid value at {path}: {value}. Allowed values: {allowed}.{hint}"),
        path,
        value,
        allowed=", ".join(allowed),
        hint=f" ({close[0]}?)" if close else "",
    )


def check_bool(value: Any, path: str) -> bool:
    """Return ``value`` when it is true or false; else raise with its key path."""
    if not isinstance(value, bool):
        raise config_error(
            "config.bad_bool",
            N_("Invalid value at {path}: {value}. Expected true or false."),
            path,
            value,
        )
    return value


def parse_duration(value: Any, path: str) -> float:
    """Return a duration in seconds from ``"90m"``, ``"36h"``, ``"7d"``, ``"2w"``
    or a number of days.

    >>> parse_duration("36h", "within")
    129600.0
    >>> parse_duration(2, "within")
    172800.0
    """
    if isinstance(value, bool):
        raise _bad_duration(value, path)
    if isinstance(value, (int, float)):
        if value < 0:
            raise _bad_duration(value, path)
        return float(value) * SECONDS_PER_UNIT["d"]
    if isinstance(value, str):
        match = DURATION_PATTERN.match(value)
        if match:
            return float(match.group(1)) * SECONDS_PER_UNIT[match.group(2)]
    raise _bad_duration(value, path)


def _bad_duration(value: Any, path: str) -> ConfigError:
    return config_error(
        "config.bad_duration",
        N_(
            "Invalid duration at {path}: {value}. Write a number of days or a "
            'text such as "90m", "36h", "7d" or "2w".'
        ),
        path,
        value,
    )


def positive_int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise config_error(
            "config.not_positive_int",
            N_("Invalid value at {path}: {value}. Expected a whole number of 1 or more."),
            path,
            value,
        )
    return value


def parse_where(raw: Any, path: str) -> Filter:
    """Parse a ``where`` table into a filter tree."""
    if not isinstance(raw, dict) or not raw:
        raise config_error(
            "config.bad_where",
            N_(
                "Invalid filter at {path}: {value}. Expected a table such as "
                '{{ plan = "pro" }} or {{ score = {{ gt = 0 }} }}.'
            ),
            path,
            raw,
        )
    parts: list[Filter] = []
    for key, value in raw.items():
        key_path = f"{path}.{key}"
        if key in ("any", "all"):
            parts.append(_parse_filter_list(key, value, key_path))
        elif isinstance(value, dict):
            parts.extend(_parse_comparisons(key, value, key_path))
        else:
            parts.append(Compare(key, "in" if isinstance(value, list) else "eq", _scalar_or_tuple(value, key_path)))
    return parts[0] if len(parts) == 1 else AllFilter(tuple(parts))


def _parse_filter_list(kind: str, value: Any, path: str) -> Filter:
    if not isinstance(value, list) or not value:
        raise config_error(
            "config.bad_filter_list",
            N_("Invalid value at {path}: {value}. Expected a list of filters."),
            path,
            value,
        )
    children = tuple(parse_where(item, f"{path}[{index}]") for index, item in enumerate(value))
    return AnyFilter(children) if kind == "any" else AllFilter(children)


def _parse_comparisons(prop: str, table: dict, path: str) -> list[Compare]:
    check_keys(table, COMPARE_OPS, path)
    comparisons = []
    for op, value in table.items():
        op_path = f"{path}.{op}"
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value:
                raise config_error(
                    "config.bad_filter_value",
                    N_("Invalid value at {path}: {value}. Expected a non-empty list."),
                    op_path,
                    value,
                )
            comparisons.append(Compare(prop, op, _scalar_or_tuple(value, op_path)))
        elif op == "is_set":
            if not isinstance(value, bool):
                raise config_error(
                    "config.bad_filter_value",
                    N_("Invalid value at {path}: {value}. Expected true or false."),
                    op_path,
                    value,
                )
            comparisons.append(Compare(prop, op, value))
        elif op in ("gt", "ge", "lt", "le") and not _is_number(value):
            raise config_error(
                "config.bad_filter_value",
                N_("Invalid value at {path}: {value}. Expected a number."),
                op_path,
                value,
            )
        else:
            comparisons.append(Compare(prop, op, _scalar_or_tuple(value, op_path)))
    return comparisons


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _scalar_or_tuple(value: Any, path: str) -> Scalar | tuple[Scalar, ...]:
    if isinstance(value, list):
        return tuple(_scalar_or_tuple(item, f"{path}[{index}]") for index, item in enumerate(value))
    if isinstance(value, (str, int, float, bool)):
        return value
    raise config_error(
        "config.bad_filter_value",
        N_("Invalid value at {path}: {value}. Expected text, a number or true/false."),
        path,
        value,
    )


def parse_condition(raw: Any, path: str, allow_extra: tuple[str, ...] = ()) -> Condition:
    """Parse a condition table; ``allow_extra`` keys are skipped (milestone keys)."""
    if not isinstance(raw, dict):
        raise config_error(
            "config.bad_condition",
            N_("Invalid condition at {path}: {value}. Expected a table."),
            path,
            raw,
        )
    check_keys(raw, CONDITION_KEYS + allow_extra, path)
    table = {key: value for key, value in raw.items() if key not in allow_extra}
    shapes = [key for key in ("all_of", "any_of", "sequence") if key in table]
    if len(shapes) > 1 or (shapes and _has_event_keys(table, shapes[0])):
        raise config_error(
            "config.mixed_condition",
            N_(
                "Condition at {path} mixes {keys}. Use one of event, all_of, "
                "any_of or sequence per table, and nest the others."
            ),
            path,
            sorted(table),
            keys=", ".join(sorted(table)),
        )
    if "gap" in table and "sequence" not in table:
        raise config_error(
            "config.gap_without_sequence",
            N_("{path}.gap is only allowed with a sequence (value {value})."),
            path,
            table["gap"],
        )
    if shapes:
        return _parse_combination(shapes[0], table, path)
    return _parse_event_condition(table, path)


def _has_event_keys(table: dict, shape: str) -> bool:
    allowed = {shape, "within"} | ({"gap"} if shape == "sequence" else set())
    return any(key not in allowed for key in table)


def _parse_combination(shape: str, table: dict, path: str) -> Condition:
    items = table[shape]
    shape_path = f"{path}.{shape}"
    if not isinstance(items, list) or len(items) < (2 if shape == "sequence" else 1):
        raise config_error(
            "config.bad_condition_list",
            N_("Invalid value at {path}: {value}. Expected a list of conditions."),
            shape_path,
            items,
        )
    if shape == "sequence":
        steps = []
        for index, item in enumerate(items):
            step = parse_condition(item, f"{shape_path}[{index}]")
            if not isinstance(step, EventCondition) or not step.is_first_occurrence or step.within:
                raise config_error(
                    "config.bad_sequence_step",
                    N_(
                        "Invalid sequence step at {path}: {value}. A step takes only "
                        "event and where."
                    ),
                    f"{shape_path}[{index}]",
                    item,
                )
            steps.append(step)
        gap = parse_duration(table["gap"], f"{path}.gap") if "gap" in table else None
        within = parse_duration(table["within"], f"{path}.within") if "within" in table else None
        return Sequence(tuple(steps), gap=gap, within=within)
    children = tuple(parse_condition(item, f"{shape_path}[{index}]") for index, item in enumerate(items))
    if "within" in table:
        within = parse_duration(table["within"], f"{path}.within")
        children = tuple(_with_window(child, within) for child in children)
    return AllOf(children) if shape == "all_of" else AnyOf(children)


def _with_window(condition: Condition, within: float) -> Condition:
    """Apply an outer window to a condition whose own window is absent or wider."""
    if isinstance(condition, (EventCondition, Sequence)):
        own = condition.within
        tighter = within if own is None else min(own, within)
        return _replace(condition, within=tighter)
    children = tuple(_with_window(child, within) for child in condition.conditions)
    return type(condition)(children)


def _replace(condition, **changes):
    from dataclasses import replace

    return replace(condition, **changes)


def _parse_event_condition(table: dict, path: str) -> EventCondition:
    events = _parse_events(table.get("event"), f"{path}.event")
    where = parse_where(table["where"], f"{path}.where") if "where" in table else None
    count = positive_int(table["count"], f"{path}.count") if "count" in table else 1
    distinct = table.get("distinct")
    if distinct is not None and (not isinstance(distinct, str) or not distinct):
        raise config_error(
            "config.bad_distinct",
            N_(
                'Invalid value at {path}: {value}. Expected "event" or a property name.'
            ),
            f"{path}.distinct",
            distinct,
        )
    active_days = positive_int(table["active_days"], f"{path}.active_days") if "active_days" in table else None
    users = positive_int(table["users"], f"{path}.users") if "users" in table else None
    within = parse_duration(table["within"], f"{path}.within") if "within" in table else None
    if distinct is not None and active_days is not None:
        raise config_error(
            "config.mixed_condition",
            N_("Condition at {path} mixes {keys}. Use distinct or active_days, not both."),
            path,
            sorted(table),
            keys="distinct, active_days",
        )
    if active_days is not None and "count" in table:
        raise config_error(
            "config.mixed_condition",
            N_("Condition at {path} mixes {keys}. Use count or active_days, not both."),
            path,
            sorted(table),
            keys="count, active_days",
        )
    if events is None and where is None and distinct is None and active_days is None:
        raise config_error(
            "config.empty_condition",
            N_(
                "Condition at {path} matches every event ({value}). Set event, "
                "where, distinct or active_days."
            ),
            path,
            table,
        )
    return EventCondition(events, where, count, distinct, active_days, users, within)


def _parse_events(value: Any, path: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise config_error(
        "config.bad_event",
        N_("Invalid value at {path}: {value}. Expected an event name or a list of names."),
        path,
        value,
    )


MILESTONE_KEYS = ("id", "name", "tier", "start")


def parse_milestone(raw: Any, path: str, starts: tuple[str, ...]) -> MilestoneSpec:
    """Parse one ``[[milestones]]`` table; ``starts`` are the named starts."""
    if not isinstance(raw, dict):
        raise config_error(
            "config.bad_milestone",
            N_("Invalid milestone at {path}: {value}. Expected a table."),
            path,
            raw,
        )
    identifier = raw.get("id")
    if not isinstance(identifier, str) or not IDENTIFIER_PATTERN.match(identifier):
        raise config_error(
            "config.bad_identifier",
            N_(
                "Invalid value at {path}: {value}. Expected an identifier of lower-case "
                "letters, digits and underscores, starting with a letter."
            ),
            f"{path}.id",
            identifier,
        )
    tier = check_choice(raw.get("tier", "basic"), TIERS, f"{path}.tier")
    start = raw.get("start")
    if start is not None and start not in starts:
        raise config_error(
            "config.unknown_start",
            N_(
                "Unknown start at {path}: {value}. Declare it under [starts.<name>]; "
                "declared starts: {allowed}."
            ),
            f"{path}.start",
            start,
            allowed=", ".join(starts) or "-",
        )
    name = raw.get("name", identifier)
    if not isinstance(name, str):
        raise config_error(
            "config.bad_text",
            N_("Invalid value at {path}: {value}. Expected text."),
            f"{path}.name",
            name,
        )
    condition = parse_condition(raw, path, allow_extra=MILESTONE_KEYS)
    return MilestoneSpec(identifier, name, tier, condition, start, tuple(raw.items()))


def referenced_events(condition: Condition) -> set[str]:
    """Return every event name a condition mentions."""
    if isinstance(condition, EventCondition):
        return set(condition.events or ())
    children = condition.steps if isinstance(condition, Sequence) else condition.conditions
    return set().union(*(referenced_events(child) for child in children))


def referenced_properties(condition: Condition) -> set[str]:
    """Return every property name a condition filters or counts on."""
    if isinstance(condition, EventCondition):
        names = _filter_properties(condition.where) if condition.where else set()
        if condition.distinct and condition.distinct != "event":
            names.add(condition.distinct)
        return names
    children = condition.steps if isinstance(condition, Sequence) else condition.conditions
    return set().union(*(referenced_properties(child) for child in children))


def uses_users(condition: Condition) -> bool:
    """Return whether a condition counts distinct users (``users = U``)."""
    if isinstance(condition, EventCondition):
        return condition.users is not None
    if isinstance(condition, Sequence):
        return False
    return any(uses_users(child) for child in condition.conditions)


def _filter_properties(where: Filter) -> set[str]:
    if isinstance(where, Compare):
        return {where.prop}
    return set().union(*(_filter_properties(child) for child in where.filters))

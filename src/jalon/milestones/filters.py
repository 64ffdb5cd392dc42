"""Compile event names and property filters to Ibis boolean expressions.

Missing property values never satisfy ``eq``, ``in``, ``gt``, ``ge``, ``lt``,
``le`` or ``contains``; they satisfy ``ne`` and ``not_in``; ``is_set = false``
matches them. An empty string counts as missing for ``is_set``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

from jalon.errors import N_, AnalysisError
from jalon.milestones.spec import AllFilter, AnyFilter, Compare, Filter

__all__ = ["event_predicate", "filter_predicate", "property_column"]


def event_predicate(
    events: ir.Table,
    event: str | list[str] | tuple[str, ...] | None,
    where: Filter | dict | None,
    properties: Mapping[str, str],
) -> ir.BooleanValue:
    """Return the predicate "event is one of ``event`` and ``where`` holds".

    Parameters
    ----------
    events
        Events table with an ``event`` column and property columns.
    event
        An event name, several, or None for any event.
    where
        A parsed filter, a raw ``where`` table, or None.
    properties
        Maps the property names used in config to their columns.
    """
    predicate = ibis.literal(True)
    if event is not None:
        names = [event] if isinstance(event, str) else list(event)
        predicate = events.event.isin(names) if len(names) > 1 else events.event == names[0]
    if where is not None:
        if isinstance(where, dict):
            from jalon.milestones.spec import parse_where

            where = parse_where(where, "where")
        predicate = predicate & filter_predicate(events, where, properties)
    return predicate


def filter_predicate(
    events: ir.Table, where: Filter, properties: Mapping[str, str]
) -> ir.BooleanValue:
    """Return the predicate of a filter tree on ``events``."""
    if isinstance(where, AllFilter):
        parts = [filter_predicate(events, child, properties) for child in where.filters]
        return ibis.and_(*parts)
    if isinstance(where, AnyFilter):
        parts = [filter_predicate(events, child, properties) for child in where.filters]
        return ibis.or_(*parts)
    return _compare(events, where, properties)


def property_column(events: ir.Table, name: str, properties: Mapping[str, str]) -> ir.Column:
    """Return the column holding property ``name``, or raise with suggestions."""
    column = properties.get(name)
    if column is None or column not in events.columns:
        close = difflib.get_close_matches(name, list(properties), n=3)
        raise AnalysisError(
            "analysis.unknown_property",
            N_(
                "Unknown property {name}: no loaded event carries it. Did you mean "
                "{suggestions}? Known properties: {known}."
            )
            if close
            else N_("Unknown property {name}: no loaded event carries it. Known properties: {known}."),
            name=name,
            suggestions=", ".join(close),
            known=", ".join(sorted(properties)[:30]) or "-",
        )
    return events[column]


def _compare(events: ir.Table, compare: Compare, properties: Mapping[str, str]) -> ir.BooleanValue:
    column = property_column(events, compare.prop, properties)
    op, value = compare.op, compare.value
    if op == "is_set":
        present = column.notnull()
        if column.type().is_string():
            present = present & (column != "")
        return present if value else ~present
    if op == "contains":
        return column.cast("string").contains(str(value)).fill_null(False)
    if op in ("gt", "ge", "lt", "le"):
        numeric = column if column.type().is_numeric() else column.cast("string").try_cast("float64")
        result = {
            "gt": numeric > value,
            "ge": numeric >= value,
            "lt": numeric < value,
            "le": numeric <= value,
        }[op]
        return result.fill_null(False)
    values = value if isinstance(value, tuple) else (value,)
    matched = _matches_any(column, values)
    if op in ("eq", "in"):
        return matched.fill_null(False)
    return (~matched).fill_null(True)


def _matches_any(column: ir.Column, values: tuple) -> ir.BooleanValue:
    """Compare ``column`` to literal ``values``, converting across types."""
    dtype = column.type()
    if dtype.is_boolean():
        flags = [_as_bool(v) for v in values]
        return column.isin([f for f in flags if f is not None])
    numbers = [_as_number(v) for v in values]
    if dtype.is_numeric() and all(n is not None for n in numbers):
        return column.isin(numbers)
    texts = [_as_text(v) for v in values]
    return column.cast("string").isin(texts)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_number(value: object) -> float | int | None:
    """Return ``value`` as a number, reading numeric text such as ``"5"``."""
    if _is_number(value):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _as_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if _is_number(value) and value in (0, 1):
        return bool(value)
    return None


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)

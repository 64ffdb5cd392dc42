"""Compile milestone conditions to Ibis tables of "when was it reached".

Every function here takes the *usable* events (``ts`` at or after the
account's start and at or before the observation end, with the start columns
joined on) and returns a table keyed by ``keys`` (``account_id``, or
``account_id`` and ``user_id``) with one column ``at``: the time the
condition was first satisfied. Keys that never satisfy it have no row.

Only portable Ibis operations are used (min/max aggregates, ``row_number``
and running ``max`` over explicit frames, unions, joins) so that the same
expressions run on DuckDB and PySpark.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence as SequenceType

import ibis
import ibis.expr.types as ir

from jalon.milestones.filters import event_predicate, property_column
from jalon.milestones.spec import AllOf, AnyOf, Condition, EventCondition, Sequence
from jalon.store.engine import elapsed_microseconds, kth_smallest

SECONDS_PER_DAY = 86400
MICROSECONDS_PER_DAY = SECONDS_PER_DAY * 1_000_000
ACCOUNT_KEYS = ("account_id",)
USER_KEYS = ("account_id", "user_id")


def compile_condition(
    events: ir.Table,
    condition: Condition,
    start_column: str,
    properties: Mapping[str, str],
    keys: SequenceType[str] = ACCOUNT_KEYS,
) -> ir.Table:
    """Return ``keys`` + ``at`` for the first time ``condition`` holds.

    Parameters
    ----------
    events
        Usable events with ``start_column`` holding each row's clock start.
    condition
        A parsed condition.
    start_column
        Column of ``events`` that windows and active days are measured from.
    properties
        Maps property names used in config to their columns.
    keys
        Grain of evaluation; ``users = U`` conditions evaluate their inner
        condition per user and take the Uth user.
    """
    keys = list(keys)
    if isinstance(condition, EventCondition):
        if condition.users is not None and "user_id" not in keys:
            return _per_user(events, condition, start_column, properties, keys)
        return _event_condition(events, condition, start_column, properties, keys)
    if isinstance(condition, Sequence):
        return _sequence(events, condition, start_column, properties, keys)
    parts = [
        compile_condition(events, child, start_column, properties, keys)
        for child in condition.conditions
    ]
    if isinstance(condition, AnyOf):
        union = ibis.union(*parts, distinct=False)
        return union.group_by(keys).aggregate(at=union.at.min())
    tagged = [part.mutate(_part=ibis.literal(index)) for index, part in enumerate(parts)]
    union = ibis.union(*tagged, distinct=False)
    grouped = union.group_by(keys).aggregate(at=union.at.max(), _parts=union._part.nunique())
    assert isinstance(condition, AllOf)
    return grouped.filter(grouped._parts == len(parts)).select(*keys, "at")


def matching_events(
    events: ir.Table,
    condition: EventCondition,
    start_column: str,
    properties: Mapping[str, str],
) -> ir.Table:
    """Return the events that match ``condition``'s event, filter and window."""
    predicate = event_predicate(events, condition.events, condition.where, properties)
    if condition.within is not None:
        limit = events[start_column] + ibis.interval(seconds=int(condition.within))
        predicate = predicate & (events.ts <= limit)
    return events.filter(predicate)


def _event_condition(
    events: ir.Table,
    condition: EventCondition,
    start_column: str,
    properties: Mapping[str, str],
    keys: list[str],
) -> ir.Table:
    matched = matching_events(events, condition, start_column, properties)
    if "user_id" in keys:
        matched = matched.filter(matched.user_id.notnull())
    if condition.distinct is not None or condition.active_days is not None:
        return _kth_distinct(matched, condition, start_column, properties, keys)
    if condition.count == 1:
        return matched.group_by(keys).aggregate(at=matched.ts.min())
    return kth_smallest(matched.select(*keys, "ts", "_seq"), keys, "ts", "_seq", condition.count)


def _kth_distinct(
    matched: ir.Table,
    condition: EventCondition,
    start_column: str,
    properties: Mapping[str, str],
    keys: list[str],
) -> ir.Table:
    """Time at which the Kth distinct value (or active day) first appears."""
    if condition.active_days is not None:
        elapsed = elapsed_microseconds(matched.ts, matched[start_column])
        value = (elapsed // MICROSECONDS_PER_DAY).cast("int64")
        needed = condition.active_days
    else:
        value = (
            matched.event
            if condition.distinct == "event"
            else property_column(matched, condition.distinct, properties)
        )
        needed = condition.count
    with_value = matched.mutate(_value=value).filter(lambda t: t._value.notnull())
    firsts = with_value.group_by([*keys, "_value"]).aggregate(at=with_value.ts.min())
    return kth_smallest(firsts, keys, "at", "_value", needed)


def _per_user(
    events: ir.Table,
    condition: EventCondition,
    start_column: str,
    properties: Mapping[str, str],
    keys: list[str],
) -> ir.Table:
    """At least U distinct users of the account satisfy the inner condition."""
    from dataclasses import replace

    inner = replace(condition, users=None)
    per_user = _event_condition(events, inner, start_column, properties, [*keys, "user_id"])
    return kth_smallest(per_user, keys, "at", "user_id", condition.users)


def _sequence(
    events: ir.Table,
    condition: Sequence,
    start_column: str,
    properties: Mapping[str, str],
    keys: list[str],
) -> ir.Table:
    """Earliest completion of the steps in order, each within ``gap`` of the last.

    For each occurrence of step k, the best predecessor is the latest valid
    occurrence of step k-1 at a strictly earlier time: it leaves the smallest
    gap. A running max over the union of both steps finds it without a
    self-join. At equal times the candidates sort before the predecessors,
    so an event never follows one logged at the same instant (or itself),
    whatever the order of rows in the files.
    """
    valid = None
    for step in condition.steps:
        step = step if condition.within is None else _windowed(step, condition.within)
        rows = matching_events(events, step, start_column, properties)
        if "user_id" in keys:
            rows = rows.filter(rows.user_id.notnull())
        rows = rows.select(*keys, "ts", "_seq")
        if valid is None:
            valid = rows
            continue
        previous = valid.mutate(_tag=ibis.literal(1), _prev=valid.ts)
        current = rows.mutate(_tag=ibis.literal(0), _prev=ibis.null().cast(rows.ts.type()))
        union = ibis.union(previous, current, distinct=False)
        window = ibis.window(
            group_by=keys, order_by=[union.ts, union._tag, union._seq], rows=(None, 0)
        )
        marked = union.mutate(_last=union._prev.max().over(window))
        ok = (marked._tag == 0) & marked._last.notnull()
        if condition.gap is not None:
            ok = ok & (marked.ts <= marked._last + ibis.interval(seconds=int(condition.gap)))
        valid = marked.filter(ok).select(*keys, "ts", "_seq")
    assert valid is not None
    return valid.group_by(keys).aggregate(at=valid.ts.min())


def _windowed(step: EventCondition, within: float) -> EventCondition:
    from dataclasses import replace

    return replace(step, within=within if step.within is None else min(step.within, within))

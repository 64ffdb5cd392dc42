"""Build the per-account table: start, churn and every milestone, one row each.

The table's columns are listed in ``docs/DESIGN.md`` ("Per-account table").
Rules, in one place:

* Accounts come from the accounts table when the default start is one of its
  columns, otherwise from the accounts that have events (plus the accounts
  table, when there is one). An account without a start, or whose start is
  after the observation end, is excluded and counted.
* Events before an account's start or after the observation end are not
  used, and counted.
* A milestone reached after churn counts as "churned before reaching"
  (status 2); reached at the same instant as churn, it counts as reached.
* Durations are differences of epoch seconds, in days.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

import ibis
import ibis.expr.types as ir

from jalon.config import ChurnSpec, Config, StartSpec
from jalon.errors import N_, AnalysisError
from jalon.milestones.compile import SECONDS_PER_DAY, compile_condition
from jalon.milestones.filters import event_predicate
from jalon.milestones.spec import Condition, EventCondition
from jalon.store.engine import elapsed_days, elapsed_seconds

UNKNOWN_SEGMENT = "(unknown)"
_NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]")
STATUS_CENSORED, STATUS_REACHED, STATUS_CHURNED = 0, 1, 2


@dataclass(frozen=True)
class AccountTable:
    """The per-account expression and the expressions that count exclusions.

    ``table`` has one row per included account. ``account_exclusions`` and
    ``event_exclusions`` evaluate to one row of counts each, one column per
    reason code; ``event_exclusions`` also counts the events ``used``.
    """

    table: ir.Table
    account_exclusions: ir.Table
    event_exclusions: ir.Table
    events_used: ir.Table
    end: dt.datetime
    segments: tuple[str, ...]
    milestone_ids: tuple[str, ...]


def start_column_name(name: str | None) -> str:
    """Column of the usable events holding a named start (None: the default)."""
    return "start_at" if name is None else f"start__{name}"


def observation_end(config: Config, events: ir.Table, execute) -> dt.datetime:
    """Return the configured observation end, or else the latest event timestamp."""
    if config.observation_end is not None:
        return config.observation_end
    latest = execute(events.ts.max())
    if latest is None or str(latest) == "NaT":
        raise AnalysisError(
            "analysis.no_events",
            N_("The store holds no events. Run jalon load, or check events.paths in {file}."),
            file=str(config.path),
        )
    return _to_datetime(latest)


def _to_datetime(value) -> dt.datetime:
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def build_account_table(
    config: Config,
    events: ir.Table,
    accounts: ir.Table | None,
    properties: Mapping[str, str],
    end: dt.datetime,
) -> AccountTable:
    """Return the per-account table and exclusion counts as Ibis expressions."""
    if accounts is None and config.accounts is not None:
        raise AnalysisError(
            "analysis.no_accounts",
            N_(
                "The store holds no accounts table, but {file} reads one ({path}). "
                "Run jalon load, or check accounts.path."
            ),
            file=str(config.path),
            path=config.accounts.path,
        )
    end_literal = ibis.literal(end, type="timestamp")
    anchors = _anchors(config, events, accounts, properties)
    included = anchors.filter(anchors.start_at.notnull() & (anchors.start_at <= end_literal))

    start_columns = [c for c in included.columns if c == "start_at" or c.startswith("start__")]
    joined = events.inner_join(included.select("account_id", *start_columns), "account_id")
    usable = joined.filter((joined.ts >= joined.start_at) & (joined.ts <= end_literal))

    targets = [(m.id, m.condition, start_column_name(m.start)) for m in config.milestones]
    if config.churn is not None and config.churn.condition is not None:
        targets.append((CHURN_TARGET, config.churn.condition, "start_at"))
    table = included.mutate(end_at=end_literal)
    table = _reached_columns(table, targets, events, joined, properties, end_literal)
    table = _with_churn(table, config.churn, events, accounts, end_literal)
    computed = {}
    for milestone in config.milestones:
        computed.update(_milestone_columns(table, milestone.id, start_column_name(milestone.start)))
    computed.update(_churn_columns(table))
    base_columns = [c for c in table.columns if not c.startswith(("_m_", "start__"))]
    table = table.select(*base_columns, **computed)
    return AccountTable(
        table=table,
        account_exclusions=_account_exclusions(anchors, end_literal),
        event_exclusions=_event_exclusions(events, anchors, end_literal),
        events_used=usable,
        end=end,
        segments=config.segments,
        milestone_ids=tuple(m.id for m in config.milestones),
    )


#: Name under which a churn condition is evaluated beside the milestones.
CHURN_TARGET = "_churn"


def _reached_columns(
    table: ir.Table,
    targets: list[tuple[str, Condition, str]],
    events: ir.Table,
    joined: ir.Table,
    properties: Mapping[str, str],
    end_literal,
) -> ir.Table:
    """Add ``_m_<id>``: when each target condition was first reached, or null.

    Most accounts have no matching event before their start. For them, the
    first (or Nth) matching event of the whole log is the first (or Nth)
    usable one. So first and Nth occurrences are computed on the events
    alone, without joining each event to its account's start. One pass of
    conditional minimums reads the rows whose event name matches, and the
    engine pushes that filter down to the scan. Accounts that do have a matching event
    before their start are computed again from their usable events. Other
    conditions (distinct values, active days, users, combinations) are
    always computed from the usable events.
    """
    fast = [t for t in targets if _is_occurrence(t[1])]
    if fast:
        predicates = {
            name: event_predicate(events, condition.events, condition.where, properties)
            for name, condition, _ in fast
        }
        matching = events.filter(ibis.or_(*predicates.values()))
        firsts = matching.group_by("account_id").aggregate(
            **{f"_f_{name}": matching.ts.min(where=predicates[name]) for name, _, _ in fast}
        )
        table = table.left_join(firsts, "account_id").drop("account_id_right")
        for name, condition, _ in fast:
            if condition.count > 1:
                # The window is checked afterwards, against each account's start.
                unwindowed = replace(condition, within=None)
                kth = compile_condition(
                    events.filter(events.ts <= end_literal), unwindowed, "ts", properties
                ).rename(**{f"_k_{name}": "at"})
                table = table.left_join(kth, "account_id").drop("account_id_right")
        early = ibis.or_(*[table[f"_f_{name}"] < table[start] for name, _, start in fast])
        redo = table.filter(early).select("account_id", *[c for c in table.columns if c.startswith("start")])
        redone = _reached_from_starts(events, redo, fast, properties, end_literal)
        table = table.left_join(redone, "account_id").drop("account_id_right")
        table = table.mutate(
            **{
                f"_m_{name}": _fast_reached(table, name, condition, start, end_literal)
                for name, condition, start in fast
            }
        )
        table = table.drop(*[c for c in table.columns if c[:3] in ("_f_", "_k_", "_r_")])
    usable: dict[str, ir.Table] = {}
    for name, condition, start in targets:
        if _is_occurrence(condition):
            continue
        if start not in usable:
            usable[start] = _usable_from(joined, start, end_literal)
        reached = compile_condition(usable[start], condition, start, properties)
        reached = reached.rename(**{f"_m_{name}": "at"})
        table = table.left_join(reached, "account_id").drop("account_id_right")
    return table


def _is_occurrence(condition) -> bool:
    """Tell whether ``condition`` is a first or Nth occurrence of matching events."""
    return (
        isinstance(condition, EventCondition)
        and condition.distinct is None
        and condition.active_days is None
        and condition.users is None
    )


def _reached_from_starts(
    events: ir.Table,
    redo: ir.Table,
    targets: list[tuple[str, EventCondition, str]],
    properties: Mapping[str, str],
    end_literal,
) -> ir.Table:
    """``_r_<id>`` per target for the ``redo`` accounts, from their usable events."""
    joined = events.inner_join(redo, "account_id")
    rows = joined.filter(joined.ts <= end_literal)
    aggregates = {}
    result = redo.select("account_id")
    for name, condition, start in targets:
        if condition.count == 1:
            predicate = event_predicate(rows, condition.events, condition.where, properties)
            predicate = predicate & (rows.ts >= rows[start])
            if condition.within is not None:
                predicate = predicate & (rows.ts <= _window_end(rows[start], condition))
            aggregates[f"_r_{name}"] = rows.ts.min(where=predicate)
            continue
        usable = _usable_from(joined, start, end_literal)
        reached = compile_condition(usable, condition, start, properties)
        result = result.left_join(reached.rename(**{f"_r_{name}": "at"}), "account_id")
        result = result.drop("account_id_right")
    if aggregates:
        firsts = rows.group_by("account_id").aggregate(**aggregates)
        result = result.left_join(firsts, "account_id").drop("account_id_right")
    return result


def _fast_reached(table: ir.Table, name: str, condition: EventCondition, start: str, end_literal):
    """Return when an occurrence target was reached, from the fast pass or its redo."""
    first, begin = table[f"_f_{name}"], table[start]
    at = first if condition.count == 1 else table[f"_k_{name}"]
    in_time = begin.notnull() & (at <= end_literal)
    if condition.within is not None:
        in_time = in_time & (at <= _window_end(begin, condition))
    clean = ibis.ifelse(in_time, at, ibis.null().cast("timestamp"))
    return ibis.ifelse(first < begin, table[f"_r_{name}"], clean)


def _window_end(start: ir.TimestampValue, condition: EventCondition) -> ir.TimestampValue:
    return start + ibis.interval(seconds=int(condition.within))


def _usable_from(joined: ir.Table, start_name: str, end_literal) -> ir.Table:
    start = joined[start_name]
    return joined.filter(start.notnull() & (joined.ts >= start) & (joined.ts <= end_literal))


def _anchors(
    config: Config, events: ir.Table, accounts: ir.Table | None, properties: Mapping[str, str]
) -> ir.Table:
    """Return one row per candidate account: ``start_at``, named starts, segments.

    Account ids are unique in the stored accounts table, so its columns are
    read in one projection rather than joined one by one.
    """
    clocks = [(start_column_name(name), spec) for name, spec in [(None, config.start), *config.starts.items()]]
    listed = None
    if accounts is not None:
        columns = {}
        for column, spec in clocks:
            if spec.column is not None:
                path = "start.column" if column == "start_at" else f"starts.{column[7:]}.column"
                columns[column] = _as_timestamp(accounts[_account_column(accounts, spec.column, path)])
        for segment in config.segments:
            name = _account_column(accounts, segment, "accounts.columns.segments")
            columns[segment] = accounts[name].cast("string")
        listed = accounts.select("account_id", **columns)
    if listed is not None and config.start.column is not None:
        anchors = listed
    else:
        anchors = _account_universe(events, accounts)
        if listed is not None:
            anchors = anchors.left_join(listed, "account_id").drop("account_id_right")
    for column, spec in clocks:
        if spec.column is None:
            starts = _start_times(spec, events, properties).rename(**{column: "at"})
            anchors = anchors.left_join(starts, "account_id").drop("account_id_right")
    for segment in config.segments:
        anchors = anchors.mutate(**{segment: anchors[segment].fill_null(UNKNOWN_SEGMENT)})
    return anchors.select("account_id", *[column for column, _ in clocks], *config.segments)


def _account_universe(events: ir.Table, accounts: ir.Table | None) -> ir.Table:
    """Accounts that have events, and those of the accounts table."""
    from_events = events.select("account_id").distinct()
    if accounts is None:
        return from_events
    return ibis.union(from_events, accounts.select("account_id"), distinct=True)


def _start_times(spec: StartSpec, events: ir.Table, properties: Mapping[str, str]) -> ir.Table:
    """First event matching an event-based start, per account."""
    assert spec.condition is not None
    predicate = event_predicate(events, spec.condition.events, spec.condition.where, properties)
    return events.filter(predicate).group_by("account_id").aggregate(at=events.ts.min())


def date_column_problems(config: Config, accounts: ir.Table | None) -> list[tuple[str, str, ir.Table]]:
    """Return, per accounts date column the config reads, its unreadable values.

    Each item is ``(key path, column, expr)`` where ``expr`` lists the
    accounts whose value is set but is not a date, at most one row. Such a
    value would otherwise turn into a missing start or churn date.
    """
    if accounts is None:
        return []
    references = [("start.column", config.start.column)]
    references += [(f"starts.{name}.column", spec.column) for name, spec in config.starts.items()]
    if config.churn is not None:
        references += [("churn.column", config.churn.column)]
        references += [("churn.last_seen_column", config.churn.last_seen_column)]
    problems = []
    for path, name in references:
        if name is None:
            continue
        column = accounts[_account_column(accounts, name, path)]
        if column.type().is_timestamp() or column.type().is_date():
            continue
        text = column.cast("string")
        bad = text.notnull() & (text.strip() != "") & _as_timestamp(column).isnull()
        rows = accounts.filter(bad).select("account_id", value=text).limit(1)
        problems.append((path, name, rows))
    return problems


def _as_timestamp(column: ir.Column) -> ir.TimestampColumn:
    dtype = column.type()
    if dtype.is_timestamp():
        return column.cast("timestamp")
    if dtype.is_date():
        return column.cast("timestamp")
    return column.cast("string").try_cast("timestamp")


def _account_column(accounts: ir.Table, name: str, path: str) -> str:
    """Return the accounts column for a column name written in config.

    The store lower-cases accounts columns and replaces other characters
    with ``_`` (``Signup At`` is ``signup_at``), so both spellings are found.
    """
    if name in accounts.columns:
        return name
    stored = _NON_ALPHANUMERIC.sub("_", name.lower())
    if stored in accounts.columns:
        return stored
    import difflib

    close = difflib.get_close_matches(name, accounts.columns, n=3)
    raise AnalysisError(
        "analysis.unknown_account_column",
        N_(
            "Column {column} (from {path}) is not in the accounts table. Columns: "
            "{known}.{hint}"
        ),
        column=name,
        path=path,
        known=", ".join(accounts.columns),
        hint=f" ({', '.join(close)}?)" if close else "",
    )


def _with_churn(
    table: ir.Table,
    churn: ChurnSpec | None,
    events: ir.Table,
    accounts: ir.Table | None,
    end_literal,
) -> ir.Table:
    """Add ``churn_at``: null when the account has not churned by the end."""
    if churn is None:
        return table.mutate(churn_at=ibis.null().cast("timestamp"))
    if churn.condition is not None:
        return table.rename(churn_at=f"_m_{CHURN_TARGET}")
    if churn.inactivity_days is not None:
        return _inactivity_churn(table, churn, events, accounts, end_literal)
    return _column_churn(table, _accounts_value(table, accounts, churn.column, "churn.column"), end_literal)


def _inactivity_churn(
    table: ir.Table, churn: ChurnSpec, events: ir.Table, accounts: ir.Table | None, end_literal
) -> ir.Table:
    """Churned at the last activity when nothing followed for N days by the end."""
    # The last event replaces a missing last-seen value, and the start is used
    # for an account without events. When the latest event up to the end is
    # not before the start, it is the latest usable event, so no join is needed.
    seen = events.filter(events.ts <= end_literal)
    latest_event = seen.group_by("account_id").aggregate(_last_event=seen.ts.max())
    table = table.left_join(latest_event, "account_id").drop("account_id_right")
    table = table.mutate(
        _last_event=ibis.ifelse(
            table._last_event >= table.start_at, table._last_event, ibis.null().cast("timestamp")
        )
    )
    last = table._last_event
    if churn.last_seen_column is not None:
        seen = _accounts_value(table, accounts, churn.last_seen_column, "churn.last_seen_column")
        table = table.left_join(seen.rename(_seen="value"), "account_id").drop("account_id_right")
        last = table._seen.fill_null(table._last_event)
    table = table.mutate(_last=last).drop("_last_event", *(["_seen"] if churn.last_seen_column else []))
    last_activity = ibis.greatest(table._last.fill_null(table.start_at), table.start_at)
    idle_seconds = elapsed_seconds(end_literal, last_activity)
    churned = idle_seconds >= int(churn.inactivity_days * SECONDS_PER_DAY)
    churn_at = ibis.ifelse(churned & (last_activity <= end_literal), last_activity, ibis.null())
    return table.mutate(churn_at=churn_at.cast("timestamp")).drop("_last")


def _column_churn(table: ir.Table, cancel: ir.Table, end_literal) -> ir.Table:
    """Churned at a cancellation date on or before the observation end."""
    table = table.left_join(cancel.rename(_cancel="value"), "account_id").drop("account_id_right")
    at = ibis.greatest(table._cancel, table.start_at)
    churn_at = ibis.ifelse(table._cancel.notnull() & (at <= end_literal), at, ibis.null())
    return table.mutate(churn_at=churn_at.cast("timestamp")).drop("_cancel")


def _accounts_value(table, accounts: ir.Table | None, column: str, path: str) -> ir.Table:
    """``account_id`` and the accounts column ``column`` as a timestamp ``value``."""
    assert accounts is not None
    name = _account_column(accounts, column, path)
    return accounts.select("account_id", value=_as_timestamp(accounts[name]))


def _days_between(later, earlier) -> ir.FloatingValue:
    return ibis.greatest(elapsed_days(later, earlier), 0.0)


def _milestone_columns(table: ir.Table, identifier: str, start_name: str) -> dict[str, ir.Value]:
    """Return the four ``m_<id>_*`` columns of a milestone, from its ``_m_<id>`` time."""
    raw = table[f"_m_{identifier}"]
    start = table[start_name]
    churn = table.churn_at
    has_start = start.notnull() & (start <= table.end_at)
    reached = raw.notnull() & (churn.isnull() | (raw <= churn))
    churned = churn.notnull() & ~reached
    status = ibis.cases(
        (~has_start, ibis.null().cast("int64")),
        (reached, STATUS_REACHED),
        (churned, STATUS_CHURNED),
        else_=STATUS_CENSORED,
    ).cast("int64")
    until = ibis.cases((reached, raw), (churned, churn), else_=table.end_at)
    days = ibis.ifelse(has_start, _days_between(until, start), ibis.null().cast("float64"))
    return {
        f"m_{identifier}_start_at": start,
        f"m_{identifier}_at": ibis.ifelse(reached, raw, ibis.null().cast("timestamp")),
        f"m_{identifier}_days": days,
        f"m_{identifier}_status": status,
    }


def _churn_columns(table: ir.Table) -> dict[str, ir.Value]:
    churned = table.churn_at.notnull()
    until = ibis.ifelse(churned, table.churn_at, table.end_at)
    return {
        "churn_days": _days_between(until, table.start_at),
        "churn_status": churned.cast("int64"),
    }


def _account_exclusions(anchors: ir.Table, end_literal) -> ir.Table:
    no_start = anchors.start_at.isnull()
    late = anchors.start_at.notnull() & (anchors.start_at > end_literal)
    return anchors.aggregate(
        no_start=no_start.cast("int64").sum().fill_null(0),
        start_after_end=late.cast("int64").sum().fill_null(0),
    )


def _event_exclusions(events: ir.Table, anchors: ir.Table, end_literal) -> ir.Table:
    """Count excluded events by reason, and the events used, in one row.

    Events are first counted per account, so the join with the accounts'
    starts is made on accounts, not on events. Only the accounts that have
    events before their start are joined back to their events.
    """
    per_account = events.group_by("account_id").aggregate(
        _n=events.count(),
        _after_end=(events.ts > end_literal).cast("int64").sum(),
        _first=events.ts.min(),
    )
    starts = anchors.select("account_id", _start=anchors.start_at, _known=ibis.literal(True))
    joined = per_account.left_join(starts, "account_id").drop("account_id_right")
    unknown = joined._known.isnull()
    no_start = ~unknown & joined._start.isnull()
    late_start = ~unknown & joined._start.notnull() & (joined._start > end_literal)
    counted = ~unknown & joined._start.notnull() & ~late_start

    def total(condition, value=None):
        value = joined._n if value is None else value
        return ibis.ifelse(condition, value, 0).sum().fill_null(0)

    counts = joined.aggregate(
        not_in_accounts=total(unknown),
        no_start=total(no_start),
        start_after_end=total(late_start),
        after_end=total(counted, joined._after_end),
        _counted=total(counted),
    )
    early = joined.filter(counted & (joined._first < joined._start)).select("account_id", "_start")
    rows = events.inner_join(early, "account_id")
    rows = rows.filter(rows.ts < rows._start)
    before = rows.aggregate(before_start=rows.count())
    counts = counts.cross_join(before)
    used = counts._counted - counts.before_start - counts.after_end
    return counts.select(
        "not_in_accounts", "no_start", "start_after_end", "before_start", "after_end",
        used=used,
    )

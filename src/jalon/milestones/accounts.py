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
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from jalon.config import ChurnSpec, Config, StartSpec
from jalon.errors import N_, AnalysisError
from jalon.milestones.compile import SECONDS_PER_DAY, compile_condition
from jalon.milestones.filters import event_predicate
from jalon.milestones.spec import EventCondition, MilestoneSpec
from jalon.store.engine import elapsed_days, elapsed_seconds

UNKNOWN_SEGMENT = "(unknown)"
_NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]")
STATUS_CENSORED, STATUS_REACHED, STATUS_CHURNED = 0, 1, 2


@dataclass(frozen=True)
class AccountTable:
    """The per-account expression and the expressions that count exclusions.

    ``table`` has one row per included account. ``account_exclusions`` and
    ``event_exclusions`` evaluate to one row of counts each, one column per
    reason code.
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

    table = included.mutate(end_at=end_literal)
    table = _with_churn(table, config.churn, usable, accounts, properties, end_literal)
    simple = [m for m in config.milestones if _is_first_occurrence(m.condition)]
    if simple:
        firsts = _first_occurrences(joined.filter(joined.ts <= end_literal), simple, properties)
        table = table.left_join(firsts, "account_id").drop("account_id_right")
    for milestone in config.milestones:
        start_name = start_column_name(milestone.start)
        if milestone not in simple:
            rows = usable if milestone.start is None else _usable_from(joined, start_name, end_literal)
            reached = compile_condition(rows, milestone.condition, start_name, properties)
            reached = reached.rename(**{f"_m_{milestone.id}": "at"})
            table = table.left_join(reached, "account_id").drop("account_id_right")
        table = _milestone_columns(table, milestone.id, start_name)
    table = _churn_columns(table).drop(*[c for c in start_columns if c != "start_at"])
    return AccountTable(
        table=table.order_by("account_id"),
        account_exclusions=_account_exclusions(anchors, end_literal),
        event_exclusions=_event_exclusions(events, anchors, end_literal),
        events_used=usable,
        end=end,
        segments=config.segments,
        milestone_ids=tuple(m.id for m in config.milestones),
    )


def _is_first_occurrence(condition) -> bool:
    return isinstance(condition, EventCondition) and condition.is_first_occurrence


def _first_occurrences(
    rows: ir.Table, milestones: list[MilestoneSpec], properties: Mapping[str, str]
) -> ir.Table:
    """First-occurrence milestones in one conditional-aggregate pass over the events."""
    aggregates = {}
    for milestone in milestones:
        condition = milestone.condition
        start = rows[start_column_name(milestone.start)]
        predicate = event_predicate(rows, condition.events, condition.where, properties)
        predicate = predicate & (rows.ts >= start)
        if condition.within is not None:
            predicate = predicate & (rows.ts <= start + ibis.interval(seconds=int(condition.within)))
        aggregates[f"_m_{milestone.id}"] = rows.ts.min(where=predicate)
    return rows.group_by("account_id").aggregate(**aggregates)


def _usable_from(joined: ir.Table, start_name: str, end_literal) -> ir.Table:
    start = joined[start_name]
    return joined.filter(start.notnull() & (joined.ts >= start) & (joined.ts <= end_literal))


def _anchors(
    config: Config, events: ir.Table, accounts: ir.Table | None, properties: Mapping[str, str]
) -> ir.Table:
    """Return one row per candidate account: ``start_at``, named starts, segments."""
    universe = _account_universe(config, events, accounts)
    anchors = universe
    for name, spec in [(None, config.start), *config.starts.items()]:
        column = start_column_name(name)
        starts = _start_times(spec, events, accounts, properties).rename(**{column: "at"})
        anchors = anchors.left_join(starts, "account_id").drop("account_id_right")
    for segment in config.segments:
        assert accounts is not None
        values = accounts.select(
            "account_id",
            **{segment: accounts[_account_column(accounts, segment, "accounts.columns.segments")].cast("string")},
        )
        anchors = anchors.left_join(values, "account_id").drop("account_id_right")
        anchors = anchors.mutate(**{segment: anchors[segment].fill_null(UNKNOWN_SEGMENT)})
    return anchors


def _account_universe(config: Config, events: ir.Table, accounts: ir.Table | None) -> ir.Table:
    from_events = events.select("account_id").distinct()
    if accounts is None:
        return from_events
    listed = accounts.select("account_id").distinct()
    if config.start.column is not None:
        return listed
    return ibis.union(from_events, listed, distinct=True)


def _start_times(
    spec: StartSpec, events: ir.Table, accounts: ir.Table | None, properties: Mapping[str, str]
) -> ir.Table:
    if spec.column is not None:
        assert accounts is not None
        column = accounts[_account_column(accounts, spec.column, "start.column")]
        return accounts.select("account_id", at=_as_timestamp(column)).filter(
            lambda t: t.at.notnull()
        )
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
    usable: ir.Table,
    accounts: ir.Table | None,
    properties: Mapping[str, str],
    end_literal,
) -> ir.Table:
    """Add ``churn_at``: null when the account has not churned by the end."""
    if churn is None:
        return table.mutate(churn_at=ibis.null().cast("timestamp"))
    if churn.condition is not None:
        times = compile_condition(usable, churn.condition, "start_at", properties)
        times = times.rename(churn_at="at")
        return table.left_join(times, "account_id").drop("account_id_right")
    if churn.inactivity_days is not None:
        return _inactivity_churn(table, churn, usable, accounts, end_literal)
    return _column_churn(table, _accounts_value(table, accounts, churn.column, "churn.column"), end_literal)


def _inactivity_churn(
    table: ir.Table, churn: ChurnSpec, usable: ir.Table, accounts: ir.Table | None, end_literal
) -> ir.Table:
    """Churned at the last activity when nothing followed for N days by the end."""
    # The last event replaces a missing last-seen value, and the start is used
    # for an account without events.
    latest_event = usable.group_by("account_id").aggregate(_last_event=usable.ts.max())
    table = table.left_join(latest_event, "account_id").drop("account_id_right")
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


def _milestone_columns(table: ir.Table, identifier: str, start_name: str) -> ir.Table:
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
    return table.mutate(
        **{
            f"m_{identifier}_start_at": start,
            f"m_{identifier}_at": ibis.ifelse(reached, raw, ibis.null().cast("timestamp")),
            f"m_{identifier}_days": days,
            f"m_{identifier}_status": status,
        }
    ).drop(f"_m_{identifier}")


def _churn_columns(table: ir.Table) -> ir.Table:
    churned = table.churn_at.notnull()
    until = ibis.ifelse(churned, table.churn_at, table.end_at)
    return table.mutate(
        churn_days=_days_between(until, table.start_at),
        churn_status=churned.cast("int64"),
    )


def _account_exclusions(anchors: ir.Table, end_literal) -> ir.Table:
    no_start = anchors.start_at.isnull()
    late = anchors.start_at.notnull() & (anchors.start_at > end_literal)
    return anchors.aggregate(
        no_start=no_start.cast("int64").sum().fill_null(0),
        start_after_end=late.cast("int64").sum().fill_null(0),
    )


def _event_exclusions(events: ir.Table, anchors: ir.Table, end_literal) -> ir.Table:
    starts = anchors.select("account_id", _start=anchors.start_at)
    joined = events.left_join(starts, "account_id")
    unknown = joined.account_id_right.isnull()
    no_start = ~unknown & joined._start.isnull()
    late_start = ~unknown & joined._start.notnull() & (joined._start > end_literal)
    counted = ~unknown & joined._start.notnull() & ~late_start
    before = counted & (joined.ts < joined._start)
    after = counted & (joined.ts > end_literal)
    return joined.aggregate(
        not_in_accounts=unknown.cast("int64").sum().fill_null(0),
        no_start=no_start.cast("int64").sum().fill_null(0),
        start_after_end=late_start.cast("int64").sum().fill_null(0),
        before_start=before.cast("int64").sum().fill_null(0),
        after_end=after.cast("int64").sum().fill_null(0),
    )

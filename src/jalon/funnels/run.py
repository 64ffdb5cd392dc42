"""Run one funnel: prepare events, build per-person paths, compute step tables.

Event-level work stays in the engine; one row per person comes back to
pandas, where the step tables and Kaplan-Meier times are computed.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Mapping, Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd

from jalon.errors import N_, AnalysisError, FewAtRiskWarning
from jalon.funnels.paths import (
    Predicate,
    flag_events,
    person_keys,
    person_paths,
    step_column,
)
from jalon.funnels.result import (
    CAVEAT_EXCLUDED,
    CAVEAT_FEW_AT_RISK,
    CAVEAT_PERCENTILE_NOT_REACHED,
    CAVEAT_STILL_IN_WINDOW,
    FunnelResult,
)
from jalon.funnels.spec import FunnelSpec, StepSpec
from jalon.funnels.stats import OVERALL, STEP_COLUMNS, order_step_times, step_table
from jalon.milestones.filters import event_predicate

logger = logging.getLogger(__name__)

REASON = "_reason"


def compute_funnel(
    events: ir.Table,
    spec: FunnelSpec,
    *,
    accounts: ir.Table | None = None,
    segments: Sequence[str] = (),
    properties: Mapping[str, str] | None = None,
    observation_end: dt.datetime | None = None,
    predicate: Predicate | None = None,
) -> FunnelResult:
    """Compute the steps, times and friction points of ``spec`` on ``events``.

    Parameters
    ----------
    events
        The store's events table (``account_id``, ``user_id``, ``event``,
        ``ts``, ``_seq``, ``p_*``).
    spec
        The funnel, from :func:`jalon.funnels.parse_funnel`.
    accounts
        The per-account table. When given, events of accounts it does not list
        and events before the account's ``start_at`` are left out and counted,
        and ``segments`` are read from it. Required for
        ``start_anchor = "account_start"``.
    segments
        Segment columns of ``accounts`` to break the steps down by.
    properties
        Maps config property names to ``p_*`` columns, for ``where`` filters.
    observation_end
        Naive UTC timestamp. Default: the latest ``end_at`` of ``accounts``,
        else the latest event.
    predicate
        Builds a step's boolean expression; default: the milestones' event
        predicate.

    Returns
    -------
    FunnelResult
    """
    if spec.start_anchor == "account_start" and accounts is None:
        raise AnalysisError(
            "funnels.missing_accounts",
            N_(
                "Funnel {funnel} measures its window from the account start, "
                "which needs the per-account table. Configure [start] or set "
                'start_anchor = "first_step".'
            ),
            funnel=spec.id,
        )
    if segments and accounts is None:
        raise ValueError("segments are columns of the per-account table: pass accounts")
    predicate = predicate or _default_predicate(properties or {})
    end = naive_utc(observation_end or _default_end(events, accounts))
    flagged = flag_events(events, spec, predicate)
    flagged = _attach_accounts(flagged, accounts)
    flagged = flagged.mutate(
        **{REASON: _exclusion_reason(flagged, spec, accounts, end)}
    )
    excluded_events = _count_reasons(flagged, spec)
    included = flagged.filter(flagged[REASON].isnull())
    if spec.order == "strict":
        keys = person_keys(spec)
        order = ibis.window(group_by=keys, order_by=[included.ts, included._seq])
        included = included.mutate(_lag_seq=included._seq.lag().over(order))

    paths = person_paths(included, spec, end)
    if segments:
        labels = accounts.select("account_id", *segments)
        paths = paths.join(labels, "account_id")
    persons = paths.to_pandas()
    logger.info("funnel %s: %d persons did the first step", spec.id, len(persons))
    return _build_result(persons, spec, end, segments, excluded_events)


def _default_predicate(properties: Mapping[str, str]) -> Predicate:
    def predicate(events: ir.Table, step: StepSpec) -> ir.BooleanValue:
        return event_predicate(events, step.event, step.where, properties)

    return predicate


def naive_utc(moment: dt.datetime) -> dt.datetime:
    """Return ``moment`` as a naive UTC datetime, the form of the store's timestamps."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _default_end(events: ir.Table, accounts: ir.Table | None) -> dt.datetime:
    if accounts is not None:
        value = accounts.end_at.max().to_pandas()
    else:
        value = events.ts.max().to_pandas()
    return pd.Timestamp(value).to_pydatetime()


def _attach_accounts(flagged: ir.Table, accounts: ir.Table | None) -> ir.Table:
    if accounts is None:
        return flagged
    starts = accounts.select(
        _acct_id=accounts.account_id,
        _acct_start_ts=accounts.start_at,
        _acct_start=accounts.start_at.epoch_seconds().cast("float64"),
    )
    joined = flagged.left_join(starts, flagged.account_id == starts._acct_id)
    return joined


def _exclusion_reason(
    flagged: ir.Table, spec: FunnelSpec, accounts: ir.Table | None, end: dt.datetime
) -> ir.StringValue:
    branches = []
    if spec.level == "user":
        branches.append((flagged.user_id.isnull(), "missing_user_id"))
    if accounts is not None:
        branches.append((flagged._acct_id.isnull(), "not_in_accounts"))
        branches.append((flagged.ts < flagged._acct_start_ts, "before_start"))
    branches.append((flagged.ts > ibis.literal(end, "timestamp"), "after_end"))
    return ibis.cases(*branches, else_=ibis.null("string"))


def _count_reasons(flagged: ir.Table, spec: FunnelSpec) -> dict[str, int]:
    """Count left-out events that match a step or an exclusion, by reason."""
    relevant = flagged._x
    for index in range(1, len(spec.steps) + 1):
        relevant = relevant | flagged[step_column(index)]
    left_out = flagged.filter(relevant, flagged[REASON].notnull())
    counts = left_out.group_by(REASON).aggregate(rows=left_out.count()).to_pandas()
    result = {
        str(row[REASON]): int(row["rows"])
        for _, row in counts.sort_values(REASON).iterrows()
    }
    for reason, rows in result.items():
        logger.warning("funnel %s: %d step events left out (%s)", spec.id, rows, reason)
    return result


def _build_result(
    persons: pd.DataFrame,
    spec: FunnelSpec,
    end: dt.datetime,
    segments: Sequence[str],
    excluded_events: dict[str, int],
) -> FunnelResult:
    names = [step.name for step in spec.steps]
    if spec.order == "any":
        persons = order_step_times(persons, len(names))
    n_excluded = int(persons.excluded.sum())
    included = persons[~persons.excluded.astype(bool)]
    end_epoch = (end - dt.datetime(1970, 1, 1)).total_seconds()

    steps = step_table(included, names, end_epoch, OVERALL, OVERALL)
    parts = []
    for segment in segments:
        for value, group in sorted(
            included.groupby(segment), key=lambda item: str(item[0])
        ):
            parts.append(step_table(group, names, end_epoch, segment, str(value)))
    by_segment = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=STEP_COLUMNS)
    )
    friction = _friction_table(_stack(steps, by_segment))
    return FunnelResult(
        funnel_id=spec.id,
        name=spec.name,
        order=spec.order,
        level=spec.level,
        start_anchor=spec.start_anchor,
        window_seconds=spec.window_seconds,
        observation_end=end,
        steps=steps[STEP_COLUMNS],
        by_segment=by_segment[STEP_COLUMNS],
        friction=friction,
        n_persons=len(included),
        excluded={"exclusion_event": n_excluded} if n_excluded else {},
        excluded_events=excluded_events,
        caveats=_caveats(steps, by_segment, n_excluded),
    )


def _stack(steps: pd.DataFrame, by_segment: pd.DataFrame) -> pd.DataFrame:
    if by_segment.empty:
        return steps
    return pd.concat([steps, by_segment], ignore_index=True)


def _friction_table(tables: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (segment, value), group in tables.groupby(
        ["segment", "segment_value"], sort=True
    ):
        drop = group[group.largest_drop_off].step
        slow = group[group.slowest].step
        rows.append(
            {
                "segment": segment,
                "segment_value": value,
                "largest_drop_off_step": int(drop.iloc[0]) if len(drop) else pd.NA,
                "slowest_step": int(slow.iloc[0]) if len(slow) else pd.NA,
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=["segment", "segment_value", "largest_drop_off_step", "slowest_step"],
    )
    for column in ("largest_drop_off_step", "slowest_step"):
        frame[column] = frame[column].astype("Int64")
    return frame


def _caveats(
    steps: pd.DataFrame, by_segment: pd.DataFrame, n_excluded: int
) -> tuple[str, ...]:
    caveats = []
    both = _stack(steps, by_segment)
    if both.n_still_in_window.sum() > 0:
        caveats.append(CAVEAT_STILL_IN_WINDOW)
    later = both[(both.step > 1) & (both.n_timed > 0)]
    if later.median_days.isna().any() or later.p90_days.isna().any():
        caveats.append(CAVEAT_PERCENTILE_NOT_REACHED)
    if both.few_at_risk.any():
        caveats.append(CAVEAT_FEW_AT_RISK)
        warnings.warn(FewAtRiskWarning(CAVEAT_FEW_AT_RISK), stacklevel=3)
    if n_excluded:
        caveats.append(CAVEAT_EXCLUDED)
    return tuple(caveats)

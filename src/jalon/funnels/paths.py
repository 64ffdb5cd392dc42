"""Per-person funnel paths built as Ibis expressions.

A *person* is an account (``level = "account"``) or a user of an account
(``level = "user"``, keyed by ``account_id`` and ``user_id``). For each person
:func:`person_paths` returns the furthest step reached, the time of each step
of the chosen attempt and the end of the latest conversion window. Only
window functions, joins and group-bys are used, so the same expression runs on
DuckDB and PySpark.

Ordering is always ``(ts, _seq)``; durations are differences of
``epoch_seconds()``, so they have a resolution of one second.

Ordered funnels (``order = "ordered"``)
    An attempt starts at any occurrence of step 1. Step k counts when it
    occurs strictly after step k-1 of the same attempt and at most ``window``
    after the attempt's step 1 (inclusive). Each step-k occurrence goes to
    the attempt with the latest start among those that reached step k-1
    before it. A later start leaves more of the window, so no other attempt
    can go further from that occurrence. That attempt is a running maximum
    over the union of the valid step k-1 rows and the step-k rows.

Strict funnels (``order = "strict"``)
    As ordered, but step k must be the very next event of the person after
    step k-1: any other event in between breaks the attempt.

Any order (``order = "any"``)
    An attempt starts at any occurrence of any step; it reaches k when k
    distinct steps occur from its start to at most ``window`` after it. An
    event that matches several steps counts for each of them.

Each person counts once, through the attempt that goes furthest; among
attempts that go equally far, the one that reaches that step first.
Step times are the earliest occurrence of each step within that attempt.

With ``start_anchor = "account_start"`` there is one attempt per account,
starting at the account's ``start_at``; step 1 must occur within the window
too. Events before the account's start are left out and counted as
``before_start``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import ibis
import ibis.expr.types as ir

from jalon.funnels.spec import FunnelSpec, StepSpec

logger = logging.getLogger(__name__)

EPOCH = "_ep"
START = "_start"
ATTEMPT = "_attempt"
KIND = "_kind"

Predicate = Callable[[ir.Table, StepSpec], ir.BooleanValue]


def person_keys(spec: FunnelSpec) -> list[str]:
    """Return the columns that identify a person at the funnel's level."""
    return ["account_id", "user_id"] if spec.level == "user" else ["account_id"]


def step_column(index: int) -> str:
    """Return the name of the flag or time column of step ``index`` (1-based)."""
    return f"_s{index}"


def time_column(index: int) -> str:
    """Return the name of the per-person epoch-seconds column of step ``index``."""
    return f"t{index}"


def flag_events(
    events: ir.Table,
    spec: FunnelSpec,
    predicate: Predicate,
) -> ir.Table:
    """Add a boolean column per step, ``_x`` for exclusions and ``_ep``.

    ``_ep`` is the event time in epoch seconds as float64.
    """
    columns = {
        step_column(index): predicate(events, step).fill_null(False)
        for index, step in enumerate(spec.steps, start=1)
    }
    exclusion = ibis.literal(False)
    for condition in spec.exclusions:
        exclusion = exclusion | predicate(events, condition).fill_null(False)
    columns["_x"] = exclusion
    columns[EPOCH] = events.ts.epoch_seconds().cast("float64")
    return events.mutate(**columns)


def person_paths(
    flagged: ir.Table,
    spec: FunnelSpec,
    observation_end: dt.datetime,
) -> ir.Table:
    """Return one row per person who did step 1 (any step for ``order = "any"``).

    Parameters
    ----------
    flagged
        Events from :func:`flag_events`, already restricted to the observation
        (and, for ``account_start``, carrying ``_acct_start`` epoch seconds).
    spec
        The funnel.
    observation_end
        Naive UTC timestamp; a window that ends after it is still open.

    Returns
    -------
    ibis.Table
        One row per person with these columns:

        * person keys and ``furthest`` (int64);
        * ``t1`` ... ``tn``: epoch seconds of the chosen attempt's steps, null
          beyond ``furthest``. For ``any``, ``tk`` is when the funnel's step
          k was done, so the columns are not in time order;
        * ``window_end``: epoch seconds of the latest attempt's window end,
          and ``open``, true when it is after the observation end;
        * ``first_ts``, ``first_seq``, ``last_ts``, ``last_seq``, ``last_ep``:
          bounds of the chosen attempt (``last_ts`` and ``last_seq`` are null
          for ``any``);
        * ``excluded``: true when an exclusion event lies strictly between
          the bounds.
    """
    keys = person_keys(spec)
    if spec.order == "any":
        paths = _any_order_paths(flagged, spec, keys)
    else:
        reached = _ordered_reached(flagged, spec, keys)
        paths = _chosen_attempt(reached, spec, keys)
        paths = paths.join(_window_ends(flagged, spec, keys), keys)
    end_epoch = _epoch_literal(observation_end)
    paths = paths.mutate(open=paths.window_end > end_epoch)
    return _mark_exclusions(paths, flagged, keys)


def _ordered_reached(flagged: ir.Table, spec: FunnelSpec, keys: list[str]) -> ir.Table:
    """Return every valid step row: keys, ``_step``, ts, _seq, _ep, attempt."""
    columns = [*keys, "ts", "_seq", EPOCH]
    valid = _first_step_rows(flagged, spec, keys).select(*columns, ATTEMPT, START)
    reached = [valid.mutate(_step=ibis.literal(1, "int64"))]
    for index in range(2, len(spec.steps) + 1):
        if spec.order == "strict":
            valid = _next_strict(flagged, valid, index, keys, spec.window_seconds)
        else:
            valid = _next_ordered(flagged, valid, index, keys, spec.window_seconds)
        reached.append(valid.mutate(_step=ibis.literal(index, "int64")))
    return ibis.union(*reached)


def _first_step_rows(flagged: ir.Table, spec: FunnelSpec, keys: list[str]) -> ir.Table:
    first = flagged.filter(flagged[step_column(1)])
    if spec.start_anchor == "account_start":
        # One attempt per account, started by the account itself.
        first = first.filter(first[EPOCH] - first._acct_start <= spec.window_seconds)
        return first.mutate(
            **{ATTEMPT: ibis.literal(0, "int64"), START: first._acct_start}
        )
    order = ibis.window(group_by=keys, order_by=[first.ts, first._seq])
    return first.mutate(
        **{ATTEMPT: ibis.row_number().over(order).cast("int64"), START: first[EPOCH]}
    )


def _next_ordered(
    flagged: ir.Table, previous: ir.Table, index: int, keys: list[str], window: float
) -> ir.Table:
    """Return the valid rows of step ``index`` given those of the step before."""
    columns = [*keys, "ts", "_seq", EPOCH]
    candidates = flagged.filter(flagged[step_column(index)]).select(
        *columns,
        **{
            ATTEMPT: ibis.null("int64"),
            START: ibis.null("float64"),
            KIND: ibis.literal(0, "int64"),
        },
    )
    done = previous.select(*columns, ATTEMPT, START, **{KIND: ibis.literal(1, "int64")})
    both = ibis.union(done, candidates)

    # A candidate sorts before a previous-step row of the same event, so the
    # running maximum covers only previous steps strictly earlier in (ts, _seq).
    running = ibis.window(
        group_by=keys, order_by=[both.ts, both._seq, both[KIND]], rows=(None, 0)
    )
    both = both.mutate(
        _best=both[ATTEMPT].max().over(running),
        _best_start=both[START].max().over(running),
    )
    valid = both.filter(
        both[KIND] == 0,
        both._best.notnull(),
        both[EPOCH] - both._best_start <= window,
    )
    return valid.select(*columns, **{ATTEMPT: valid._best, START: valid._best_start})


def _next_strict(
    flagged: ir.Table, previous: ir.Table, index: int, keys: list[str], window: float
) -> ir.Table:
    """Return rows of step ``index`` that directly follow a valid previous step."""
    candidates = flagged.filter(flagged[step_column(index)])
    before = previous.select(
        *keys,
        _prev_seq=previous._seq,
        _prev_attempt=previous[ATTEMPT],
        _prev_start=previous[START],
    )
    joined = candidates.join(
        before,
        [
            *(candidates[key] == before[key] for key in keys),
            candidates._lag_seq == before._prev_seq,
        ],
    )
    joined = joined.filter(joined[EPOCH] - joined._prev_start <= window)
    return joined.select(
        *keys,
        "ts",
        "_seq",
        EPOCH,
        **{ATTEMPT: joined._prev_attempt, START: joined._prev_start},
    )


def _chosen_attempt(reached: ir.Table, spec: FunnelSpec, keys: list[str]) -> ir.Table:
    """Pick each person's attempt that goes furthest and pivot its step times."""
    furthest = reached.group_by(keys).aggregate(furthest=reached._step.max())
    at_end = reached.join(furthest, keys)
    at_end = at_end.filter(at_end._step == at_end.furthest)
    first_done = ibis.window(group_by=keys, order_by=[at_end.ts, at_end._seq])
    at_end = at_end.mutate(_rank=ibis.row_number().over(first_done))
    chosen = at_end.filter(at_end._rank == 0).select(
        *keys,
        "furthest",
        _chosen=at_end[ATTEMPT],
        last_ts=at_end.ts,
        last_seq=at_end._seq,
        last_ep=at_end[EPOCH],
    )

    steps = reached.join(chosen, keys)
    steps = steps.filter(steps[ATTEMPT] == steps._chosen)
    earliest = ibis.window(
        group_by=[*keys, steps._step], order_by=[steps.ts, steps._seq]
    )
    steps = steps.mutate(_rank=ibis.row_number().over(earliest))
    steps = steps.filter(steps._rank == 0)
    times = {
        time_column(index): steps[EPOCH].max(where=steps._step == index)
        for index in range(1, len(spec.steps) + 1)
    }
    return steps.group_by(
        [*keys, "furthest", "last_ts", "last_seq", "last_ep"]
    ).aggregate(
        first_ts=steps.ts.max(where=steps._step == 1),
        first_seq=steps._seq.max(where=steps._step == 1),
        **times,
    )


def _window_ends(flagged: ir.Table, spec: FunnelSpec, keys: list[str]) -> ir.Table:
    first = flagged.filter(flagged[step_column(1)])
    if spec.start_anchor == "account_start":
        latest = first._acct_start.max()
    else:
        latest = first[EPOCH].max()
    return first.group_by(keys).aggregate(window_end=latest + spec.window_seconds)


def _any_order_paths(flagged: ir.Table, spec: FunnelSpec, keys: list[str]) -> ir.Table:
    """Count distinct steps within the window from each possible start."""
    count = len(spec.steps)
    flags = [flagged[step_column(index)] for index in range(1, count + 1)]
    any_step = flags[0]
    for flag in flags[1:]:
        any_step = any_step | flag
    rows = flagged.filter(any_step)
    if spec.start_anchor == "account_start":
        rows = rows.mutate(**{START: rows._acct_start})
    else:
        rows = rows.mutate(**{START: rows[EPOCH]})

    # Next occurrence of each step at or after this row, in (ts, _seq) order.
    ahead = ibis.window(group_by=keys, order_by=[rows.ts, rows._seq], rows=(0, None))
    rows = rows.mutate(
        **{
            f"_next{index}": ibis.ifelse(
                rows[step_column(index)], rows[EPOCH], ibis.null()
            )
            .min()
            .over(ahead)
            for index in range(1, count + 1)
        }
    )
    within = {
        time_column(index): ibis.ifelse(
            rows[f"_next{index}"] - rows[START] <= spec.window_seconds,
            rows[f"_next{index}"],
            ibis.null("float64"),
        )
        for index in range(1, count + 1)
    }
    rows = rows.mutate(**within)
    done = [
        rows[time_column(index)].notnull().cast("int64")
        for index in range(1, count + 1)
    ]
    total = done[0]
    for item in done[1:]:
        total = total + item
    rows = rows.mutate(furthest=total)
    if spec.start_anchor == "account_start":
        # One attempt per account: events before the start were filtered out,
        # so the first row's look-ahead covers every step in the window.
        rows = rows.filter(rows[EPOCH] - rows[START] <= spec.window_seconds)

    best = ibis.window(
        group_by=keys, order_by=[rows.furthest.desc(), rows.ts, rows._seq]
    )
    latest = ibis.window(group_by=keys)
    rows = rows.mutate(
        _rank=ibis.row_number().over(best),
        window_end=rows[START].max().over(latest) + spec.window_seconds,
        last_ep=ibis.greatest(*[rows[time_column(i)] for i in range(1, count + 1)]),
    )
    chosen = rows.filter(rows._rank == 0)
    return chosen.select(
        *keys,
        "furthest",
        *[time_column(index) for index in range(1, count + 1)],
        "window_end",
        first_ts=chosen.ts,
        first_seq=chosen._seq,
        last_ts=ibis.null("timestamp"),
        last_seq=ibis.null("int64"),
        last_ep=chosen.last_ep,
    )


def _mark_exclusions(paths: ir.Table, flagged: ir.Table, keys: list[str]) -> ir.Table:
    """Flag persons with an exclusion event strictly inside their chosen attempt."""
    exclusions = flagged.filter(flagged._x).select(
        *keys, _x_ts="ts", _x_seq="_seq", _x_ep=EPOCH
    )
    joined = paths.join(exclusions, keys)
    after_first = (joined._x_ts > joined.first_ts) | (
        (joined._x_ts == joined.first_ts) & (joined._x_seq > joined.first_seq)
    )
    # Any-order attempts know their last step only to the second (last_ep),
    # so an exclusion in that same second does not count.
    before_last = ibis.ifelse(
        joined.last_seq.notnull(),
        (joined._x_ts < joined.last_ts)
        | ((joined._x_ts == joined.last_ts) & (joined._x_seq < joined.last_seq)),
        joined._x_ep < joined.last_ep,
    )
    hits = joined.filter(after_first & before_last).select(*keys).distinct()
    hits = hits.mutate(excluded=ibis.literal(True))
    marked = paths.left_join(hits, keys)
    marked = marked.select(*paths.columns, excluded=marked.excluded.fill_null(False))
    return marked


def _epoch_literal(moment: dt.datetime) -> float:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return (moment - dt.datetime(1970, 1, 1)).total_seconds()

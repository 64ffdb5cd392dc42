"""Property-based cross-checks of the milestone engine against ``milestone_oracle``.

Hypothesis draws small event logs (1 to 6 accounts, 0 to 15 events each) whose
times come from a few instants around each account's start, so ties, window
edges and day boundaries are frequent, and random conditions of every shape.
The engine runs once per example on an in-memory DuckDB with two or three
milestones; the oracle evaluates each account in plain Python. Examples are
derandomized, so every run checks the same logs.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import ibis
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import milestone_oracle as oracle
from milestone_harness import BASE, Event, EngineResult, at, make_config, run_engine

HOUR = 3600
DAY = 24 * HOUR
# Event times in seconds from the account's start: every 12 h from -1 d to
# 8 d, plus one second around the 1, 1.5, 2 and 7-day edges.
OFFSETS_SECONDS = sorted(
    {k * 12 * HOUR for k in range(-2, 17)}
    | {DAY + 1, 36 * HOUR + 1, 2 * DAY + 1, 7 * DAY - 1, 7 * DAY + 1}
)
# Account starts in hours after BASE; 13 h puts day boundaries off midnight.
START_HOURS = (0, 6, 13)
EVENT_NAMES = ("view", "click", "buy", "share")
USERS = ("u1", "u2", "u1", "u2", None)
SCORES = (None, 0.0, 1.0, 2.5, 5.0)
PLANS = (None, "free", "pro", "team")
# "enterprise" never occurs; the substrings are for contains.
PLAN_LITERALS = ("free", "pro", "team", "enterprise")
PLAN_SUBSTRINGS = ("e", "r", "ro", "am")
SCORE_LITERALS = (0, 0.0, 1, 2.5, 3, 5.0)
DURATIONS = ("12h", "1d", "36h", "2d", "7d", 3)
ENDS = (None, "2024-03-04", "2024-03-06T12:00:00", "2024-03-10")
# Shrinking reruns the engine hundreds of times (over five minutes on one
# failure), so it is off unless MILESTONE_ORACLE_SHRINK is set.
PHASES = (
    tuple(Phase)
    if os.environ.get("MILESTONE_ORACLE_SHRINK")
    else (
        Phase.explicit,
        Phase.reuse,
        Phase.generate,
    )
)
# Each example compiles and runs the engine (0.3 s to 2 s, depending on the
# machine's load); MILESTONE_ORACLE_EXAMPLES raises the count for a long hunt.
EXAMPLES = int(os.environ.get("MILESTONE_ORACLE_EXAMPLES", "40"))
ORACLE_SETTINGS = settings(
    max_examples=EXAMPLES,
    phases=PHASES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Log:
    """A drawn event log: accounts with their starts, events, configured end.

    ``columns`` maps each account to its other accounts columns (``trial_at``,
    ``cancelled_at``, ``last_seen_at``).
    """

    starts: dict[str, dt.datetime]
    events: list[Event]
    end: str | None
    columns: dict[str, dict[str, dt.datetime | None]] = field(default_factory=dict)

    @property
    def accounts(self) -> dict[str, dict[str, Any]]:
        return {
            account: {"signup_at": start, **self.columns.get(account, {})}
            for account, start in self.starts.items()
        }


@st.composite
def event_logs(draw) -> Log:
    count = draw(st.integers(1, 6))
    starts: dict[str, dt.datetime] = {}
    events: list[Event] = []
    for index in range(count):
        account = f"a{index}"
        starts[account] = at(hours=draw(st.sampled_from(START_HOURS)))
        # The first account has at least one event so the default end exists.
        size = draw(st.integers(1 if index == 0 else 0, 15))
        for _ in range(size):
            offset = draw(st.sampled_from(OFFSETS_SECONDS))
            events.append(
                Event(
                    account,
                    draw(st.sampled_from(EVENT_NAMES)),
                    starts[account] + dt.timedelta(seconds=offset),
                    user=draw(st.sampled_from(USERS)),
                    score=draw(st.sampled_from(SCORES)),
                    plan=draw(st.sampled_from(PLANS)),
                )
            )
    # File order, hence _seq, is independent of time and of the account.
    order = draw(st.permutations(range(len(events))))
    return Log(starts, [events[k] for k in order], draw(st.sampled_from(ENDS)))


def _single_op(ops: Sequence[str], values: st.SearchStrategy) -> st.SearchStrategy:
    return st.builds(lambda op, value: {op: value}, st.sampled_from(ops), values)


def _value_lists(values: Sequence[Any]) -> st.SearchStrategy:
    return st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True)


PLAN_OPERATIONS = st.one_of(
    _single_op(("eq", "ne"), st.sampled_from(PLAN_LITERALS)),
    _single_op(("contains",), st.sampled_from(PLAN_SUBSTRINGS)),
    _single_op(("in", "not_in"), _value_lists(PLAN_LITERALS)),
    _single_op(("is_set",), st.booleans()),
)
SCORE_OPERATIONS = st.one_of(
    _single_op(("eq", "ne", "gt", "ge", "lt", "le"), st.sampled_from(SCORE_LITERALS)),
    _single_op(("in", "not_in"), _value_lists(SCORE_LITERALS)),
    _single_op(("is_set",), st.booleans()),
)
PLAN_TESTS = st.one_of(
    st.sampled_from(PLAN_LITERALS),
    _value_lists(PLAN_LITERALS),
    PLAN_OPERATIONS,
    st.builds(
        lambda first, second: {**first, **second}, PLAN_OPERATIONS, PLAN_OPERATIONS
    ),
)
SCORE_TESTS = st.one_of(
    st.sampled_from(SCORE_LITERALS),
    SCORE_OPERATIONS,
    st.builds(
        lambda first, second: {**first, **second}, SCORE_OPERATIONS, SCORE_OPERATIONS
    ),
)
WHERE_LEAVES = st.one_of(
    st.builds(lambda test: {"plan": test}, PLAN_TESTS),
    st.builds(lambda test: {"score": test}, SCORE_TESTS),
    st.builds(
        lambda plan, score: {"plan": plan, "score": score}, PLAN_TESTS, SCORE_TESTS
    ),
)
WHERES = st.recursive(
    WHERE_LEAVES,
    lambda inner: st.builds(
        lambda kind, items: {kind: items},
        st.sampled_from(("any", "all")),
        st.lists(inner, min_size=1, max_size=3),
    ),
    max_leaves=4,
)
EVENT_SELECTORS = st.one_of(
    st.sampled_from(EVENT_NAMES),
    st.lists(st.sampled_from(EVENT_NAMES), min_size=1, max_size=3, unique=True),
)


@st.composite
def event_conditions(draw) -> dict[str, Any]:
    condition: dict[str, Any] = {}
    if draw(st.integers(0, 3)) > 0:
        condition["event"] = draw(EVENT_SELECTORS)
    if draw(st.integers(0, 2)) == 0:
        condition["where"] = draw(WHERES)

    rule = draw(st.sampled_from(("first", "count", "distinct", "active_days")))
    if rule == "count":
        condition["count"] = draw(st.integers(2, 4))
    elif rule == "distinct":
        condition["distinct"] = draw(st.sampled_from(("event", "plan", "score")))
        condition["count"] = draw(st.integers(1, 3))
    elif rule == "active_days":
        condition["active_days"] = draw(st.integers(1, 4))
    # A condition needs event, where, distinct or active_days.
    if (
        rule in ("first", "count")
        and "where" not in condition
        and "event" not in condition
    ):
        condition["event"] = draw(EVENT_SELECTORS)

    if draw(st.booleans()):
        condition["within"] = draw(st.sampled_from(DURATIONS))
    if draw(st.integers(0, 3)) == 0:
        condition["users"] = draw(st.integers(1, 2))
    return condition


@st.composite
def sequence_steps(draw) -> dict[str, Any]:
    step: dict[str, Any] = {"event": draw(EVENT_SELECTORS)}
    if draw(st.integers(0, 2)) == 0:
        step["where"] = draw(WHERES)
    return step


@st.composite
def sequences(draw) -> dict[str, Any]:
    condition: dict[str, Any] = {
        "sequence": draw(st.lists(sequence_steps(), min_size=2, max_size=3))
    }
    if draw(st.integers(0, 3)) > 0:
        condition["gap"] = draw(st.sampled_from(DURATIONS))
    return condition


COMBINATIONS = st.recursive(
    st.one_of(event_conditions(), sequences()),
    lambda inner: st.builds(
        lambda kind, items: {kind: items},
        st.sampled_from(("all_of", "any_of")),
        st.lists(inner, min_size=1, max_size=3),
    ),
    max_leaves=4,
)
# A bare recursive strategy draws mostly combinations; listing event
# conditions twice keeps single conditions about half of the draws.
CONDITIONS = st.one_of(event_conditions(), event_conditions(), sequences(), COMBINATIONS)


def oracle_events(log: Log) -> dict[str, list[oracle.OracleEvent]]:
    """Convert the log to oracle events per account; ``_seq`` is the list position."""
    per_account: dict[str, list[oracle.OracleEvent]] = {
        account: [] for account in log.starts
    }
    for seq, event in enumerate(log.events, start=1):
        properties = {"score": event.score, "plan": event.plan}
        per_account[event.account].append(
            oracle.OracleEvent(event.ts, seq, event.event, event.user, properties)
        )
    return per_account


def oracle_end(log: Log) -> dt.datetime:
    """The configured end, or else the latest event of the log."""
    if log.end is None:
        return max(event.ts for event in log.events)
    return dt.datetime.fromisoformat(log.end)


def run_log(
    log: Log,
    milestones: list[dict[str, Any]],
    with_counts: bool = False,
    **options: Any,
) -> EngineResult:
    """Run the engine on an in-memory DuckDB, the fastest for many examples.

    ``options`` go to ``make_config``; ``with_accounts=False`` also leaves
    the accounts table out.
    """
    config = make_config(milestones, end=log.end, **options)
    accounts = log.accounts if options.get("with_accounts", True) else None
    con = ibis.duckdb.connect()
    try:
        return run_engine(con, config, log.events, accounts, with_counts)
    finally:
        con.disconnect()


def included_accounts(log: Log, end: dt.datetime) -> list[str]:
    return sorted(account for account, start in log.starts.items() if start <= end)


CHURN_RULES = st.builds(
    lambda name, where: {"event": name, **({"where": where} if where else {})},
    st.sampled_from(EVENT_NAMES),
    st.one_of(st.none(), WHERE_LEAVES),
)


ACCOUNT_TIME_COLUMNS = ("trial_at", "cancelled_at", "last_seen_at")
INACTIVITY_DAYS = (1, 2, 3.5, 7)
ANY_CHURN_RULE = st.one_of(
    CHURN_RULES,
    st.builds(lambda days: {"inactivity_days": days}, st.sampled_from(INACTIVITY_DAYS)),
    st.builds(
        lambda days: {"inactivity_days": days, "last_seen_column": "last_seen_at"},
        st.sampled_from(INACTIVITY_DAYS),
    ),
    st.just({"column": "cancelled_at"}),
)


@st.composite
def logs_with_account_columns(draw) -> Log:
    """Draw a log whose accounts also have a trial, a cancellation and a last-seen time."""
    log = draw(event_logs())
    columns = {}
    for account, start in log.starts.items():
        columns[account] = {}
        for name in ACCOUNT_TIME_COLUMNS:
            offset = draw(st.one_of(st.none(), st.sampled_from(OFFSETS_SECONDS)))
            moment = None if offset is None else start + dt.timedelta(seconds=offset)
            columns[account][name] = moment
    return replace(log, columns=columns)


@ORACLE_SETTINGS
@given(log=logs_with_account_columns(), conditions=st.lists(CONDITIONS, min_size=3, max_size=3))
def test_engine_times_match_oracle(log, conditions):
    # m0 and m1 run from the signup, m2 from the trial when there is one.
    milestones = [
        {"id": "m0", **conditions[0]},
        {"id": "m1", **conditions[1]},
        {"id": "m2", "start": "trial", **conditions[2]},
    ]

    result = run_log(log, milestones, starts={"trial": {"column": "trial_at"}})

    end = oracle_end(log)
    events = oracle_events(log)
    assert list(result.rows.index) == included_accounts(log, end)
    for account in included_accounts(log, end):
        trial = log.columns[account]["trial_at"]
        clocks = [log.starts[account], log.starts[account], trial]
        for index, (condition, start) in enumerate(zip(conditions, clocks)):
            expected = None
            if start is not None and start <= end:
                usable = oracle.usable_events(events[account], start, end)
                expected = oracle.reached_at(condition, usable, start)
            got = result.value(account, f"m_m{index}_at")
            assert got == expected, f"account {account}, condition {condition}"


@ORACLE_SETTINGS
@given(
    log=event_logs(),
    conditions=st.lists(CONDITIONS, min_size=3, max_size=3),
    churn=CHURN_RULES,
)
def test_engine_rows_match_oracle_with_churn(log, conditions, churn):
    milestones = [
        {"id": f"m{index}", **condition} for index, condition in enumerate(conditions)
    ]

    result = run_log(log, milestones, churn=churn)

    end = oracle_end(log)
    events = oracle_events(log)
    for account in included_accounts(log, end):
        start = log.starts[account]
        usable = oracle.usable_events(events[account], start, end)
        churn_at = oracle.reached_at(churn, usable, start)
        assert result.value(account, "churn_at") == churn_at, account
        for index, condition in enumerate(conditions):
            expected = oracle.outcome(
                oracle.reached_at(condition, usable, start), churn_at, start, end
            )
            label = f"account {account}, condition {condition}"
            assert result.value(account, f"m_m{index}_status") == expected.status, label
            assert result.value(account, f"m_m{index}_at") == expected.reached_at, label
            assert result.value(account, f"m_m{index}_days") == expected.days, label


# The oracle itself, on cases worked out by hand in the condition tests.
ORACLE_SELF_CASES = [
    # (condition, events as (name, hours after start), expected hours or None)
    ({"event": "a", "count": 2}, [("a", 24), ("a", 24), ("a", 48)], 24),
    (
        {"sequence": [{"event": "a"}, {"event": "b"}], "gap": "1d"},
        [("a", 0), ("b", 24)],
        24,
    ),
    (
        {"sequence": [{"event": "a"}, {"event": "b"}], "gap": "1d"},
        [("b", 24), ("a", 24)],
        None,
    ),
    ({"sequence": [{"event": "x"}, {"event": "x"}]}, [("x", 24)], None),
    ({"active_days": 2}, [("x", 1), ("x", 23), ("x", 24)], 24),
    ({"distinct": "event", "count": 2}, [("a", 1), ("a", 2), ("b", 3)], 3),
    ({"event": "a", "within": "36h"}, [("a", 37), ("a", 36)], 36),
    ({"all_of": [{"event": "a"}, {"event": "b"}]}, [("a", 5), ("b", 2)], 5),
    ({"any_of": [{"event": "a"}, {"event": "c"}]}, [("b", 1), ("a", 5)], 5),
]


@pytest.mark.parametrize("condition, rows, hours", ORACLE_SELF_CASES)
def test_oracle_on_hand_cases(condition, rows, hours):
    events = [
        oracle.OracleEvent(BASE + dt.timedelta(hours=h), seq, name, "u1", {})
        for seq, (name, h) in enumerate(rows, start=1)
    ]
    usable = oracle.usable_events(events, BASE, BASE + dt.timedelta(days=30))

    got = oracle.reached_at(condition, usable, BASE)

    assert got == (None if hours is None else BASE + dt.timedelta(hours=hours))


@ORACLE_SETTINGS
@given(
    log=logs_with_account_columns(),
    conditions=st.lists(CONDITIONS, min_size=2, max_size=2),
    churn=ANY_CHURN_RULE,
)
def test_account_table_invariants(log, conditions, churn):
    # m0 runs from the signup, m1 from the trial (null for some accounts).
    milestones = [
        {"id": "m0", **conditions[0]},
        {"id": "m1", "start": "trial", **conditions[1]},
    ]

    result = run_log(
        log,
        milestones,
        with_counts=True,
        churn=churn,
        starts={"trial": {"column": "trial_at"}},
    )

    end = result.end
    rows = result.rows
    assert result.events_used + sum(result.event_exclusions.values()) == len(log.events)
    assert len(rows) + sum(result.account_exclusions.values()) == len(log.starts)
    for account in rows.index:
        _check_churn_columns(result, account, end)
        for identifier in ("m0", "m1"):
            _check_milestone_columns(result, account, identifier)


def _check_churn_columns(result: EngineResult, account: str, end: dt.datetime) -> None:
    start = result.value(account, "start_at")
    churn_at = result.value(account, "churn_at")
    assert result.value(account, "churn_status") == (0 if churn_at is None else 1), (
        account
    )
    if churn_at is not None:
        assert start <= churn_at <= end, account
    expected_days = oracle.days_between(churn_at or end, start)
    assert result.value(account, "churn_days") == expected_days, account


def _check_milestone_columns(
    result: EngineResult, account: str, identifier: str
) -> None:
    label = f"account {account}, milestone {identifier}"
    status = result.value(account, f"m_{identifier}_status")
    reached = result.value(account, f"m_{identifier}_at")
    days = result.value(account, f"m_{identifier}_days")
    start = result.value(account, f"m_{identifier}_start_at")
    churn_at = result.value(account, "churn_at")

    if start is None or start > result.value(account, "end_at"):
        # No start for this milestone by the end: no status, no duration.
        assert status is None, label
        assert days is None, label
        return
    assert status in (0, 1, 2), label
    assert days >= 0, label
    if status == 1:
        assert reached is not None, label
        assert days == oracle.days_between(reached, start), label
        assert churn_at is None or reached <= churn_at, label
    else:
        assert reached is None, label
    if status == 2:
        assert churn_at is not None, label
    if status == 2 and identifier == "m0":
        # From the default start, churn never precedes the start.
        assert days == oracle.days_between(churn_at, start), label
    if status == 0:
        assert churn_at is None, label
        assert days == oracle.days_between(result.value(account, "end_at"), start), (
            label
        )


START_RULES = st.builds(
    lambda name, where: {"event": name, **({"where": where} if where else {})},
    st.sampled_from(EVENT_NAMES),
    st.one_of(st.none(), st.none(), WHERE_LEAVES),
)


def first_match(condition: dict[str, Any], events: list[oracle.OracleEvent]) -> dt.datetime | None:
    """Return the first event matching a start condition, at any time."""
    ordered = sorted(events, key=lambda event: (event.ts, event.seq))
    return next((event.ts for event in ordered if oracle.matches(condition, event, event.ts)), None)


@ORACLE_SETTINGS
@given(
    log=event_logs(),
    conditions=st.lists(CONDITIONS, min_size=2, max_size=2),
    start_rule=START_RULES,
)
def test_start_event_matches_oracle(log, conditions, start_rule):
    # No accounts table: accounts are those with events, and each starts at
    # its first start event, which may come after other events or the end.
    milestones = [{"id": f"m{index}", **condition} for index, condition in enumerate(conditions)]

    result = run_log(log, milestones, with_counts=True, start=start_rule, with_accounts=False)

    end = oracle_end(log)
    events = {account: rows for account, rows in oracle_events(log).items() if rows}
    starts = {account: first_match(start_rule, rows) for account, rows in events.items()}
    included = sorted(a for a, start in starts.items() if start is not None and start <= end)
    assert list(result.rows.index) == included
    for account in included:
        usable = oracle.usable_events(events[account], starts[account], end)
        assert result.value(account, "start_at") == starts[account], account
        for index, condition in enumerate(conditions):
            expected = oracle.reached_at(condition, usable, starts[account])
            got = result.value(account, f"m_m{index}_at")
            assert got == expected, f"account {account}, condition {condition}"

    before = sum(1 for a in included for event in events[a] if event.ts < starts[a])
    after = sum(1 for a in included for event in events[a] if event.ts > end)
    unstarted = [a for a, start in starts.items() if start is None]
    late = [a for a, start in starts.items() if start is not None and start > end]
    assert result.event_exclusions["before_start"] == before
    assert result.event_exclusions["after_end"] == after
    assert result.account_exclusions["no_start"] == len(unstarted)
    assert result.account_exclusions["start_after_end"] == len(late)
    # Events of accounts without a start or starting after the end; the
    # engine may count both kinds under no_start.
    excluded = sum(len(events[a]) for a in unstarted + late)
    counted = result.event_exclusions["no_start"] + result.event_exclusions.get("start_after_end", 0)
    assert counted == excluded

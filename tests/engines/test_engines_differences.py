"""The engine differences handled in ``jalon.store.engine``, on both engines.

Each test checks that the portable helper returns the same value on both engines.
Tests named ``test_raw_*`` pin the difference itself, so that a version change
which removes or moves it shows up here.

Account d1 has three events, 23:00 on day 0, 01:00 on day 1 and 02:00 on
day 1, with ``_seq`` 1, 2, 3. Account d2 has two with fractional seconds,
23:00:00.25 on day 0 and 01:00:01.1 on day 1, with ``_seq`` 4 and 5.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pytest
from engines_harness import Row, at

from jalon.store.engine import (
    cumulative_window,
    elapsed_days,
    elapsed_seconds,
    guarded_ln,
    kaplan_meier_expr,
    kth_smallest,
    running_product,
)

EVENTS = [
    Row("d1", "a", at(0, 23)),
    Row("d1", "b", at(1, 1)),
    Row("d1", "c", at(1, 2)),
    Row("d2", "a", at(0, 23) + dt.timedelta(microseconds=250_000)),
    Row("d2", "b", at(1, 1) + dt.timedelta(seconds=1, microseconds=100_000)),
]


@pytest.fixture(scope="module")
def store(engine_store):
    tested, _ = engine_store(EVENTS)
    return tested


def column(store, expr, name="value", order="_seq"):
    """Evaluate ``expr`` on every event of d1, in ``order`` order, as a list."""
    events = store.events()
    events = events.filter(events.account_id == "d1")
    table = events.select(events[order], **{name: expr(events)}).order_by(order)
    return store.execute(table)[name].tolist()


def first_and_second(events, first=1):
    """The times of events ``first`` and ``first + 1`` (by ``_seq``), on one row."""
    firsts = events.filter(events._seq == first).select("account_id", t1="ts")
    seconds = events.filter(events._seq == first + 1).select("account_id", t2="ts")
    return firsts.inner_join(seconds, "account_id")


def test_elapsed_seconds_across_midnight(store):
    pair = first_and_second(store.events())
    # 23:00 to 01:00 the next day: 2 hours.
    seconds = store.execute(pair.select(s=elapsed_seconds(pair.t2, pair.t1)))["s"]
    assert seconds.tolist() == [7200]


def test_elapsed_days_across_midnight(store):
    pair = first_and_second(store.events())
    days = store.execute(pair.select(d=elapsed_days(pair.t2, pair.t1)))["d"]
    assert days.tolist() == [2 / 24]


def test_elapsed_seconds_sub_second(store):
    pair = first_and_second(store.events(), first=4)
    # 23:00:00.25 to 01:00:01.1 the next day: 7200.85 s.
    seconds = store.execute(pair.select(s=elapsed_seconds(pair.t2, pair.t1)))["s"]
    assert seconds.tolist() == [pytest.approx(7200.85, abs=1e-9)]


def test_raw_epoch_difference_sub_second_differs(store, engine):
    pair = first_and_second(store.events(), first=4)
    raw = pair.t2.epoch_seconds() - pair.t1.epoch_seconds()
    seconds = store.execute(pair.select(s=raw))["s"]
    # DuckDB truncates 7200.85 to 7200; Spark truncates each epoch first,
    # so 01:00:01 - 23:00:00 = 7201.
    expected = {"duckdb": 7200, "spark": 7201}[engine]
    assert seconds.tolist() == [expected]


def test_raw_day_delta_differs(store, engine):
    pair = first_and_second(store.events())
    days = store.execute(pair.select(d=pair.t2.delta(pair.t1, unit="day")))["d"]
    # DuckDB counts the midnight crossed; Spark counts whole days elapsed.
    expected = {"duckdb": 1, "spark": 0}[engine]
    assert days.tolist() == [expected]


def test_guarded_ln_of_zero_is_null(store):
    values = column(store, lambda t: guarded_ln(t._seq - 1))
    # ln(0) -> null, ln(1) = 0, ln(2).
    assert values[0] is None or values[0] != values[0]
    assert values[1:] == pytest.approx([0.0, 0.6931471805599453])


def test_raw_ln_of_zero_differs(store, engine):
    values = column(store, lambda t: (t._seq - 1).cast("float64").ln())
    if engine == "duckdb":
        assert values[0] == float("-inf")
    else:
        assert values[0] is None or values[0] != values[0]


def test_running_product_after_zero(store):
    window = cumulative_window(order_by=["_seq"])
    # Values 0, 1, 2: the product is 0 from the first row on.
    values = column(store, lambda t: running_product(t._seq - 1, window))
    assert values == [0.0, 0.0, 0.0]


def test_running_product_without_zero(store):
    window = cumulative_window(order_by=["_seq"])
    # Values 1, 2, 3: running products 1, 2, 6.
    values = column(store, lambda t: running_product(t._seq, window))
    assert values == pytest.approx([1.0, 2.0, 6.0], rel=1e-12)


def test_cumulative_window_running_sum(store):
    window = cumulative_window(order_by=["_seq"])
    # 1, 1 + 2, 1 + 2 + 3.
    assert column(store, lambda t: t._seq.sum().over(window)) == [1, 3, 6]


def test_raw_order_only_window_is_whole_partition(store):
    window = ibis.window(order_by="_seq")
    assert column(store, lambda t: t._seq.sum().over(window)) == [6, 6, 6]


def test_kaplan_meier_reaches_zero(store):
    events = store.events()
    events = events.filter(events.account_id == "d1")
    # A life table from the log: time = _seq, one event at each time except
    # time 1, which is censored. At risk 3, 2, 1: S = 1, 1 * (1 - 1/2) = 0.5,
    # then 0.5 * (1 - 1/1) = 0, where an unguarded Spark sum would stay at 0.5.
    life = events.select(
        group=ibis.literal("all"),
        time=events._seq.cast("float64"),
        n_event=(events._seq > 1).cast("int64"),
        n_competing=ibis.literal(0).cast("int64"),
        n_censored=(events._seq == 1).cast("int64"),
    )
    curve = store.execute(kaplan_meier_expr(life).order_by("time"))
    assert curve["n_at_risk"].tolist() == [3, 2, 1]
    assert curve["survival"].tolist() == [1.0, 0.5, 0.0]


def kth_by_account(store, k, truncate=False):
    events = store.events()
    if truncate:
        events = events.mutate(ts=events.ts.truncate("D"))
    table = kth_smallest(events, ["account_id"], "ts", "_seq", k)
    frame = store.execute(table)
    return dict(zip(frame["account_id"], frame["at"].dt.to_pydatetime()))


def test_kth_smallest_per_account(store):
    # d1: 23:00, 01:00, 02:00; d2: 23:00:00.25, 01:00:01.1.
    assert kth_by_account(store, 2) == {
        "d1": at(1, 1),
        "d2": at(1, 1) + dt.timedelta(seconds=1, microseconds=100_000),
    }
    # d2 has no third event.
    assert kth_by_account(store, 3) == {"d1": at(1, 2)}


def test_kth_smallest_counts_each_tied_row(store):
    # By day, d1 is day 0, day 1, day 1: its 2nd and 3rd values are both day 1.
    day_1 = at(1, 0)
    assert kth_by_account(store, 2, truncate=True) == {"d1": day_1, "d2": day_1}
    assert kth_by_account(store, 3, truncate=True) == {"d1": day_1}

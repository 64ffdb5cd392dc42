"""Revenue recognition: pro rata by service days, PCA and FAE at month end.

R1: 3 660.00 invoiced 2024-01-15 for 2024-01-15 to 2025-01-14 (366 days,
    so 10.00 a day)
R2: 500.00 one-off invoiced 2024-02-10, no service period
R3: 310.00 invoiced 2024-02-05 for January 2024, in arrears (10.00 a day)
R4: void line, left out
"""

from __future__ import annotations

import pytest
from revenue_helpers import analyse_lines, month, row_of

from jalon.revenue.money import split_exact

LINES = [
    "R1,A,2024-01-15,2024-01-15,2025-01-14,3660.00,0,EUR,paid,subscription,pro,1,,",
    "R2,A,2024-02-10,,,500.00,0,EUR,paid,one_off,,1,,",
    "R3,B,2024-02-05,2024-01-01,2024-01-31,310.00,0,EUR,paid,subscription,pro,1,,",
    "R4,B,2024-02-05,2024-02-01,2024-02-29,999.00,0,EUR,void,subscription,pro,1,,",
]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return analyse_lines(
        tmp_path_factory.mktemp("recognition"), LINES, as_of="2024-03-31"
    )


def test_annual_line_by_days(result):
    schedule = result.recognition_schedule[
        result.recognition_schedule["line_id"].str.startswith("R1")
    ]
    by_month = dict(zip(schedule["month"], schedule["recognized_minor"]))
    # 17 days of January, 29 of February, 14 of January 2025, at 10.00 a day
    assert by_month[month("2024-01")] == 17000
    assert by_month[month("2024-02")] == 29000
    assert by_month[month("2025-01")] == 14000
    assert sum(by_month.values()) == 366000


def test_january_month_end(result):
    row = row_of(result.recognition, month=month("2024-01"))
    assert row["invoiced_minor"] == 366000
    # 170 of R1 + 310 of R3
    assert row["recognized_minor"] == 48000
    # PCA: 3 660 invoiced - 170 earned
    assert row["deferred_minor"] == 349000
    # FAE: R3 earned in January, invoiced in February
    assert row["accrued_minor"] == 31000


def test_february_month_end(result):
    row = row_of(result.recognition, month=month("2024-02"))
    # R2 500 + R3 310; the void line is not invoiced revenue
    assert row["invoiced_minor"] == 81000
    # 290 of R1 + the 500 one-off
    assert row["recognized_minor"] == 79000
    # 3 660 - 170 - 290
    assert row["deferred_minor"] == 320000
    assert row["accrued_minor"] == 0


def test_balances_match_cumulative_flows(result):
    table = result.recognition
    balance = (
        table["invoiced_minor"].cumsum() - table["recognized_minor"].cumsum()
    ).tolist()
    assert balance == (table["deferred_minor"] - table["accrued_minor"]).tolist()


def test_split_rounds_largest_remainder():
    # 100.00 over 2 + 1 days: 6 666.67 and 3 333.33 cents, the spare cent goes to the first
    assert split_exact(10000, [2, 1]) == [6667, 3333]
    assert split_exact(-10000, [2, 1]) == [-6667, -3333]

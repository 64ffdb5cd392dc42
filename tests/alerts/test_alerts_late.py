"""Late accounts of the hand-worked project (see alerts_support for the arithmetic)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alerts_support import EXPECTED_LATE

from jalon.alerts import expected_days, filter_late, late_accounts, parse_alert_settings
from jalon.errors import ConfigError

SEGMENTS = ("plan",)
MILESTONES = ("first_post",)


def settings(**raw):
    return parse_alert_settings(raw, Path("/project"), SEGMENTS, MILESTONES)


def test_expected_days_by_segment(snapshot):
    expected = expected_days(snapshot.analysis, "first_post", settings())
    # team has no percentile; "all" holds the overall 10 days it falls back to.
    assert expected == {"all": 10.0, "free": 10.0, "pro": 5.0}


def test_late_accounts_percentile_rule(snapshot):
    late = late_accounts(snapshot.accounts, snapshot.analysis, settings())
    found = {
        (row.account_id, row.milestone): (
            row.elapsed_days,
            row.expected_days,
            row.days_late,
        )
        for row in late.itertuples()
    }
    assert found == EXPECTED_LATE


def test_late_accounts_sorted_by_days_late(snapshot):
    late = late_accounts(snapshot.accounts, snapshot.analysis, settings())
    assert list(late["account_id"]) == ["p6", "t1", "f6"]


def test_churned_account_never_late(snapshot):
    late = late_accounts(
        snapshot.accounts, snapshot.analysis, settings(rule="days", days=1)
    )
    assert "t2" not in set(late["account_id"])


def test_fixed_days_rule(snapshot):
    # Past 25 days: p6 and t1 (30 days observed); f6 has 20.
    late = late_accounts(
        snapshot.accounts, snapshot.analysis, settings(rule="days", days=25)
    )
    assert sorted(late["account_id"]) == ["p6", "t1"]


def test_fixed_days_keep_segment(snapshot):
    late = late_accounts(
        snapshot.accounts, snapshot.analysis, settings(rule="days", days=25)
    )
    assert dict(zip(late["account_id"], late["segment"])) == {"p6": "pro", "t1": "team"}


def test_without_segment_uses_overall(snapshot):
    late = late_accounts(snapshot.accounts, snapshot.analysis, settings(segment=None))
    # Overall 75th percentile is 10 days: p6 and t1 (30), f6 (20).
    assert dict(zip(late["account_id"], late["days_late"])) == {
        "p6": 20.0,
        "t1": 20.0,
        "f6": 10.0,
    }


def test_filter_late_by_segment_and_days(snapshot):
    late = late_accounts(snapshot.accounts, snapshot.analysis, settings())
    kept = filter_late(late, milestone="first_post", segment="team", min_days_late=15)
    assert list(kept["account_id"]) == ["t1"]


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"rule": "median"}, "alerts.rule"),
        ({"percentile": 1.5}, "alerts.percentile"),
        ({"rule": "days"}, "alerts.days"),
        ({"segment": "country"}, "alerts.segment"),
        ({"milestones": ["first_pots"]}, "alerts.milestones[0]"),
        ({"webhook": {"url": "ftp://x"}}, "alerts.webhook.url"),
        ({"email": {"host": "localhost"}}, "alerts.email.to"),
        ({"retires": 2}, "alerts.retires"),
    ],
)
def test_invalid_settings_name_key(raw, path):
    with pytest.raises(ConfigError) as caught:
        settings(**raw)
    assert caught.value.params["path"] == path

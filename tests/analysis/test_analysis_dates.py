"""An accounts date that cannot be read stops the analysis with its value."""

from pathlib import Path

import pytest

from jalon.analysis import run_analysis
from jalon.checks import check_project
from jalon.config import load_config
from jalon.errors import InputError
from jalon.ingest import load_project
from jalon.store import Store

CONFIG = """
[events]
paths = ["events.csv"]
[events.columns]
account_id = "account_id"
event = "event"
timestamp = "timestamp"
[accounts]
path = "accounts.csv"
[start]
column = "signup_at"
[[milestones]]
id = "first_report"
event = "report"
"""
EVENTS = "account_id,event,timestamp\na,report,2024-01-02T00:00:00Z\nb,report,2024-01-03T00:00:00Z\n"


def _project(tmp_path: Path, signup_b: str):
    (tmp_path / "jalon.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "events.csv").write_text(EVENTS, encoding="utf-8")
    accounts = f"account_id,signup_at\na,2024-01-01\nb,{signup_b}\n"
    (tmp_path / "accounts.csv").write_text(accounts, encoding="utf-8")
    config = load_config(tmp_path / "jalon.toml")
    store = Store.open(config.store_path)
    load_project(store, config.events, config.accounts, base_dir=config.base_dir)
    return config, store


def test_unreadable_signup_stops_analysis(tmp_path):
    config, store = _project(tmp_path, "not-a-date")
    with store, pytest.raises(InputError) as raised:
        run_analysis(config, store)

    assert raised.value.code == "input.bad_account_date"
    assert raised.value.params["account"] == "b"
    assert raised.value.params["value"] == "not-a-date"
    assert raised.value.params["column"] == "signup_at"


def test_unreadable_signup_is_a_check_error(tmp_path):
    config, store = _project(tmp_path, "31/31/2024")
    with store:
        result = check_project(config, store)

    codes = [finding.code for finding in result.findings]
    assert "check.bad_account_date" in codes
    assert not result.ok


def test_empty_signup_only_excludes_account(tmp_path):
    # An empty cell is a missing start, not a malformed one: b is excluded
    # and counted, a is analysed (reached after 1 day).
    config, store = _project(tmp_path, "")
    with store:
        analysis = run_analysis(config, store)

    assert analysis.population.n_accounts == 1
    assert analysis.population.excluded_accounts == {"no_start": 1}
    assert analysis.milestones[0].overall.naive_median_days == 1.0

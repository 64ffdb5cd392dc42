"""``[analysis] churn_link = false`` skips the churn link step and nothing else."""

from pathlib import Path

import pytest

from jalon.analysis import run_analysis
from jalon.config import load_config
from jalon.errors import ConfigError
from jalon.ingest import load_project
from jalon.store import Store

CONFIG = """
[events]
paths = ["events.csv"]
[events.columns]
account_id = "account_id"
event = "event"
timestamp = "timestamp"
[start]
event = "signed_up"
[churn]
event = "cancelled"
[[milestones]]
id = "first_report"
event = "report"
{analysis}
"""
# a reports after 1 day; b cancels after 2 days without a report.
EVENTS = (
    "account_id,event,timestamp\n"
    "a,signed_up,2024-01-01T00:00:00Z\n"
    "a,report,2024-01-02T00:00:00Z\n"
    "b,signed_up,2024-01-01T00:00:00Z\n"
    "b,cancelled,2024-01-03T00:00:00Z\n"
)


def _analyse(tmp_path: Path, analysis: str):
    (tmp_path / "jalon.toml").write_text(CONFIG.format(analysis=analysis), encoding="utf-8")
    (tmp_path / "events.csv").write_text(EVENTS, encoding="utf-8")
    config = load_config(tmp_path / "jalon.toml")
    with Store.open(config.store_path) as store:
        load_project(store, config.events, config.accounts, base_dir=config.base_dir)
        return run_analysis(config, store)


def test_churn_link_off_skips_only_it(tmp_path):
    analysis = _analyse(tmp_path, "[analysis]\nchurn_link = false")

    assert analysis.churn_link is None
    summary = analysis.milestones[0].overall
    # Churn is still the competing risk: a reached, b churned first.
    assert (summary.n_reached, summary.n_churned_first) == (1, 1)


def test_churn_link_on_by_default(tmp_path):
    analysis = _analyse(tmp_path, "")

    assert analysis.churn_link is not None
    assert analysis.churn_link.n_accounts == 2


def test_churn_link_switch_rejects_text(tmp_path):
    with pytest.raises(ConfigError) as raised:
        _analyse(tmp_path, '[analysis]\nchurn_link = "no"')

    assert raised.value.code == "config.bad_bool"
    assert raised.value.params["path"] == "analysis.churn_link"

"""Fixtures shared by the demo tests: one full-size demo, read back from its files."""

from __future__ import annotations

import pandas as pd
import pytest
from demo_helpers import DEMO_ACCOUNTS, DEMO_SEED

from jalon.demo import DemoTruth, generate_demo


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoTruth:
    """The demo with its default seed and size, generated once per test session."""
    return generate_demo(
        tmp_path_factory.mktemp("demo"), seed=DEMO_SEED, n_accounts=DEMO_ACCOUNTS
    )


@pytest.fixture(scope="session")
def demo_events(demo: DemoTruth) -> pd.DataFrame:
    """events.csv.gz read by pandas, with ``ts`` parsed as UTC."""
    events = pd.read_csv(demo.out_dir / "events.csv.gz", dtype={"amount": "Int64"})
    events["ts"] = pd.to_datetime(
        events["timestamp"], format="%Y-%m-%dT%H:%M:%SZ", utc=True
    )
    return events


@pytest.fixture(scope="session")
def demo_accounts(demo: DemoTruth) -> pd.DataFrame:
    """accounts.csv read by pandas, with ``signup_at`` parsed as UTC."""
    accounts = pd.read_csv(demo.out_dir / "accounts.csv")
    accounts["signup_at"] = pd.to_datetime(
        accounts["signup_at"], format="%Y-%m-%dT%H:%M:%SZ", utc=True
    )
    return accounts

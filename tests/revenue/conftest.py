"""Fixtures shared by the revenue tests: one demo company with its billing."""

from __future__ import annotations

import json

import pytest

from jalon.config import load_config
from jalon.demo import generate_demo
from jalon.revenue import run_revenue

DEMO_SEED = 2026
DEMO_ACCOUNTS = 800


@pytest.fixture(scope="session")
def billing_demo(tmp_path_factory):
    """(config path, truth.json content, RevenueResult) of a generated demo."""
    folder = tmp_path_factory.mktemp("revenue_demo")
    generate_demo(folder, seed=DEMO_SEED, n_accounts=DEMO_ACCOUNTS)
    config = load_config(folder / "jalon.toml")
    truth = json.loads((folder / "truth.json").read_text())
    return folder / "jalon.toml", truth, run_revenue(config.revenue, synthetic=True)

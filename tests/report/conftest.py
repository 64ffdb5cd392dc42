"""Fixtures of the report tests; the data behind them is in report_support."""

from __future__ import annotations

import pytest
from report_support import build_analysis

from jalon.analysis import Analysis


@pytest.fixture
def analysis() -> Analysis:
    """Return the synthetic analysis of one milestone over twelve accounts."""
    return build_analysis()

"""A dashboard server shared by the dashboard tests (its figures never change)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dashboard_support import Dashboard, start_dashboard


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory) -> Iterator[Dashboard]:
    live = start_dashboard(tmp_path_factory.mktemp("dashboard") / "project")
    try:
        yield live
    finally:
        live.stop()

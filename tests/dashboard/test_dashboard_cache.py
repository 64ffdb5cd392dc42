"""The figures cache keeps the previous figures when a refresh fails."""

from __future__ import annotations

from dashboard_support import write_project

from jalon.alerts import compute_snapshot
from jalon.web.dashboard_data import FiguresCache
from jalon.web.project import ProjectContext


def test_failed_refresh_keeps_figures(tmp_path):
    config = write_project(tmp_path / "project")
    compute_snapshot(config)  # loads the data files into the store
    drains: list[int] = []
    cache = FiguresCache(
        ProjectContext.from_path(config), drain=lambda: drains.append(1)
    )
    first = cache.get()

    # Invalid TOML: the next analysis cannot start.
    config.write_text("[project\\n", encoding="utf-8")
    second = cache.get(force=True)

    assert second is first
    assert len(drains) == 2
    assert list(first.late["account_id"]) == ["p6", "t1", "f6"]

"""Fixtures for the milestone engine tests: a DuckDB file per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest

from milestone_harness import EngineResult, Event, file_backend, make_config, run_engine


@pytest.fixture
def run_milestones(tmp_path) -> Iterator[Callable[..., EngineResult]]:
    """Return a function that runs the engine on a DuckDB file in ``tmp_path``.

    It takes the milestone tables, the events, the accounts (or None) and the
    keyword options of :func:`milestone_harness.make_config`.
    """
    con = file_backend(tmp_path)

    def run(
        milestones: Sequence[Mapping[str, Any]],
        events: Sequence[Event],
        accounts: Mapping[str, Mapping[str, Any]] | None,
        **options: Any,
    ) -> EngineResult:
        config = make_config(milestones, **options)
        return run_engine(con, config, events, accounts)

    yield run
    con.disconnect()

"""The dashboard's figures: one analysis per refresh, cached, and the alert scheduler.

A refresh moves spooled API events into the store, then runs
:func:`jalon.alerts.compute_snapshot`, which opens the store only for the
analysis, so the CLI can use the project between refreshes. Pages render
from the cached :class:`jalon.alerts.Snapshot` and never recompute a figure.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from jalon.alerts import (
    AlertSettings,
    ServeSettings,
    Snapshot,
    compute_snapshot,
    late_accounts,
    parse_serve_settings,
    run_alerts,
    settings_from_config,
)
from jalon.web.project import CONFIG_NAME, ProjectContext

logger = logging.getLogger(__name__)

SECONDS_PER_MINUTE = 60.0
EVENT_TIMELINE_LIMIT = 500


@dataclass(frozen=True)
class Figures:
    """A snapshot with the settings read from its config and its late accounts."""

    snapshot: Snapshot
    alerts: AlertSettings
    serve: ServeSettings
    late: pd.DataFrame

    @property
    def analysis(self) -> Any:
        return self.snapshot.analysis


class FiguresCache:
    """The latest :class:`Figures` of a project, recomputed when older than the refresh age.

    ``drain`` is called before each analysis, so events acknowledged by the
    ingest API are in the store. It is None when no server runs.
    """

    def __init__(self, project: ProjectContext, drain=None) -> None:
        self.project = project
        self.drain = drain
        self._lock = threading.Lock()
        self._figures: Figures | None = None
        self._computed_monotonic = 0.0
        self.pages: dict[tuple, str] = {}

    @property
    def config_path(self):
        return self.project.root / CONFIG_NAME

    def get(self, force: bool = False) -> Figures:
        """Return the cached figures, refreshing them when stale or when ``force``."""
        with self._lock:
            figures = self._figures
            age = time.monotonic() - self._computed_monotonic
            if figures is None or force or age >= figures.serve.refresh_s:
                figures = self._refresh_or_keep(figures)
            return figures

    def _refresh_or_keep(self, previous: Figures | None) -> Figures:
        # A locked store or a config being edited must not take the pages
        # down: keep showing the previous figures and retry after the refresh age.
        try:
            return self._refresh()
        except Exception:
            if previous is None:
                raise
            logger.exception(
                "dashboard refresh failed; the previous figures stay in use"
            )
            self._computed_monotonic = time.monotonic()
            return previous

    def _refresh(self) -> Figures:
        if self.drain is not None:
            self.drain()
        started = time.monotonic()
        snapshot = compute_snapshot(self.config_path, load_files=False)
        alerts = settings_from_config(snapshot.config)
        figures = Figures(
            snapshot=snapshot,
            alerts=alerts,
            serve=parse_serve_settings(getattr(snapshot.config, "serve", {}) or {}),
            late=late_accounts(snapshot.accounts, snapshot.analysis, alerts),
        )
        self._figures = figures
        self._computed_monotonic = time.monotonic()
        self.pages = {}
        logger.info(
            "dashboard figures refreshed in %.1f s: %d accounts, %d late pairs",
            self._computed_monotonic - started,
            snapshot.analysis.population.n_accounts,
            len(figures.late),
        )
        return figures


class AlertScheduler:
    """A thread that refreshes the figures and runs the alerts every few minutes."""

    def __init__(self, cache: FiguresCache, interval_min: float) -> None:
        self.cache = cache
        self.interval_s = interval_min * SECONDS_PER_MINUTE
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="jalon-alerts", daemon=True
        )

    def start(self) -> None:
        logger.info("alert scheduler started: every %.0f s", self.interval_s)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval_s + 5.0)
        logger.info("alert scheduler stopped")

    def run_once(self) -> None:
        """Refresh the figures and send the new late accounts."""
        figures = self.cache.get(force=True)
        run_alerts(figures.snapshot, figures.alerts)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.run_once()
            except Exception:
                logger.exception("scheduled alert run failed")


def read_interval_minutes(project: ProjectContext) -> float:
    """Return ``[serve] alerts_interval_minutes`` of the project, 0 when unset."""
    import tomllib

    path = project.root / CONFIG_NAME
    if not path.is_file():
        return 0.0
    with path.open("rb") as handle:
        raw = tomllib.load(handle).get("serve", {})
    return parse_serve_settings(
        raw if isinstance(raw, dict) else {}
    ).alerts_interval_min


def account_events(store_path, account_id: str) -> pd.DataFrame:
    """Return the latest events of one account (event name and UTC time), oldest first."""
    from jalon.store import Store

    with Store.open(store_path) as store:
        rows = store.raw.execute(
            "SELECT event, ts FROM (SELECT event, ts, _seq FROM events WHERE account_id = ? "
            "ORDER BY ts DESC, _seq DESC LIMIT ?) ORDER BY ts, _seq",
            [account_id, EVENT_TIMELINE_LIMIT],
        ).fetchall()
    return pd.DataFrame(rows, columns=["event", "ts"])


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)

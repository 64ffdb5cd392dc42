"""One alert run: compute the late accounts, send the new ones, record them.

``jalon alerts run`` and the server's scheduler both call
:func:`run_alerts`. A destination receives an (account, milestone) pair
once, until the pair stops being late (see :mod:`jalon.alerts.state`). A
destination that fails keeps its pairs unrecorded, so the next run sends
them again.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from jalon.alerts.late import late_accounts
from jalon.alerts.send import DeliveryError, Retry, post_webhook, send_email
from jalon.alerts.settings import AlertSettings, settings_from_config
from jalon.alerts.state import AlertState
from jalon.errors import FewAtRiskWarning
from jalon.i18n import Formatter, translations

logger = logging.getLogger(__name__)

PAYLOAD_TYPE = "jalon.late_accounts"
DESTINATION_WEBHOOK = "webhook"
DESTINATION_EMAIL = "email"
DAYS_DIGITS = 1


@dataclass(frozen=True)
class Snapshot:
    """An analysis and the per-account table (pandas) it was computed from."""

    config: Any
    analysis: Any
    accounts: pd.DataFrame
    computed_at: dt.datetime


@dataclass(frozen=True)
class AlertRun:
    """Outcome of one run: late pairs, pairs sent and failures by destination."""

    n_late: int
    sent: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    late: pd.DataFrame | None = None

    @property
    def ok(self) -> bool:
        return not self.failed


def compute_snapshot(config_path: Path | str, load_files: bool = True) -> Snapshot:
    """Load new data files, run the analysis and fetch the per-account table.

    The store is open only during this call, so the CLI and the server can
    take turns on the same project.
    """
    from jalon.analysis import ACCOUNT_TABLE_NAME, run_analysis
    from jalon.config import load_config
    from jalon.ingest import load_project
    from jalon.store import Store

    config = load_config(config_path)
    with Store.open(config.store_path, memory_limit=config.memory_limit) as store, warnings.catch_warnings():
        # The summaries store few_at_risk as a caveat; no need to print it again.
        warnings.simplefilter("ignore", FewAtRiskWarning)
        ingest = None
        if load_files:
            ingest = load_project(
                store,
                config.events,
                config.accounts,
                base_dir=config.base_dir,
                timezone=config.timezone,
            )
        analysis = run_analysis(config, store, ingest=ingest)
        accounts = store.execute(store.con.table(ACCOUNT_TABLE_NAME).order_by("account_id"))
    return Snapshot(config, analysis, accounts, dt.datetime.now(dt.UTC))


def late_payload(
    project: str, late: pd.DataFrame, settings: AlertSettings
) -> dict[str, Any]:
    """Build the webhook body: the project, the rule and one item per late pair."""
    items = []
    for row in late.itertuples(index=False):
        items.append(
            {
                "account_id": row.account_id,
                "milestone": row.milestone,
                "milestone_name": row.milestone_name,
                "segment": row.segment,
                "start_at": pd.Timestamp(row.start_at).isoformat()
                if pd.notna(row.start_at)
                else None,
                "elapsed_days": round(float(row.elapsed_days), 3),
                "expected_days": round(float(row.expected_days), 3),
                "days_late": round(float(row.days_late), 3),
            }
        )
    return {
        "type": PAYLOAD_TYPE,
        "project": project,
        "sent_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rule": {
            "name": settings.rule,
            "percentile": settings.percentile,
            "segment": settings.segment,
        },
        "accounts": items,
    }


def email_text(project: str, late: pd.DataFrame, lang: str) -> tuple[str, str]:
    """Return the subject and plain-text body of the alert email in ``lang``."""
    _ = translations(lang).gettext
    fmt = Formatter(lang)
    subject = _("{project}: {count} accounts late to value").format(
        project=project, count=fmt.integer(len(late))
    )
    lines = [
        _(
            "These accounts passed the expected time to a milestone without reaching it:"
        ),
        "",
    ]
    for row in late.itertuples(index=False):
        lines.append(
            _(
                "{account} ({segment}): {milestone}, {elapsed} since the start, expected {expected}"
            ).format(
                account=row.account_id,
                segment=row.segment,
                milestone=row.milestone_name,
                elapsed=fmt.days(row.elapsed_days, DAYS_DIGITS),
                expected=fmt.days(row.expected_days, DAYS_DIGITS),
            )
        )
    return subject, "\n".join(lines) + "\n"


def run_alerts(
    snapshot: Snapshot, settings: AlertSettings | None = None, dry_run: bool = False
) -> AlertRun:
    """Send each destination the late pairs it has not received yet.

    Parameters
    ----------
    snapshot
        The analysis and per-account table to judge.
    settings
        The ``[alerts]`` settings; default read from ``snapshot.config``.
    dry_run
        Compute and return the late pairs without sending or recording.
    """
    settings = settings or settings_from_config(snapshot.config)
    late = late_accounts(snapshot.accounts, snapshot.analysis, settings)
    pairs = set(zip(late["account_id"], late["milestone"]))
    if dry_run:
        return AlertRun(n_late=len(pairs), late=late)

    sent: dict[str, int] = {}
    failed: dict[str, str] = {}
    with AlertState(settings.state_path) as state:
        state.clear_except(pairs)
        for destination in _destinations(settings):
            known = state.alerted(destination)
            new = late[
                [
                    pair not in known
                    for pair in zip(late["account_id"], late["milestone"])
                ]
            ]
            if new.empty:
                sent[destination] = 0
                continue
            try:
                _deliver(destination, snapshot.analysis.project_name, new, settings)
            except DeliveryError as error:
                failed[destination] = str(error)
                continue
            state.mark_late(destination, zip(new["account_id"], new["milestone"]))
            sent[destination] = len(new)
    logger.info(
        "alert run: %d late pairs, sent %s, failed %s", len(pairs), sent, failed
    )
    return AlertRun(n_late=len(pairs), sent=sent, failed=failed, late=late)


def _destinations(settings: AlertSettings) -> list[str]:
    destinations = []
    if settings.webhook is not None:
        destinations.append(DESTINATION_WEBHOOK)
    if settings.email is not None:
        destinations.append(DESTINATION_EMAIL)
    return destinations


def _deliver(
    destination: str, project: str, late: pd.DataFrame, settings: AlertSettings
) -> None:
    retry = Retry.from_settings(settings)
    if destination == DESTINATION_WEBHOOK:
        assert settings.webhook is not None
        post_webhook(
            settings.webhook,
            late_payload(project, late, settings),
            retry,
            settings.timeout_s,
        )
    else:
        assert settings.email is not None
        subject, text = email_text(project, late, settings.language)
        send_email(settings.email, subject, text, retry, settings.timeout_s)

"""Accounts late to value, and alerts about them by webhook and email.

:func:`late_accounts` lists the (account, milestone) pairs past their
expected time; :func:`run_alerts` sends the new ones to the destinations of
``[alerts]`` and records them so each is sent once until its status changes.
"""

from jalon.alerts.late import expected_days, filter_late, late_accounts
from jalon.alerts.run import AlertRun, Snapshot, compute_snapshot, run_alerts
from jalon.alerts.send import SIGNATURE_HEADER, sign
from jalon.alerts.settings import (
    AlertSettings,
    ServeSettings,
    parse_alert_settings,
    parse_serve_settings,
    settings_from_config,
)

__all__ = [
    "SIGNATURE_HEADER",
    "AlertRun",
    "AlertSettings",
    "ServeSettings",
    "Snapshot",
    "compute_snapshot",
    "expected_days",
    "filter_late",
    "late_accounts",
    "parse_alert_settings",
    "parse_serve_settings",
    "run_alerts",
    "settings_from_config",
    "sign",
]

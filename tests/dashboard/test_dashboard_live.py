"""Events sent to the ingest API reach the dashboard's figures without a restart."""

from __future__ import annotations

import httpx
from dashboard_support import start_dashboard
from typer.testing import CliRunner

from jalon.cli.main import build_app


def test_api_event_clears_late_account(tmp_path):
    live = start_dashboard(tmp_path / "project")
    try:
        before = httpx.get(f"{live.url}/dashboard/late.csv", timeout=120).text
        message = {
            "userId": "u-p6",
            "event": "post",
            "timestamp": "2026-01-20T00:00:00Z",
            "context": {"groupId": "p6"},
        }
        sent = httpx.post(
            f"{live.url}/v1/track",
            json=message,
            headers={"Authorization": f"Bearer {live.write_key}"},
            timeout=60,
        )
        after = httpx.get(f"{live.url}/dashboard/late.csv?refresh=1", timeout=120).text

        # The CLI works on the same project while the server runs.
        listed = CliRunner().invoke(
            build_app("en"), ["alerts", "list", "--config", str(live.config)]
        )
    finally:
        live.stop()
    assert sent.status_code == 200, sent.text
    assert "\np6," in before
    assert "\np6," not in after
    assert listed.exit_code == 0, listed.output
    assert "p6" not in listed.output

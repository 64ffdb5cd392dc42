"""Webhook and SMTP delivery: signature, retries with backoff, de-duplication.

The receivers run on loopback: an http.server webhook (conftest) and an
aiosmtpd SMTP server. The project is the hand-worked one of alerts_support,
whose late pairs are p6, t1 and f6 for first_post.
"""

from __future__ import annotations

import dataclasses
import email
import hashlib
import hmac
import json
import socket
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from jalon.alerts import SIGNATURE_HEADER, parse_alert_settings, run_alerts, sign
from jalon.alerts.send import DeliveryError, Retry, with_retries

SECRET = "test-secret"
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def settings_for(tmp_path: Path, **raw):
    raw.setdefault("backoff_seconds", 0.01)
    raw.setdefault("timeout_seconds", 5)
    raw["state"] = str(tmp_path / "alerts.sqlite")
    return parse_alert_settings(raw, tmp_path, ("plan",), ("first_post",))


def test_sign_matches_hmac_sha256():
    body = b'{"a": 1}'
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert sign(body, SECRET) == f"sha256={expected}"


def test_backoff_doubles_each_retry():
    waits: list[float] = []
    failures = iter([True, True, True])

    def action() -> None:
        if next(failures, False):
            raise DeliveryError("down")

    attempts = with_retries(action, "test", Retry(3, 0.5), sleep=waits.append)
    # Three failures, then success on attempt 4, after waits 0.5, 1 and 2 s.
    assert attempts == 4
    assert waits == [0.5, 1.0, 2.0]


def test_retries_exhausted_raise():
    def action() -> None:
        raise DeliveryError("down")

    with pytest.raises(DeliveryError):
        with_retries(action, "test", Retry(2, 0.0), sleep=lambda _s: None)


def test_webhook_signed_over_raw_body(snapshot, receiver, tmp_path):
    settings = settings_for(tmp_path, webhook={"url": receiver.url, "secret": SECRET})
    run_alerts(snapshot, settings)
    headers, body = receiver.requests[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == expected


def test_webhook_payload_lists_late_pairs(snapshot, receiver, tmp_path):
    settings = settings_for(tmp_path, webhook={"url": receiver.url, "secret": SECRET})
    run_alerts(snapshot, settings)
    payload = json.loads(receiver.requests[0][1])
    found = {(item["account_id"], item["days_late"]) for item in payload["accounts"]}
    assert found == {("p6", 25.0), ("t1", 20.0), ("f6", 10.0)}


def test_webhook_retried_after_server_errors(snapshot, receiver, tmp_path):
    receiver.statuses = [503, 502]
    settings = settings_for(
        tmp_path, retries=3, webhook={"url": receiver.url, "secret": SECRET}
    )
    result = run_alerts(snapshot, settings)
    assert len(receiver.requests) == 3
    assert result.sent == {"webhook": 3}


def test_webhook_client_error_not_retried(snapshot, receiver, tmp_path):
    receiver.statuses = [400]
    settings = settings_for(tmp_path, retries=3, webhook={"url": receiver.url})
    result = run_alerts(snapshot, settings)
    assert len(receiver.requests) == 1
    assert result.failed == {"webhook": "HTTP 400"}


def test_failed_pairs_sent_next_run(snapshot, receiver, tmp_path):
    receiver.statuses = [500, 500]
    settings = settings_for(tmp_path, retries=1, webhook={"url": receiver.url})
    run_alerts(snapshot, settings)
    second = run_alerts(snapshot, settings)
    assert second.sent == {"webhook": 3}


def test_second_run_sends_nothing(snapshot, receiver, tmp_path):
    settings = settings_for(tmp_path, webhook={"url": receiver.url, "secret": SECRET})
    run_alerts(snapshot, settings)
    second = run_alerts(snapshot, settings)
    assert second.sent == {"webhook": 0}
    assert len(receiver.requests) == 1


def test_alerted_again_after_status_change(snapshot, receiver, tmp_path):
    settings = settings_for(tmp_path, webhook={"url": receiver.url})
    run_alerts(snapshot, settings)

    # p6 reaches the milestone: it leaves the late list and its row is cleared.
    reached = snapshot.accounts.copy()
    reached.loc[reached["account_id"] == "p6", "m_first_post_status"] = 1
    run_alerts(dataclasses.replace(snapshot, accounts=reached), settings)

    # Late again on the original table: only p6 is new.
    third = run_alerts(snapshot, settings)
    payload = json.loads(receiver.requests[-1][1])
    assert third.sent == {"webhook": 1}
    assert [item["account_id"] for item in payload["accounts"]] == ["p6"]


class Inbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_inbox():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname=LOOPBACK, port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_email_lists_late_accounts(snapshot, smtp_inbox, tmp_path):
    inbox, port = smtp_inbox
    email_table = {"host": LOOPBACK, "port": port, "to": ["cs@example.test"]}
    result = run_alerts(snapshot, settings_for(tmp_path, email=email_table))
    body = inbox.messages[0].get_payload()
    assert result.sent == {"email": 3}
    assert inbox.messages[0]["Subject"] == "Latecomers: 3 accounts late to value"
    for account in ("p6", "t1", "f6"):
        assert f"{account} (" in body


def test_email_in_french(snapshot, smtp_inbox, tmp_path):
    inbox, port = smtp_inbox
    email_table = {"host": LOOPBACK, "port": port, "to": ["cs@example.test"]}
    run_alerts(snapshot, settings_for(tmp_path, language="fr", email=email_table))
    subject = str(
        email.header.make_header(
            email.header.decode_header(inbox.messages[0]["Subject"])
        )
    )
    assert subject == "Latecomers : 3 comptes en retard sur la valeur"


def test_email_deduplicated(snapshot, smtp_inbox, tmp_path):
    inbox, port = smtp_inbox
    email_table = {"host": LOOPBACK, "port": port, "to": ["cs@example.test"]}
    settings = settings_for(tmp_path, email=email_table)
    run_alerts(snapshot, settings)
    run_alerts(snapshot, settings)
    assert len(inbox.messages) == 1


def test_unreachable_smtp_fails_after_retries(snapshot, tmp_path, caplog):
    # Nothing listens on a port just released.
    port = free_port()
    email_table = {"host": LOOPBACK, "port": port, "to": ["cs@example.test"]}
    result = run_alerts(snapshot, settings_for(tmp_path, retries=2, email=email_table))
    retries_logged = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert "email" in result.failed
    assert len(retries_logged) == 2

"""The server's scheduler sends late accounts to the webhook on its own."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time

from dashboard_support import LOOPBACK, start_dashboard

SECRET = "scheduler-secret"
WAIT_S = 120.0


def test_scheduler_sends_signed_webhook(tmp_path):
    received: list[tuple[str, bytes]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["X-Jalon-Signature"], body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    receiver = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    # 0.01 minutes: a run about every 0.6 s; the second and later runs send nothing.
    extra = (
        "[serve]\nalerts_interval_minutes = 0.01\n"
        f'[alerts.webhook]\nurl = "http://{LOOPBACK}:{receiver.server_address[1]}/hook"\n'
        f'secret = "{SECRET}"\n'
    )
    live = start_dashboard(tmp_path / "project", extra)
    try:
        deadline = time.monotonic() + WAIT_S
        while not received and time.monotonic() < deadline:
            time.sleep(0.2)
        # Let a few more runs pass to see that they send nothing new.
        time.sleep(3.0)
    finally:
        live.stop()
        receiver.shutdown()
        receiver.server_close()

    signature, body = received[0]
    accounts = sorted(item["account_id"] for item in json.loads(body)["accounts"])
    assert len(received) == 1
    assert (
        signature
        == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    )
    assert accounts == ["f6", "p6", "t1"]

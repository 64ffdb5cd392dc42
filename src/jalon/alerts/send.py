"""Send late-account alerts: a signed JSON webhook and an email, with retries.

The webhook body is UTF-8 JSON; the header ``X-Jalon-Signature`` contains
``sha256=`` and the hex HMAC-SHA256 of the exact body bytes under the
configured secret, so a receiver recomputes it on the raw body before
parsing. Failed attempts are retried ``retries`` times, waiting
``backoff_s``, then twice as long at each retry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx

from jalon.alerts.settings import AlertSettings, EmailSettings, WebhookSettings

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Jalon-Signature"
SIGNATURE_PREFIX = "sha256="
BACKOFF_FACTOR = 2.0
# Server errors and rate limiting may be transient, but other 4xx responses are not.
RETRY_STATUSES = frozenset({408, 425, 429}) | frozenset(range(500, 600))


class DeliveryError(Exception):
    """A destination rejected the alert or could not be reached after every retry."""


@dataclass(frozen=True)
class Retry:
    """Attempts after the first, and the first wait in seconds."""

    retries: int
    backoff_s: float

    @classmethod
    def from_settings(cls, settings: AlertSettings) -> Retry:
        return cls(settings.retries, settings.backoff_s)

    def delays(self) -> list[float]:
        """Return the waits before each retry, in seconds.

        >>> Retry(3, 0.5).delays()
        [0.5, 1.0, 2.0]
        """
        return [
            self.backoff_s * BACKOFF_FACTOR**attempt for attempt in range(self.retries)
        ]


def sign(body: bytes, secret: str) -> str:
    """Return the ``X-Jalon-Signature`` value of ``body`` under ``secret``.

    >>> sign(b"{}", "s3cret")[:7]
    'sha256='
    """
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def encode_payload(payload: dict[str, Any]) -> bytes:
    """Serialize a payload as the exact bytes that are signed and sent."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str).encode(
        "utf-8"
    )


def with_retries(
    action: Callable[[], None],
    destination: str,
    retry: Retry,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run ``action`` until it succeeds; return the attempts it took.

    ``action`` raises :class:`DeliveryError` with ``retryable`` false to stop
    at once. Every failed attempt is logged at WARNING.

    Raises
    ------
    DeliveryError
        The last error, once the retries are used up.
    """
    delays = retry.delays()
    attempt = 0
    while True:
        attempt += 1
        try:
            action()
            logger.info("alert sent to %s (attempt %d)", destination, attempt)
            return attempt
        except DeliveryError as error:
            retryable = getattr(error, "retryable", True)
            if not retryable or attempt > len(delays):
                logger.error(
                    "alert to %s failed after %d attempts: %s",
                    destination,
                    attempt,
                    error,
                )
                raise
            delay = delays[attempt - 1]
            logger.warning(
                "alert to %s failed (attempt %d), retrying in %.1f s: %s",
                destination,
                attempt,
                delay,
                error,
            )
            sleep(delay)


def _failure(message: str, retryable: bool) -> DeliveryError:
    error = DeliveryError(message)
    error.retryable = retryable  # type: ignore[attr-defined]
    return error


def post_webhook(
    webhook: WebhookSettings, payload: dict[str, Any], retry: Retry, timeout_s: float
) -> int:
    """POST ``payload`` to the webhook, signed when a secret is set; return attempts."""
    body = encode_payload(payload)
    headers = {"Content-Type": "application/json", "User-Agent": "jalon-alerts"}
    if webhook.secret:
        headers[SIGNATURE_HEADER] = sign(body, webhook.secret)

    def attempt() -> None:
        try:
            response = httpx.post(
                webhook.url, content=body, headers=headers, timeout=timeout_s
            )
        except httpx.HTTPError as error:
            raise _failure(
                f"{type(error).__name__}: {error}", retryable=True
            ) from error
        if response.status_code >= 300:
            retryable = response.status_code in RETRY_STATUSES
            raise _failure(f"HTTP {response.status_code}", retryable=retryable)

    return with_retries(attempt, f"webhook {webhook.url}", retry)


def send_email(
    email: EmailSettings, subject: str, text: str, retry: Retry, timeout_s: float
) -> int:
    """Send a plain-text email through the SMTP server; return attempts."""
    message = EmailMessage()
    message["From"] = email.sender
    message["To"] = ", ".join(email.to)
    message["Subject"] = subject
    message.set_content(text)

    def attempt() -> None:
        try:
            with smtplib.SMTP(email.host, email.port, timeout=timeout_s) as smtp:
                if email.starttls:
                    smtp.starttls()
                if email.username:
                    smtp.login(email.username, email.password or "")
                smtp.send_message(message)
        except smtplib.SMTPResponseException as error:
            # 4xx replies are transient by the SMTP standard, 5xx are permanent.
            retryable = 400 <= error.smtp_code < 500
            raise _failure(f"SMTP {error.smtp_code}", retryable=retryable) from error
        except (smtplib.SMTPException, OSError) as error:
            raise _failure(
                f"{type(error).__name__}: {error}", retryable=True
            ) from error

    return with_retries(attempt, f"smtp {email.host}:{email.port}", retry)

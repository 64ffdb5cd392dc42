"""Reading API keys from requests, and the per-key rate limit."""

from __future__ import annotations

import base64
import binascii
import math
import threading
import time
from dataclasses import dataclass

from jalon.errors import N_, ApiError


def key_from_authorization(header: str | None) -> str | None:
    """Return the key sent in an ``Authorization`` header, or None when absent.

    Segment SDKs send the write key as the basic auth user name with an empty
    password; a bearer token is the key itself.

    >>> key_from_authorization("Basic YWJjMTIzOg==")
    'abc123'
    >>> key_from_authorization("Bearer abc123")
    'abc123'
    """
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer":
        return value or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        user, _, _ = decoded.partition(":")
        return user or None
    return None


@dataclass(frozen=True)
class RateLimit:
    """Token bucket of one key: ``rate`` requests per second, bursts up to ``burst``."""

    rate: float
    burst: float


class RateLimiter:
    """Per-key token buckets; thread-safe.

    >>> limiter = RateLimiter(RateLimit(rate=1.0, burst=1.0))
    >>> limiter.retry_after("k", now=0.0) is None
    True
    >>> limiter.retry_after("k", now=0.0)
    1.0
    """

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def retry_after(self, key_id: str, now: float | None = None) -> float | None:
        """Take one token for ``key_id``; return None, or the seconds until one is free."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key_id, (self.limit.burst, now))
            tokens = min(self.limit.burst, tokens + (now - last) * self.limit.rate)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return None
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / self.limit.rate

    def check(self, key_id: str) -> None:
        """Raise a 429 :class:`ApiError` when ``key_id`` is over its rate."""
        wait = self.retry_after(key_id)
        if wait is None:
            return
        seconds = max(1, math.ceil(wait))
        raise ApiError(
            "api.rate_limited",
            N_(
                "Too many requests for this API key (limit {rate} per second):"
                " retry after {retry_after} seconds."
            ),
            status=429,
            rate=self.limit.rate,
            retry_after=seconds,
        )

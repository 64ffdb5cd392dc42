"""Settings and long-lived resources of one server process."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from jalon.web import spool
from jalon.web.drain import drain_project
from jalon.web.drain_worker import DrainWorker
from jalon.web.keys import KeyChecker
from jalon.web.project import ProjectContext
from jalon.web.security import RateLimit, RateLimiter

logger = logging.getLogger(__name__)

# Segment's documented limits: 500 KB per batch request, 32 KB per message.
# The Segment Python SDK counts them in KiB (32 << 10), and so does jalon.
DEFAULT_MAX_BATCH_BYTES = 500 * 1024
DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024
# Per key: enough for a bulk import at full speed, low enough that a client
# stuck in a loop is slowed down before it fills the disk.
DEFAULT_RATE_PER_S = 1000.0
DEFAULT_BURST = 2000.0
DEFAULT_DRAIN_INTERVAL_S = 10.0


@dataclass(frozen=True)
class ServerSettings:
    """Limits and timers of the server.

    Attributes
    ----------
    max_batch_bytes
        Largest accepted body of ``/v1/batch``, in bytes after gzip decoding.
    max_message_bytes
        Largest accepted message, alone or inside a batch, in bytes of JSON.
    rate_per_s, burst
        Token bucket per API key: sustained requests per second and burst size.
    drain_interval_s
        Seconds between two drains of the spool into the store, run by a
        child process; 0 runs no worker, and drains then happen in the
        server process on request and at shutdown.
    """

    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    rate_per_s: float = DEFAULT_RATE_PER_S
    burst: float = DEFAULT_BURST
    drain_interval_s: float = DEFAULT_DRAIN_INTERVAL_S


class ServerState:
    """Spool writer, key checker, rate limiter and drain worker of one app."""

    def __init__(self, project: ProjectContext, settings: ServerSettings) -> None:
        project.ensure_state_dir()
        self.project = project
        self.settings = settings
        self.zone = ZoneInfo(project.timezone)
        self.writer = spool.SpoolWriter(project.spool_path)
        self.keys = KeyChecker(project.keys_path)
        self.limiter = RateLimiter(RateLimit(settings.rate_per_s, settings.burst))
        self._reader = spool.connect(project.spool_path)
        self._reader_lock = threading.Lock()
        self._drain_lock = threading.Lock()
        self._worker: DrainWorker | None = None
        if settings.drain_interval_s > 0:
            self._worker = DrainWorker(project, settings.drain_interval_s)

    def start(self) -> None:
        """Start the drain worker when the settings ask for a drain timer."""
        if self._worker is not None:
            self._worker.start()
        logger.info(
            "ingest server started for %s (spool %s)",
            self.project.root,
            self.project.spool_path,
        )

    def close(self) -> None:
        """Commit queued writes, drain once more, stop the worker and close files."""
        self.writer.close()
        if self._worker is not None:
            self._worker.stop()
        else:
            self.drain()
        self.keys.close()
        with self._reader_lock:
            self._reader.close()
        logger.info("ingest server stopped")

    def drain(self) -> int | None:
        """Move spooled messages into the store now, for example before an analysis refresh.

        Returns the events inserted, or None when the store was locked or the
        drain failed (the messages then stay in the spool). The call blocks
        until the drain ends, so async code runs it with ``run_in_threadpool``.
        """
        if self._worker is not None:
            return self._worker.drain_now()
        with self._drain_lock:
            try:
                return drain_project(self.project)
            except Exception:
                logger.exception("drain of %s failed", self.project.spool_path)
                return None

    def read(self, query: str, parameters: tuple = ()) -> list[tuple]:
        """Run a read-only query on the spool."""
        with self._reader_lock:
            return self._reader.execute(query, parameters).fetchall()

    def counts(self) -> dict[str, int]:
        with self._reader_lock:
            return spool.spool_counts(self._reader)

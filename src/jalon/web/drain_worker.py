"""A child process that drains the spool into the store on a timer.

Draining parses and inserts every event once more, and in the server process
it would compete with request handling for the interpreter lock. The worker
runs it in its own process. For an immediate drain (before an analysis
refresh) the server sends a request through a queue and waits for the count.

The worker exits after a last drain when it receives the stop request, or as
soon as its parent process is gone (checked every second), so a server killed
with SIGKILL leaves no orphan that would hold the store.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading

from jalon.web.drain import drain_project
from jalon.web.project import ProjectContext

logger = logging.getLogger(__name__)

DRAIN_NOW = "drain"
STOP = "stop"
# Seconds to wait for an on-demand drain or for the worker to stop.
REPLY_TIMEOUT_S = 300.0
# Upper bound of the wait between two parent checks, in seconds.
PARENT_CHECK_S = 1.0


def _drain_logged(project: ProjectContext) -> int | None:
    try:
        return drain_project(project)
    except Exception:
        logger.exception("drain of %s failed", project.spool_path)
        return None


def run_worker(
    project: ProjectContext,
    interval_s: float,
    requests: multiprocessing.Queue,
    replies: multiprocessing.Queue,
    parent_pid: int,
    log_level: int,
) -> None:
    """Drain every ``interval_s`` seconds and on each request, until the stop request."""
    logging.basicConfig(level=log_level, format="%(levelname)s %(name)s: %(message)s")
    waited = 0.0
    while os.getppid() == parent_pid:
        step = min(PARENT_CHECK_S, interval_s)
        try:
            request = requests.get(timeout=step)
        except queue.Empty:
            waited += step
            if waited >= interval_s:
                _drain_logged(project)
                waited = 0.0
            continue
        if request == STOP:
            _drain_logged(project)
            return
        replies.put(_drain_logged(project))
        waited = 0.0
    logger.warning("server process %d is gone; drain worker exits", parent_pid)


class DrainWorker:
    """Handle on the drain process of one server."""

    def __init__(self, project: ProjectContext, interval_s: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._requests = context.Queue()
        self._replies = context.Queue()
        self._lock = threading.Lock()
        self._process = context.Process(
            target=run_worker,
            args=(
                project,
                interval_s,
                self._requests,
                self._replies,
                os.getpid(),
                logging.getLogger().getEffectiveLevel(),
            ),
            name="jalon-drain",
            daemon=True,
        )

    def start(self) -> None:
        self._process.start()
        logger.info("drain worker started (pid %s)", self._process.pid)

    def drain_now(self) -> int | None:
        """Ask the worker to drain now; return the events inserted, or None on failure."""
        with self._lock:
            if not self._process.is_alive():
                logger.error(
                    "drain worker is not running (exit code %s)", self._process.exitcode
                )
                return None
            self._requests.put(DRAIN_NOW)
            try:
                return self._replies.get(timeout=REPLY_TIMEOUT_S)
            except queue.Empty:
                logger.error("drain worker did not reply within %s s", REPLY_TIMEOUT_S)
                return None

    def stop(self) -> None:
        """Ask for a last drain and wait for the worker to exit."""
        with self._lock:
            if self._process.is_alive():
                self._requests.put(STOP)
                self._process.join(REPLY_TIMEOUT_S)
            if self._process.is_alive():
                logger.error("drain worker did not stop; terminating it")
                self._process.terminate()
                self._process.join()
        logger.info("drain worker stopped")

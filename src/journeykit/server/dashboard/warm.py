"""Filling the cache in the background, so that the next page opened is already computed.

After the first page of a workspace is served, a daemon thread builds the default view of
every other page once (the overview first, the slow personas last). Each computation takes the
workspace's engine lock for itself only, so a request never waits for more than the one
computation in flight. Failures are logged and skipped: warming is only ever a head start.
"""

from __future__ import annotations

import logging
import threading
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from journeykit.server.dashboard.cache import WorkspaceCache
    from journeykit.store import Workspace

log = logging.getLogger("journeykit.server.dashboard")

#: Page modules in the order they are warmed.
ORDER = ("overview", "funnels", "retention", "flows", "voc", "journey", "automations", "segments")


class Warmer:
    """Starts one warming thread per workspace (the first time it is asked)."""

    def __init__(self, cache: WorkspaceCache) -> None:
        self.cache = cache
        self.stopped = threading.Event()
        self._started: set[str] = set()
        self._lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def start(
        self, ws: Workspace, lock: AbstractContextManager[Any] | None, skip: str | None = None
    ) -> None:
        """Warm every page but ``skip`` (the one just served), once per workspace."""
        with self._lock:
            if str(ws.path) in self._started or self.stopped.is_set():
                return
            self._started.add(str(ws.path))
        thread = threading.Thread(
            target=self._run, args=(ws, lock, skip), name="dashboard-warm", daemon=True
        )
        self.threads.append(thread)
        thread.start()

    def _run(
        self, ws: Workspace, lock: AbstractContextManager[Any] | None, skip: str | None
    ) -> None:
        from journeykit.server.dashboard.app import render_page
        from journeykit.server.dashboard.context import PageContext

        for module in ORDER:
            if self.stopped.is_set():
                return
            if module == skip:
                continue
            ctx = PageContext(ws=ws, params={}, cache=self.cache, lock=lock)
            try:
                render_page(ctx, module)
            except Exception:  # a head start only: the page will say what fails when opened
                log.debug("warming the %s page failed", module, exc_info=True)

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the page being warmed, and wait for the threads."""
        self.stopped.set()
        for thread in self.threads:
            thread.join(timeout)

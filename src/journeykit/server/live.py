"""The live path: the collector feeds the orchestrator in the same process.

With ``automations`` set (``journeykit serve --automations FILE``) the server runs them on its
own workspace. After each load from the spool the loader wakes the orchestrator, which reads
the new events in arrival order (:class:`journeykit.server.feed.WorkspaceFeed`), acts on them
and sends what is due: an event reaches its automations well within a second of being
acknowledged, and no second process opens the workspace.

Starting follows :func:`journeykit.server.feed.start` (profiles from history on the first run;
a backlog of old events is refused unless ``orchestrate_replay`` or ``orchestrate_from_now``).
Stopping drains: the loader stores what is spooled, the orchestrator handles it, the messages
being sent finish, then the worker stops.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from journeykit.orchestrate.worker import WorkerStats
    from journeykit.server.feed import WorkspaceFeed
    from journeykit.server.settings import ServerSettings
    from journeykit.store import Store, Workspace

log = logging.getLogger("journeykit.server.live")


def state_url(ws: Workspace) -> str:
    """``JOURNEYKIT_ORCHESTRATE_STATE_URL`` when set, else orchestrate.sqlite in the workspace."""
    import os

    return os.environ.get("JOURNEYKIT_ORCHESTRATE_STATE_URL") or (
        f"sqlite:///{ws.path / 'orchestrate.sqlite'}"
    )


def check_start(ws: Workspace, settings: ServerSettings) -> None:
    """Raise now what starting the orchestrator would raise (bad automations, old events).

    Raises:
        InvalidSpec: the automations do not validate.
        ReplayRefused: old events wait and neither replay nor from-now is set.
    """
    from journeykit.orchestrate.clock import SystemClock
    from journeykit.orchestrate.engine import EngineSettings
    from journeykit.orchestrate.loader import read_file
    from journeykit.orchestrate.state import StateStore
    from journeykit.orchestrate.timeutil import parse_duration
    from journeykit.server.feed import ReplayRefused, dry_run, plan

    spec = read_file(settings.automations)
    if settings.orchestrate_replay or settings.orchestrate_from_now:
        return
    max_age = parse_duration(settings.orchestrate_max_age)
    state = StateStore(state_url(ws))
    try:
        now = SystemClock().now()
        p = plan(ws.store, state, str(ws.path.resolve()), since=None, max_age=max_age, now=now)
        if p.old and p.oldest is not None:
            settings_ = EngineSettings(global_caps=spec.caps, suppress_events=spec.suppress_on)
            entrants, messages = dry_run(ws.store, p, spec.automations, settings_, now)
            raise ReplayRefused(p.events, p.old, p.people, entrants, messages, p.oldest, max_age)
    finally:
        state.dispose()


class LiveOrchestrator:
    """Runs automations on the events the server collects, on a thread of its own.

    Args:
        ws: the server's workspace.
        settings: the server settings (``automations`` and the ``orchestrate_*`` ones).
    """

    def __init__(self, ws: Workspace, settings: ServerSettings) -> None:
        from journeykit.orchestrate.engine import EngineSettings
        from journeykit.orchestrate.loader import read_file
        from journeykit.orchestrate.state import StateStore
        from journeykit.orchestrate.timeutil import parse_duration
        from journeykit.orchestrate.worker import OrchestrateSettings

        self.ws = ws
        self.settings = settings
        self.spec = read_file(settings.automations)
        self.max_age = parse_duration(settings.orchestrate_max_age)
        self.worker_settings = OrchestrateSettings.from_env()
        self.engine_settings = EngineSettings(
            global_caps=self.spec.caps,
            batch_size=self.worker_settings.batch_size,
            suppress_events=self.spec.suppress_on,
        )
        self.state = StateStore(state_url(ws))
        self.name = str(ws.path.resolve())
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.feed: WorkspaceFeed | None = None
        self.stats: WorkerStats | None = None
        self.error: str | None = None
        self._thread: threading.Thread | None = None

    @contextmanager
    def _lend(self) -> Iterator[Store]:
        yield self.ws.store

    def start(self) -> None:
        """Build profiles or take the backlog as the settings say, then follow new events.

        Raises:
            ReplayRefused: old events wait and neither replay nor from-now is set.
        """
        from journeykit.orchestrate.clock import SystemClock
        from journeykit.server.feed import ORIGIN, WorkspaceFeed, start

        plan = start(
            self.ws.store,
            self.state,
            self.spec.automations,
            self.name,
            max_age=self.max_age,
            replay=self.settings.orchestrate_replay,
            from_now=self.settings.orchestrate_from_now,
            settings=self.engine_settings,
            now=SystemClock().now(),
            stop=self.stopping,
        )
        self.feed = WorkspaceFeed(
            self._lend,
            self.state,
            self.name,
            plan.end or ORIGIN,
            max_age=self.max_age,
            follow=True,
            wake=self.wake,
        )
        self._thread = threading.Thread(target=self._run, name="orchestrator", daemon=True)
        self._thread.start()
        log.info(
            "orchestrator started",
            extra={
                "automations": [a.id for a in self.spec.automations],
                "backlog": plan.events,
                "first_run": plan.stored is None,
            },
        )

    def _run(self) -> None:
        from journeykit.orchestrate.worker import run_worker

        try:
            self.stats = run_worker(
                self.state,
                self.spec.automations,
                self.feed,
                self.stopping,
                settings=self.worker_settings,
                engine_settings=self.engine_settings,
                rates=self.spec.send_rates,
            )
        except Exception as exc:  # keep the reason for /readyz and the log
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("the orchestrator stopped")

    @property
    def alive(self) -> bool:
        """Whether the orchestrator thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def notify(self) -> None:
        """New events are in the store: read them now."""
        self.wake.set()

    def stop(self, timeout: float = 30.0) -> bool:
        """Handle every stored event, let sending finish, then stop. True if all was handled."""
        from journeykit.server.feed import Position, end_position

        drained = True
        if self.alive and self.feed is not None:
            target = end_position(self.ws.store)
            deadline = time.monotonic() + timeout
            while target is not None and self.alive:
                at: Position | None = self.feed.position
                if at is not None and at >= target:
                    break
                if time.monotonic() >= deadline:
                    drained = False
                    break
                self.wake.set()
                time.sleep(0.05)
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.state.dispose()
        log.info("orchestrator stopped", extra={"drained": drained, "stats": repr(self.stats)})
        return drained

    def health(self) -> dict[str, Any]:
        """What /readyz shows about the orchestrator."""
        return {"alive": self.alive, "error": self.error}

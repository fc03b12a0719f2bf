"""The worker loop and its settings: events in, timers fired, schedules run, outbox sent.

Run one worker on SQLite; on PostgreSQL run as many as needed (they share timers and the
outbox through row locks, and each event should reach one worker: partition the source by
person when several workers read events).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa

from .clock import Clock
from .dispatch import Dispatcher, RetryPolicy
from .engine import Engine, EngineSettings
from .spec import Automation
from .state import StateStore, outbox_t
from .transports import SmtpTransport, Transport, WebhookTransport

log = logging.getLogger("journeykit.orchestrate.worker")


@dataclass(frozen=True)
class OrchestrateSettings:
    """Where state lives and how messages go out; ``from_env`` reads
    ``JOURNEYKIT_ORCHESTRATE_<FIELD>`` (for example ``JOURNEYKIT_ORCHESTRATE_SMTP_PORT=2525``)."""

    state_url: str = "sqlite:///journeykit-data/orchestrate.sqlite"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "journeykit@localhost"
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    webhook_timeout: float = 10.0
    max_attempts: int = 6
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 1800.0
    lease_seconds: float = 300.0
    concurrency: int = 4
    poll_interval: float = 0.2
    batch_size: int = 500

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OrchestrateSettings:
        """Settings from ``JOURNEYKIT_ORCHESTRATE_*`` variables (others keep their defaults).

        >>> OrchestrateSettings.from_env({"JOURNEYKIT_ORCHESTRATE_SMTP_PORT": "2525"}).smtp_port
        2525
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"JOURNEYKIT_ORCHESTRATE_{f.name.upper()}")
            if raw is None:
                continue
            default = getattr(cls, f.name)
            if isinstance(default, bool):
                values[f.name] = raw.lower() in ("1", "true", "yes", "on")
            elif isinstance(default, int):
                values[f.name] = int(raw)
            elif isinstance(default, float):
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        return cls(**values)

    def retry_policy(self) -> RetryPolicy:
        """The retry policy these settings describe."""
        return RetryPolicy(
            max_attempts=self.max_attempts,
            base=timedelta(seconds=self.backoff_base_seconds),
            max_delay=timedelta(seconds=self.backoff_max_seconds),
        )


def default_transports(settings: OrchestrateSettings) -> dict[str, Transport]:
    """Webhooks and CRM tasks over httpx, e-mail over SMTP, as configured."""
    web = WebhookTransport(timeout=settings.webhook_timeout)
    mail = SmtpTransport(
        settings.smtp_host,
        settings.smtp_port,
        sender=settings.smtp_sender,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username or None,
        password=settings.smtp_password or None,
    )
    return {"webhook": web, "crm_task": web, "email": mail}


class Source(Protocol):
    """Where a worker gets events from."""

    def poll(self, max_events: int, timeout: float) -> list[Mapping[str, Any]]:
        """Up to ``max_events`` events, waiting at most ``timeout`` seconds for the first."""
        ...


class QueueSource:
    """Events put on a :class:`queue.Queue` by another thread (for example the collector)."""

    def __init__(self, q: queue.Queue[Mapping[str, Any]] | None = None) -> None:
        self.queue: queue.Queue[Mapping[str, Any]] = q if q is not None else queue.Queue()

    def put(self, event: Mapping[str, Any]) -> None:
        """Add an event."""
        self.queue.put(event)

    def poll(self, max_events: int, timeout: float) -> list[Mapping[str, Any]]:
        """Drain up to ``max_events`` events."""
        out: list[Mapping[str, Any]] = []
        try:
            out.append(self.queue.get(timeout=timeout) if timeout > 0 else self.queue.get_nowait())
            while len(out) < max_events:
                out.append(self.queue.get_nowait())
        except queue.Empty:
            pass
        return out


class IterableSource:
    """Events from an iterable (a file already read, a generator); ``exhausted`` at its end."""

    def __init__(self, events: Iterable[Mapping[str, Any]]) -> None:
        self._it: Iterator[Mapping[str, Any]] = iter(events)
        self.exhausted = False

    def poll(self, max_events: int, timeout: float) -> list[Mapping[str, Any]]:
        """The next ``max_events`` events."""
        out: list[Mapping[str, Any]] = []
        for event in self._it:
            out.append(event)
            if len(out) >= max_events:
                return out
        self.exhausted = True
        return out


@dataclass(frozen=True)
class WorkerStats:
    """What a worker did before it stopped (``recovered``: messages a stopped run left
    half-sent, offered again at start)."""

    events: int = 0
    entered: int = 0
    fired: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    recovered: int = 0


def recover_sending(store: StateStore, now: datetime) -> int:
    """Offer again, at once, the messages a stopped worker left ``sending``.

    On SQLite there is one worker, so a message still ``sending`` when a worker starts was
    being sent by a run that stopped (a crash, a kill): it may or may not have gone out, and
    it is sent again with the same idempotency key. On PostgreSQL other workers may be
    sending right now, so their claims are left to their leases (and only counted).

    Returns:
        How many messages were offered again (PostgreSQL: how many are in flight).
    """
    o = outbox_t.c
    with store.begin() as conn:
        if store.skip_locked:
            n = conn.execute(
                sa.select(sa.func.count()).select_from(outbox_t).where(o.status == "sending")
            ).scalar()
            if n:
                log.info("messages in flight at start (other workers?)", extra={"messages": n})
            return int(n or 0)
        done = conn.execute(
            sa.update(outbox_t)
            .where(o.status == "sending")
            .values(
                status="pending",
                next_attempt_at=now,
                lease_until=None,
                last_error="the worker stopped while sending it; sending again with the same key",
            )
        )
    if done.rowcount:
        log.warning(
            "messages left half-sent by a stopped run are sent again",
            extra={"messages": done.rowcount},
        )
    return int(done.rowcount or 0)


def run_worker(
    state_url: str | StateStore,
    automations: Iterable[Automation],
    source: Source | None = None,
    stop_event: threading.Event | None = None,
    *,
    transports: Mapping[str, Transport] | None = None,
    settings: OrchestrateSettings | None = None,
    engine_settings: EngineSettings | None = None,
    clock: Clock | None = None,
    stop_when_idle: bool = False,
    rates: Mapping[str, float] | None = None,
) -> WorkerStats:
    """Run the orchestration loop until ``stop_event`` is set.

    Each round takes a batch of events from ``source``, fires due timers, runs due schedules
    and sends due messages; it sleeps ``settings.poll_interval`` when there was nothing to do.

    Args:
        state_url: the state (URL or store).
        automations: the automations to run.
        source: where events come from (None: timers, schedules and the outbox only).
        stop_event: set it to stop the loop after the current round.
        transports: message transports by kind (default: from ``settings``).
        settings: transport, retry and loop settings (default: ``from_env()``).
        engine_settings: global caps, quiet hours, batch size.
        clock: the clock (tests).
        stop_when_idle: stop once the source is exhausted and nothing is due (batch jobs, tests).
        rates: most messages sent per second, by channel (``"*"``: all together).

    A source may have ``attach(engine)`` (called once, before the first poll) and
    ``commit()`` (called after each poll's events are handled, to remember its position) and
    ``idle(seconds)`` (wait for events instead of sleeping).
    Messages a stopped run left ``sending`` are sent again first (:func:`recover_sending`).
    """
    settings = settings or OrchestrateSettings.from_env()
    stop_event = stop_event or threading.Event()
    store = state_url if isinstance(state_url, StateStore) else StateStore(state_url)
    engine = Engine(automations, store, clock=clock, settings=engine_settings)
    own_transports = transports is None
    senders = default_transports(settings) if transports is None else dict(transports)
    dispatcher = Dispatcher(
        store,
        senders,
        clock=engine.clock,
        retry=settings.retry_policy(),
        lease=timedelta(seconds=settings.lease_seconds),
        concurrency=settings.concurrency,
        rates=rates,
    )
    totals = dict.fromkeys(("events", "entered", "fired", "sent", "retried", "dead"), 0)
    totals["recovered"] = recover_sending(store, engine.clock.now())
    attach = getattr(source, "attach", None)
    if attach is not None:
        attach(engine)
    commit = getattr(source, "commit", None)
    idle = getattr(source, "idle", None)
    next_schedule = 0.0
    try:
        while not stop_event.is_set():
            busy = False
            if source is not None:
                events = source.poll(settings.batch_size, 0.0)
                if events:
                    r = engine.handle_batch(events)
                    totals["events"] += r.events
                    totals["entered"] += r.entered
                    busy = True
                if commit is not None:
                    commit()
            fired = engine.fire_due_timers(limit=settings.batch_size)
            totals["fired"] += fired.fired
            totals["entered"] += fired.entered
            busy = busy or fired.fired > 0
            if time.monotonic() >= next_schedule:
                totals["entered"] += engine.run_schedules().entered
                next_schedule = time.monotonic() + 1.0
            d = dispatcher.dispatch_due(limit=settings.batch_size)
            totals["sent"] += d.sent
            totals["retried"] += d.retried
            totals["dead"] += d.dead
            busy = busy or d.claimed > 0
            if not busy:
                exhausted = source is None or getattr(source, "exhausted", False)
                if stop_when_idle and exhausted and not dispatcher.held_back:
                    break
                if idle is not None:
                    idle(settings.poll_interval)  # returns early when new events arrive
                else:
                    stop_event.wait(settings.poll_interval)
    finally:
        dispatcher.close()
        if own_transports:
            for t in senders.values():
                close = getattr(t, "close", None)
                if close is not None:
                    close()
    return WorkerStats(**totals)

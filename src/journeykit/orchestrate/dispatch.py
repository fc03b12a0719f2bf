"""The outbox dispatcher: claim due messages, send them, retry with backoff, dead-letter.

Claims are short transactions (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) that mark rows
``sending`` with a lease, after checking the suppression list (a listed person or address ends
``suppressed``, never sent); a worker that dies loses its lease and another worker sends the
message again with the same idempotency key. Results are recorded with a fencing check
(status and attempt number), so a late worker cannot overwrite a newer attempt.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from journeykit.errors import TerminalFailure, TransientFailure

from . import suppression
from .clock import Clock, SystemClock
from .state import StateStore, outbox_t
from .transports import OutboxMessage, Transport


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``base * factor**(attempt-1)``, capped, with +/- ``jitter``.

    >>> RetryPolicy(jitter=0).delay(3)
    datetime.timedelta(seconds=8)
    """

    max_attempts: int = 6
    base: timedelta = timedelta(seconds=2)
    factor: float = 2.0
    max_delay: timedelta = timedelta(minutes=30)
    jitter: float = 0.1

    def delay(self, attempt: int) -> timedelta:
        """How long to wait after failed attempt number ``attempt`` (1-based)."""
        seconds = min(
            self.base.total_seconds() * self.factor ** (attempt - 1), self.max_delay.total_seconds()
        )
        if self.jitter:
            seconds *= 1 + random.uniform(-self.jitter, self.jitter)
        return timedelta(seconds=seconds)


@dataclass(frozen=True)
class DispatchResult:
    """What one dispatch round did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0


class Dispatcher:
    """Sends due outbox messages through the transports named by message kind.

    Args:
        state: the orchestration state.
        transports: ``{"webhook": ..., "crm_task": ..., "email": ..., "emit": ...}``; a kind
            without a transport is dead-lettered ("no transport").
        clock: the clock (a manual one in tests).
        retry: the retry policy.
        lease: how long a claim holds a message before another worker may take it over.
        concurrency: messages sent in parallel (threads).
        rates: most messages sent per second, by channel (``"*"``: all channels together);
            messages over the rate wait in the outbox for the next round.
    """

    def __init__(
        self,
        state: StateStore,
        transports: Mapping[str, Transport],
        *,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        lease: timedelta = timedelta(minutes=5),
        concurrency: int = 1,
        rates: Mapping[str, float] | None = None,
    ) -> None:
        self.state = state
        self.rates = {ch: _Bucket(rate) for ch, rate in (rates or {}).items()}
        self.held_back = 0  # due messages the last claim left for a later round (rates)
        self.transports = dict(transports)
        self.clock = clock or SystemClock()
        self.retry = retry or RetryPolicy()
        self.lease = lease
        self.concurrency = max(1, concurrency)
        self._pool = ThreadPoolExecutor(self.concurrency) if self.concurrency > 1 else None

    def close(self) -> None:
        """Stop the sending threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def dispatch_due(self, limit: int = 200) -> DispatchResult:
        """Claim up to ``limit`` due messages, send them and record the outcomes.

        At most ``concurrency`` messages are in flight, and outcomes are recorded as soon as
        ``concurrency`` of them are known, so a crash leaves at most ``2 * concurrency``
        messages sent but not marked (they are sent again, with the same key, once their lease
        runs out).
        """
        messages = self.state.run(lambda conn: self._claim(conn, limit))
        totals = [0, 0, 0, 0]
        done: list[tuple[OutboxMessage, tuple[str, str | None]]] = []

        def flush() -> None:
            if done:
                batch, outcomes = [m for m, _ in done], [o for _, o in done]
                r = self.state.run(lambda conn: self._record(conn, batch, outcomes))
                for i, v in enumerate((r.claimed, r.sent, r.retried, r.dead)):
                    totals[i] += v
                done.clear()

        if self._pool is None:
            for m in messages:
                done.append((m, self._send(m)))
                flush()
        else:
            queue = iter(messages)
            running: dict[Future[tuple[str, str | None]], OutboxMessage] = {}
            while True:
                while len(running) < self.concurrency:
                    item = next(queue, None)
                    if item is None:
                        break
                    running[self._pool.submit(self._send, item)] = item
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    done.append((running.pop(future), future.result()))
                if len(done) >= self.concurrency:
                    flush()
            flush()
        return DispatchResult(*totals)

    def _claim(self, conn: Connection, limit: int) -> list[OutboxMessage]:
        now = self.clock.now()
        o = outbox_t.c
        # a claim whose worker vanished: offer the message again
        conn.execute(
            sa.update(outbox_t)
            .where(o.status == "sending", o.lease_until < now)
            .values(status="pending", last_error="lease expired (worker stopped?); sending again")
        )
        q = (
            sa.select(
                o.outbox_id, o.idem_key, o.kind, o.channel, o.automation_id, o.journey_id,
                o.person_id, o.step_id, o.payload, o.attempts,
            )
            .where(o.status == "pending", o.next_attempt_at <= now)
            .order_by(o.next_attempt_at, o.outbox_id)
            .limit(limit)
        )  # fmt: skip
        if self.state.skip_locked:
            q = q.with_for_update(skip_locked=True)
        rows = list(conn.execute(q))
        if self.rates:
            allowed = [r for r in rows if self._allowed(r.channel)]
            self.held_back = len(rows) - len(allowed)
            rows = allowed
        if not rows:
            return []
        payloads = [json.loads(r.payload) for r in rows]
        # the suppression list is read in the claiming transaction: nothing listed goes out
        blocked = suppression.reasons(
            conn,
            [
                (r.person_id, p.get("to") if r.kind == "email" else None, r.channel)
                for r, p in zip(rows, payloads, strict=True)
                if r.kind != "emit"
            ],
        )
        outgoing = [i for i, r in enumerate(rows) if r.kind != "emit"]
        stopped = {outgoing[i]: why for i, why in blocked.items()}
        if stopped:
            conn.execute(
                sa.update(outbox_t)
                .where(o.outbox_id == sa.bindparam("b_id"))
                .values(status="suppressed", last_error=sa.bindparam("v_err"), lease_until=None),
                [{"b_id": rows[i].outbox_id, "v_err": why} for i, why in stopped.items()],
            )
        keep = [i for i in range(len(rows)) if i not in stopped]
        if not keep:
            return []
        conn.execute(
            sa.update(outbox_t)
            .where(o.outbox_id.in_([rows[i].outbox_id for i in keep]))
            .values(status="sending", lease_until=now + self.lease, attempts=o.attempts + 1)
        )
        return [
            OutboxMessage(
                r.outbox_id, r.idem_key, r.kind, r.channel, r.automation_id, r.journey_id,
                r.person_id, r.step_id, payloads[i], r.attempts + 1,
            )
            for i in keep
            for r in [rows[i]]
        ]  # fmt: skip

    def _allowed(self, channel: str) -> bool:
        buckets = [b for b in (self.rates.get(channel), self.rates.get("*")) if b is not None]
        if all(b.ready() for b in buckets):
            for b in buckets:
                b.take()
            return True
        return False

    def _send(self, message: OutboxMessage) -> tuple[str, str | None]:
        transport = self.transports.get(message.kind)
        if transport is None:
            if message.kind == "emit":
                return "sent", None  # no event sink configured: the event was handled internally
            return "terminal", f"no transport for {message.kind!r} messages"
        try:
            transport.send(message)
        except TransientFailure as exc:
            return "transient", str(exc)
        except TerminalFailure as exc:
            return "terminal", str(exc)
        except Exception as exc:  # a transport bug must not stop the worker; keep the reason
            return "transient", f"{type(exc).__name__}: {exc}"
        return "sent", None

    def _record(
        self,
        conn: Connection,
        messages: list[OutboxMessage],
        outcomes: list[tuple[str, str | None]],
    ) -> DispatchResult:
        now = self.clock.now()
        o = outbox_t.c
        fence = sa.and_(
            o.outbox_id == sa.bindparam("b_id"),
            o.status == "sending",
            o.attempts == sa.bindparam("b_att"),
        )
        sent: list[dict[str, Any]] = []
        retry: list[dict[str, Any]] = []
        dead: list[dict[str, Any]] = []
        for m, (outcome, reason) in zip(messages, outcomes, strict=True):
            key = {"b_id": m.outbox_id, "b_att": m.attempts}
            if outcome == "sent":
                sent.append(key)
            elif outcome == "transient" and m.attempts < self.retry.max_attempts:
                retry.append({**key, "v_next": now + self.retry.delay(m.attempts), "v_err": reason})
            else:
                why = f"{reason} (attempt {m.attempts} of {self.retry.max_attempts})"
                dead.append({**key, "v_err": why})
        if sent:
            conn.execute(
                sa.update(outbox_t)
                .where(fence)
                .values(status="sent", sent_at=now, lease_until=None),
                sent,
            )
        if retry:
            conn.execute(
                sa.update(outbox_t)
                .where(fence)
                .values(
                    status="pending",
                    next_attempt_at=sa.bindparam("v_next"),
                    last_error=sa.bindparam("v_err"),
                    lease_until=None,
                ),
                retry,
            )
        if dead:
            conn.execute(
                sa.update(outbox_t)
                .where(fence)
                .values(status="dead", last_error=sa.bindparam("v_err"), lease_until=None),
                dead,
            )
        return DispatchResult(len(messages), len(sent), len(retry), len(dead))


class _Bucket:
    """A token bucket: ``rate`` tokens a second, holding at most one second's worth."""

    def __init__(self, rate: float) -> None:
        self.rate = float(rate)
        self.capacity = max(1.0, self.rate)
        self.tokens = self.capacity
        self.at = time.monotonic()

    def ready(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return self.tokens >= 1.0

    def take(self) -> None:
        self.tokens -= 1.0

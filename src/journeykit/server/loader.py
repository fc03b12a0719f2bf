"""The background loader: moves spooled messages into the store in batches.

It reads records from the spool's committed position, decodes their accepted messages, loads
them with :func:`journeykit.ingest.load_segment` (which stitches identities and keeps journey
order), and only then moves the committed position. A crash between the load and the commit
replays those records on the next start; the loader stores each message id once, so the
replay adds nothing twice.

Nothing acknowledged is dropped and no message can stop the loader: a record that cannot be
read, a message nested deeper than the limit, and every message the load refuses go to the
spool's dead letters with the reason (writing a dead letter cannot fail on what the message
holds). A batch the store refuses as a whole is retried with backoff, then split in halves
until the message that fails is alone, which is dead-lettered; the rest are stored. Only a
failing store (disk, memory) keeps the loader retrying the same position, and readiness says
so (:meth:`Loader.status`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from journeykit.server.messages import (
    MAX_DEPTH,
    decode_record,
    record_events,
    record_received,
    too_deep,
)
from journeykit.server.spool import DeadLetter

if TYPE_CHECKING:
    from journeykit.ingest.load import LoadReport
    from journeykit.server.spool import Position, Spool
    from journeykit.store import Workspace

log = logging.getLogger("journeykit.server.loader")


@dataclass
class LoaderStats:
    """Counters since the loader started."""

    loads: int = 0
    messages: int = 0
    loaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    dead_letters: int = 0
    last_load_seconds: float = 0.0
    last_error: str | None = None
    last_error_at: datetime | None = None
    #: loads in a row that failed as a whole (the store is failing); 0 once one succeeds
    failures: int = 0
    last_progress_at: datetime | None = None


@dataclass(frozen=True)
class LoaderStatus:
    """How far behind the loader is, and whether it is stuck.

    Attributes:
        alive: the loader thread runs.
        failing: the last attempt to load failed as a whole (the store is failing).
        lag_events: messages acknowledged and not yet in the store (``None`` while the
            backlog a previous run left is still being counted).
        lag_seconds: how long ago the oldest message not yet in the store was received.
        last_error: the last failure, when there was one.
    """

    alive: bool
    failing: bool
    lag_events: int | None
    lag_seconds: float
    last_error: str | None
    last_error_at: datetime | None
    last_progress_at: datetime | None
    dead_letters: int


@dataclass
class _Batch:
    """Messages on their way to the store, each with where it came from."""

    messages: list[Any]
    origins: list[tuple[bytes, Position, int]]  # (record, its end, index in the record)


class Loader:
    """Moves spooled records into the store on a background thread.

    Args:
        ws: the workspace to load into.
        spool: the spool to read from.
        batch_messages: most messages in one load.
        linger_seconds: how long to wait for a fuller batch when few messages are waiting.
        retries: tries of a whole batch before it is split.
        max_depth: messages nested deeper are dead-lettered without trying to load them.
    """

    def __init__(
        self,
        ws: Workspace,
        spool: Spool,
        *,
        batch_messages: int = 50_000,
        linger_seconds: float = 0.5,
        retries: int = 3,
        max_depth: int = MAX_DEPTH,
    ) -> None:
        self.ws = ws
        self.spool = spool
        self.batch_messages = batch_messages
        self.linger_seconds = linger_seconds
        self.retries = retries
        self.max_depth = max_depth
        self.stats = LoaderStats()
        # what a previous run left is counted by the thread before it loads anything
        self._left_until = spool.left_end
        self._counted = False
        self._oldest: tuple[Position, datetime | None] | None = None
        self._stop = threading.Event()
        self._hurry = threading.Event()
        self._done = threading.Condition()
        self._thread: threading.Thread | None = None
        #: called on the loader thread after each load that stored messages (the live path)
        self.listeners: list[Callable[[], None]] = []

    @property
    def alive(self) -> bool:
        """Whether the loader thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the loader thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="spool-loader", daemon=True)
            self._thread.start()

    def flush(self, timeout: float = 60.0) -> bool:
        """Load everything durable now; True once it is in the store, False on timeout."""
        target = self.spool.durable
        deadline = time.monotonic() + timeout
        with self._done:
            while self.spool.committed < target:
                if not self.alive:
                    return False
                self._hurry.set()
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._done.wait(min(left, 0.2))
        return True

    def stop(self, timeout: float = 60.0) -> bool:
        """Load what is spooled (within ``timeout``), then stop. True if all of it was loaded."""
        flushed = self.flush(timeout) if self.alive else False
        self._stop.set()
        self._hurry.set()
        if self._thread is not None:
            self._thread.join(timeout)
        return flushed

    def status(self) -> LoaderStatus:
        """The loader's lag and health, for readiness and metrics."""
        s = self.stats
        return LoaderStatus(
            alive=self.alive,
            failing=s.failures > 0,
            lag_events=self.spool.unloaded if self._counted else None,
            lag_seconds=self._lag_seconds(),
            last_error=s.last_error,
            last_error_at=s.last_error_at,
            last_progress_at=s.last_progress_at,
            dead_letters=s.dead_letters,
        )

    def _lag_seconds(self) -> float:
        committed = self.spool.committed
        if committed >= self.spool.durable:
            return 0.0
        if self._oldest is None or self._oldest[0] != committed:
            try:  # the record at the committed position is the oldest one waiting
                frames, _ = self.spool.read(committed, max_bytes=1)
            except OSError:  # loaded and deleted meanwhile
                return 0.0
            received = record_received(frames[0].payload) if frames else None
            self._oldest = (committed, received)
        received = self._oldest[1]
        if received is None:
            return 0.0
        return max((_utcnow() - received).total_seconds(), 0.0)

    def _count_left(self) -> None:
        """Count the messages of the backlog a previous run left (headers only)."""
        if self._counted:
            return
        position, total = self.spool.committed, 0
        while position < self._left_until and not self._stop.is_set():
            frames, end = self.spool.read(position)
            total += sum(record_events(f.payload) for f in frames if f.end <= self._left_until)
            if end <= position:
                break
            position = end
        self.spool.count_unloaded(total)
        self._counted = True

    def _run(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            # the event loop answers requests; loading may wait for a free core
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 5)
        try:
            self._count_left()
        except Exception:
            log.exception("counting the spool's backlog failed")
            self._counted = True
        position = self.spool.committed
        while not self._stop.is_set():
            try:
                position = self._step(position)
            except Exception as exc:  # keep the thread alive; the batch is retried next time
                self._failed(exc)
                log.exception("loading the spool failed; retrying")
                self._stop.wait(1.0)

    def _failed(self, exc: BaseException) -> None:
        self.stats.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        self.stats.last_error_at = _utcnow()
        self.stats.failures += 1

    def _step(self, position: Position) -> Position:
        if not self.spool.wait_for_data(position, 0.2):
            return position
        # a small backlog waits a little for company; a flush or a full batch goes now
        waited = 0.0
        while not self._hurry.is_set() and not self._stop.is_set():
            if self._enough(position) or waited >= self.linger_seconds:
                break
            self._hurry.wait(0.05)
            waited += 0.05
        self._hurry.clear()
        frames, end = self.spool.read(position)
        batch = _Batch([], [])
        dead: list[DeadLetter] = []
        received: datetime | None = None
        used = position
        count = 0
        for fr in frames:
            count += record_events(fr.payload)
            try:
                record = decode_record(fr.payload)
            except Exception as exc:
                dead.append(DeadLetter(f"cannot decode the record: {exc}", fr.payload, fr.end))
            else:
                received = max(received or record.received, record.received)
                for i, message in enumerate(record.messages):
                    where = too_deep(message, self.max_depth)
                    if where is not None:
                        reason = f"nested more than {self.max_depth} levels deep"
                        dead.append(DeadLetter(reason, fr.payload, fr.end, i, where, message))
                    else:
                        batch.messages.append(message)
                        batch.origins.append((fr.payload, fr.end, i))
            used = fr.end
            if len(batch.messages) >= self.batch_messages:
                break
        else:
            used = end
        if batch.messages:
            started = time.perf_counter()
            dead += self._load(batch, received)
            self.stats.last_load_seconds = time.perf_counter() - started
        if dead:
            with self.ws.store.lock:  # erasure rewrites the dead letters holding it
                self.spool.dead_letters(dead)
            self.stats.dead_letters += len(dead)
            log.error(
                "messages the store cannot take were set aside in the dead letters",
                extra={"messages": len(dead), "first": dead[0].reason},
            )
        self.spool.commit(used, count)
        self.stats.failures = 0
        self.stats.last_progress_at = _utcnow()
        with self._done:
            self._done.notify_all()
        if batch.messages:
            for listener in self.listeners:
                listener()
        return used

    def _enough(self, position: Position) -> bool:
        # about 200 bytes a message: a rough guess is enough to skip the linger
        waiting = self.spool.backlog_bytes()
        return waiting >= self.batch_messages * 200 or self.spool.durable.segment > (
            position.segment
        )

    def _load(
        self, batch: _Batch, received: datetime | None, *, tries: int | None = None
    ) -> list[DeadLetter]:
        """Store a batch; returns the dead letters of the messages the store would not take."""
        from journeykit.ingest import load_segment

        messages = batch.messages
        error = "the load failed"
        # a whole batch (or one message) is tried again; its halves once: data that fails
        # does so every time, and the store failing as a whole is told apart (_systemic)
        for attempt in range(tries or self.retries):
            try:
                report = load_segment(self.ws, messages, received_at=received)
            except Exception as exc:
                if _systemic(exc):
                    # the store itself is failing (disk, memory): keep everything spooled and
                    # try again later; splitting the batch would only dead-letter good data
                    raise
                error = f"{type(exc).__name__}: {exc}"[:2000]
                self.stats.last_error = error
                self.stats.last_error_at = _utcnow()
                log.warning(
                    "a load failed",
                    extra={"messages": len(messages), "attempt": attempt + 1, "error": str(exc)},
                )
                if attempt + 1 < (tries or self.retries):
                    time.sleep(0.2 * 2**attempt)
                continue
            self._count(len(messages), report)
            return self._refused(batch, report)
        if len(messages) == 1:
            record, end, index = batch.origins[0]
            return [DeadLetter(error, record, end, index, None, messages[0])]
        half = len(messages) // 2
        halves = (
            _Batch(messages[:half], batch.origins[:half]),
            _Batch(messages[half:], batch.origins[half:]),
        )
        return [
            letter
            for part in halves
            for letter in self._load(part, received, tries=self.retries if half == 1 else 1)
        ]

    def _refused(self, batch: _Batch, report: LoadReport) -> list[DeadLetter]:
        """Dead letters for the messages a load refused (also in the ``rejects`` table)."""
        if not report.rejected:
            return []
        refused = {(r.row or 0) - 1: (r.field, r.reason) for r in report.rejects}
        # a report lists the first refused rows only: find the rest when some are unaccounted
        if report.loaded + report.duplicates + len(refused) < len(batch.messages):
            refused.update(self._all_refused(batch, report))
        out = []
        for i, (field, reason) in sorted(refused.items()):
            if 0 <= i < len(batch.messages):
                record, end, index = batch.origins[i]
                out.append(DeadLetter(reason, record, end, index, field, batch.messages[i]))
        return out

    def _all_refused(self, batch: _Batch, report: LoadReport) -> dict[int, tuple[Any, str]]:
        """Every refused message of a load whose report lists only the first ones.

        Messages that could not become rows are found again here; the rest are in the
        ``rejects`` table, numbered among the rows the load was given.
        """
        from journeykit.errors import InputError
        from journeykit.ingest.segment import message_to_row

        early: dict[int, tuple[Any, str]] = {}
        rows: list[int] = []
        for i, message in enumerate(batch.messages):
            try:
                message_to_row(message)
            except InputError as exc:
                early[i] = (exc.field, exc.reason)
            except Exception as exc:
                early[i] = ("message", str(exc))
            else:
                rows.append(i)
        later = self.ws.store.fetchall(
            "SELECT row, field, reason FROM rejects WHERE load_id = ?", [report.load_id]
        )
        for row, field, reason in later:
            if row is not None and 0 < row <= len(rows):
                early[rows[row - 1]] = (field, reason)
        return early

    def _count(self, n: int, report: Any) -> None:
        s = self.stats
        s.loads += 1
        s.messages += n
        s.loaded += report.loaded
        s.duplicates += report.duplicates
        s.rejected += report.rejected
        if report.rejected:
            log.warning(
                "the loader refused spooled messages",
                extra={
                    "rejected": report.rejected,
                    "first": [(r.row, r.field, r.reason) for r in report.rejects[:3]],
                },
            )
        log.info(
            "loaded from the spool",
            extra={"messages": n, "loaded": report.loaded, "duplicates": report.duplicates},
        )


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


_SYSTEMIC = (
    "io error",
    "out of memory",
    "no space left",
    "read-only file system",
    "permission denied",
    "database has been invalidated",
)
#: DuckDB's errors that say the database (not a value) is at fault
_SYSTEMIC_ENGINE = {"IOException", "OutOfMemoryException", "PermissionException", "FatalException"}


def _systemic(exc: BaseException) -> bool:
    """Whether a failed load says the store is unwell rather than that the data is bad.

    The engine's error class decides when there is one: its message may quote the data
    (a value reading "disk" must not make a message unloadable forever).
    """
    if isinstance(exc, MemoryError | OSError):
        return True
    cause = getattr(exc, "cause", None) or exc.__cause__
    if cause is not None and type(cause).__module__.startswith(("duckdb", "_duckdb")):
        return type(cause).__name__ in _SYSTEMIC_ENGINE or "invalidated" in str(cause)
    text = str(exc).lower()
    return any(word in text for word in _SYSTEMIC)

"""The background loader: moves spooled messages into the store in batches.

It reads records from the spool's committed position, decodes their accepted messages, loads
them with :func:`journeykit.ingest.load_segment` (which stitches identities and keeps journey
order), and only then moves the committed position. A crash between the load and the commit
replays those records on the next start; the loader stores each message id once, so the
replay adds nothing twice.

A batch the store refuses is retried with backoff, then split in halves until the message
that fails is alone; that message goes to the spool's dead letters with the reason, and the
rest are stored.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from journeykit.server.messages import decode_record

if TYPE_CHECKING:
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


class Loader:
    """Moves spooled records into the store on a background thread.

    Args:
        ws: the workspace to load into.
        spool: the spool to read from.
        batch_messages: most messages in one load.
        linger_seconds: how long to wait for a fuller batch when few messages are waiting.
        retries: tries of a whole batch before it is split.
    """

    def __init__(
        self,
        ws: Workspace,
        spool: Spool,
        *,
        batch_messages: int = 50_000,
        linger_seconds: float = 0.5,
        retries: int = 3,
    ) -> None:
        self.ws = ws
        self.spool = spool
        self.batch_messages = batch_messages
        self.linger_seconds = linger_seconds
        self.retries = retries
        self.stats = LoaderStats()
        self._stop = threading.Event()
        self._hurry = threading.Event()
        self._done = threading.Condition()
        self._thread: threading.Thread | None = None

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

    def _run(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            # the event loop answers requests; loading may wait for a free core
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 5)
        position = self.spool.committed
        while not self._stop.is_set():
            try:
                position = self._step(position)
            except Exception as exc:  # keep the thread alive; the batch is retried next time
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("loading the spool failed; retrying")
                self._stop.wait(1.0)

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
        messages: list[dict[str, Any]] = []
        received: datetime | None = None
        used = position
        for fr in frames:
            try:
                record = decode_record(fr.payload)
            except Exception as exc:
                self.spool.dead_letter(fr.payload, f"cannot decode the record: {exc}")
                self.stats.dead_letters += 1
            else:
                messages.extend(record.messages)
                received = max(received or record.received, record.received)
            used = fr.end
            if len(messages) >= self.batch_messages:
                break
        else:
            used = end
        if messages:
            started = time.perf_counter()
            self._load(messages, received)
            self.stats.last_load_seconds = time.perf_counter() - started
        self.spool.commit(used)
        with self._done:
            self._done.notify_all()
        return used

    def _enough(self, position: Position) -> bool:
        # about 200 bytes a message: a rough guess is enough to skip the linger
        waiting = self.spool.backlog_bytes()
        return waiting >= self.batch_messages * 200 or self.spool.durable.segment > (
            position.segment
        )

    def _load(self, messages: list[dict[str, Any]], received: datetime | None) -> None:
        from journeykit.ingest import load_segment

        for attempt in range(self.retries):
            try:
                report = load_segment(self.ws, messages, received_at=received)
            except Exception as exc:
                if _systemic(exc):
                    # the store itself is failing (disk, memory): keep everything spooled and
                    # try again later; splitting the batch would only dead-letter good data
                    raise
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "a load failed",
                    extra={"messages": len(messages), "attempt": attempt + 1, "error": str(exc)},
                )
                time.sleep(0.2 * 2**attempt)
                continue
            self._count(len(messages), report)
            return
        if len(messages) == 1:
            self.spool.dead_letter(messages, self.stats.last_error or "the load failed")
            self.stats.dead_letters += 1
            log.error("a message could not be stored; kept in the dead letters")
            return
        half = len(messages) // 2
        self._load(messages[:half], received)
        self._load(messages[half:], received)

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


_SYSTEMIC = ("io error", "out of memory", "no space", "disk", "read-only", "permission denied")


def _systemic(exc: BaseException) -> bool:
    """Whether a failed load says the store is unwell rather than that the data is bad."""
    if isinstance(exc, MemoryError | OSError):
        return True
    text = f"{exc} {getattr(exc, 'cause', '')}".lower()
    return any(word in text for word in _SYSTEMIC)

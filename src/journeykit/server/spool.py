"""The spool: an append-only, fsynced log of received requests, in numbered segment files.

Layout (``<workspace>/spool/``)::

    00000000000000000001.seg   frames, appended: <u32 length><u32 crc32> payload
    00000000000000000002.seg
    committed                  "<segment> <offset>": the first byte not yet in the store
    dead/records.jsonl         records the loader could not store, with the reason

A request is acknowledged only after its frame is written and ``fdatasync``'d. A writer thread
takes the frames of every request waiting at that moment and writes them with one write and
one ``fdatasync`` (group commit), so concurrent requests share the cost of the flush.

The loader reads frames from the committed position up to the durable end, stores them, then
moves the committed position (written to a temporary file, fsynced and renamed over
``committed``); segments wholly before it are deleted. On start the torn tail of the last
segment (a frame cut short by a crash, never acknowledged) is cut off and new frames go to a
fresh segment, so replay starts at the committed position and sees only whole frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import struct
import threading
import zlib
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from journeykit.errors import WorkspaceError

log = logging.getLogger("journeykit.server.spool")

FRAME = struct.Struct("<II")
SUFFIX = ".seg"
COMMITTED = "committed"


@dataclass(frozen=True, order=True)
class Position:
    """A place in the spool: a segment number and a byte offset in it."""

    segment: int
    offset: int


@dataclass(frozen=True)
class Frame:
    """One spooled record and the position just after it."""

    payload: bytes
    end: Position


_NO_MESSAGE = object()


@dataclass(frozen=True)
class DeadLetter:
    """What the loader could not store, and why.

    Attributes:
        reason: why it was not stored.
        record: the spool record as received; kept when the message itself cannot be
            written as JSON (or there is no message: the record could not be read).
        end: the spool position just after the record.
        index: the message's 0-based index among the record's accepted messages.
        field: the field at fault, when known.
        message: the message as the loader read it.
    """

    reason: str
    record: bytes = b""
    end: Position | None = None
    index: int | None = None
    field: str | None = None
    message: Any = _NO_MESSAGE

    def line(self) -> str:
        """One JSON line; never fails on what the message holds (nesting, odd values)."""
        entry: dict[str, Any] = {
            "at": datetime.now(UTC).isoformat(),
            "reason": self.reason,
            "field": self.field,
            "position": f"{self.end.segment}:{self.end.offset}" if self.end else None,
            "index": self.index,
        }
        message = _message_json(self.message) if self.message is not _NO_MESSAGE else None
        if isinstance(self.message, dict) and isinstance(self.message.get("messageId"), str):
            entry["message_id"] = self.message["messageId"]
        head = json.dumps(entry, default=str)
        if message is not None:
            return head[:-1] + ', "message": ' + message + "}"
        # a string never nests: the record as received can always be written
        return head[:-1] + ', "record": ' + json.dumps(self.record.decode("utf-8", "replace")) + "}"


def _message_json(message: Any) -> str | None:
    """A message as JSON text, or ``None`` when it nests too deeply to write."""
    try:
        return json.dumps(message, default=str)
    except (RecursionError, ValueError, TypeError):
        return None


def frame(payload: bytes) -> bytes:
    """The on-disk form of one record.

    >>> frame(b"hi")[:4]
    b'\\x02\\x00\\x00\\x00'
    """
    return FRAME.pack(len(payload), zlib.crc32(payload)) + payload


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _valid_length(path: Path) -> int:
    """The length of the run of whole, intact frames at the start of a segment file."""
    good = 0
    with path.open("rb") as fh:
        while True:
            head = fh.read(FRAME.size)
            if len(head) < FRAME.size:
                return good
            length, crc = FRAME.unpack(head)
            payload = fh.read(length)
            if len(payload) < length or zlib.crc32(payload) != crc:
                return good
            good += FRAME.size + length


class Spool:
    """An append-only, group-committed, segmented log on disk.

    Args:
        folder: where the segment files live (created if missing).
        segment_bytes: size at which a new segment file is started.
        quota_bytes: the most bytes that may wait to be loaded; see :meth:`has_room`.
    """

    def __init__(
        self, folder: Path, *, segment_bytes: int = 64 << 20, quota_bytes: int = 1 << 30
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.segment_bytes = segment_bytes
        self.quota_bytes = quota_bytes
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._data = threading.Condition()
        self._pending: list[tuple[bytes | None, Any, int]] = []
        self._pending_bytes = 0
        self._closing = False
        self._failed: BaseException | None = None
        self._sizes: dict[int, int] = {}
        self._committed = self._recover()
        self._current = max([*self._sizes, self._committed.segment - 1]) + 1
        self._fd = self._create(self._current)
        self._durable = Position(self._current, 0)
        #: everything before this position was spooled by an earlier run
        self.left_end = self._durable
        self._backlog = self._count_backlog()
        # messages spooled and not yet loaded (the caller says how many a record holds)
        self._unloaded = 0
        self._writer: threading.Thread | None = None
        self.appended_records = 0
        self.flushes = 0

    # --- opening -------------------------------------------------------------------------

    def _path(self, segment: int) -> Path:
        return self.folder / f"{segment:020d}{SUFFIX}"

    def _recover(self) -> Position:
        segments = sorted(int(p.stem) for p in self.folder.glob(f"*{SUFFIX}") if p.stem.isdigit())
        committed = self._read_committed(segments[0] if segments else 1)
        for seg in segments:
            if seg < committed.segment:
                self._path(seg).unlink()  # loaded before a crash cut the clean-up short
            else:
                self._sizes[seg] = self._path(seg).stat().st_size
        if self._sizes:
            last = max(self._sizes)
            good = _valid_length(self._path(last))
            if good < self._sizes[last]:
                log.warning(
                    "cutting a torn tail off the spool",
                    extra={"segment": last, "bytes": self._sizes[last] - good},
                )
                with self._path(last).open("r+b") as fh:
                    fh.truncate(good)
                    os.fsync(fh.fileno())
                self._sizes[last] = good
        return committed

    def _read_committed(self, default: int) -> Position:
        path = self.folder / COMMITTED
        try:
            seg, off = path.read_text(encoding="ascii").split()
            return Position(int(seg), int(off))
        except FileNotFoundError:
            return Position(default, 0)
        except ValueError as exc:
            raise WorkspaceError(
                f"the spool's committed position in {path} is damaged ({exc}); "
                "check the file (two numbers: segment and offset)"
            ) from exc

    def _create(self, segment: int) -> int:
        fd = os.open(self._path(segment), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        _fsync_dir(self.folder)
        with self._data:
            self._sizes[segment] = os.fstat(fd).st_size
        return fd

    def _count_backlog(self) -> int:
        return (
            sum(size for seg, size in self._sizes.items() if seg >= self._committed.segment)
            - self._committed.offset
        )

    # --- writing -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer thread."""
        if self._writer is None:
            self._writer = threading.Thread(target=self._write_loop, name="spool-writer")
            self._writer.daemon = True
            self._writer.start()

    def has_room(self, nbytes: int) -> bool:
        """Whether ``nbytes`` more fit under the quota (loaded bytes no longer count)."""
        return self._backlog + self._pending_bytes + nbytes <= self.quota_bytes

    @property
    def healthy(self) -> bool:
        """False once a write or flush failed, or after :meth:`close`."""
        return self._failed is None and not self._closing

    def _submit(self, payload: bytes | None, waiter: Any, count: int = 0) -> None:
        # framed (checksummed) by the writer thread: zlib lets go of the GIL on big buffers,
        # so the event loop goes on meanwhile
        data = payload
        with self._wake:
            if self._failed is not None:
                raise WorkspaceError(f"the spool cannot be written: {self._failed}")
            if self._closing:
                raise WorkspaceError("the spool is closed")
            self._pending.append((data, waiter, count))
            self._pending_bytes += FRAME.size + len(data) if data is not None else 0
            self._wake.notify()

    async def append(self, payload: bytes, count: int = 0) -> None:
        """Write one record; returns once it is on disk (fsynced).

        ``count`` is how many messages the record holds (see :attr:`unloaded`).

        Raises:
            WorkspaceError: the spool is closed or cannot be written.
        """
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._submit(payload, (loop, fut), count)
        await fut

    def append_sync(self, payload: bytes, timeout: float | None = None, count: int = 0) -> None:
        """:meth:`append` for threads: blocks until the record is on disk."""
        fut: Future[None] = Future()
        self._submit(payload, fut, count)
        fut.result(timeout)

    def rotate(self, timeout: float | None = 30.0) -> None:
        """Start a new segment now, so the current one can go once it is loaded.

        Erasing a person calls this: the raw messages that named them leave the disk with
        the segment, instead of waiting for it to fill up.
        """
        fut: Future[None] = Future()
        self._submit(None, fut)
        fut.result(timeout)

    def _write_loop(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._closing:
                    self._wake.wait()
                if not self._pending:
                    return
                batch, self._pending = self._pending, []
                self._pending_bytes = 0
            error: BaseException | None = None
            try:
                self._write(
                    b"".join(frame(data) for data, _, _ in batch if data is not None),
                    sum(count for _, _, count in batch),
                )
                if any(data is None for data, _, _ in batch):
                    self._roll()
            except OSError as exc:
                log.error("spool write failed; refusing further writes", extra={"error": str(exc)})
                error = WorkspaceError(f"the spool write failed: {exc}")
                self._failed = error
            else:
                self.appended_records += len(batch)
                self.flushes += 1
            _settle([w for _, w, _ in batch], error)

    def _roll(self) -> None:
        if not self._sizes[self._current]:
            return
        os.close(self._fd)
        self._current += 1
        self._fd = self._create(self._current)
        with self._data:
            self._durable = Position(self._current, 0)
            self._data.notify_all()

    def _write(self, buf: bytes, count: int = 0) -> None:
        if not buf:
            return
        if self._sizes[self._current] + len(buf) > self.segment_bytes:
            self._roll()
        size = self._sizes[self._current]
        view = memoryview(buf)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        os.fdatasync(self._fd)
        with self._data:
            self._sizes[self._current] = size + len(buf)
            self._durable = Position(self._current, size + len(buf))
            self._backlog += len(buf)
            self._unloaded += count
            self._data.notify_all()

    # --- reading and committing ------------------------------------------------------------

    @property
    def committed(self) -> Position:
        """The first position not yet loaded into the store."""
        return self._committed

    @property
    def durable(self) -> Position:
        """The end of what is on disk."""
        return self._durable

    @property
    def unloaded(self) -> int:
        """Messages spooled and not yet loaded, as counted by :meth:`append` and :meth:`commit`
        (and :meth:`count_unloaded` for what a previous run left)."""
        return max(self._unloaded, 0)

    def count_unloaded(self, count: int) -> None:
        """Add ``count`` messages found in the backlog a previous run left."""
        with self._data:
            self._unloaded += count

    def backlog_bytes(self) -> int:
        """Bytes spooled (or waiting to be) and not yet loaded."""
        return self._backlog + self._pending_bytes

    def wait_for_data(self, after: Position, timeout: float) -> bool:
        """Wait until durable data lies beyond ``after``; False on timeout."""
        with self._data:
            return self._data.wait_for(lambda: self._durable > after, timeout)

    def read(self, start: Position, max_bytes: int = 16 << 20) -> tuple[list[Frame], Position]:
        """Durable frames from ``start`` on, about ``max_bytes`` of them (at least one).

        Returns the frames and the position after the last one (moved on to the next segment
        when a sealed one is used up, so committing it lets that segment go). A damaged frame
        inside a sealed segment (disk corruption) ends that segment: the rest is set aside as
        ``<segment>.seg.damaged`` and reading goes on with the next.
        """
        with self._data:
            durable = self._durable
            sizes = dict(self._sizes)
        frames: list[Frame] = []
        seg, off = start.segment, start.offset
        budget = max_bytes
        while budget > 0 and (seg, off) < (durable.segment, durable.offset):
            end = durable.offset if seg == durable.segment else sizes.get(seg, 0)
            if off >= end:
                seg, off = seg + 1, 0
                continue
            got, off, damaged = self._read_segment(seg, off, end, budget)
            frames.extend(got)
            budget -= sum(len(f.payload) for f in got) or 1
            if damaged:
                self._set_aside(seg, off)
                seg, off = seg + 1, 0
        return frames, Position(seg, off)

    def _read_segment(
        self, seg: int, off: int, end: int, budget: int
    ) -> tuple[list[Frame], int, bool]:
        out: list[Frame] = []
        with self._path(seg).open("rb") as fh:
            fh.seek(off)
            while off < end and budget > 0:
                head = fh.read(FRAME.size)
                if len(head) < FRAME.size:
                    return out, off, True
                length, crc = FRAME.unpack(head)
                if off + FRAME.size + length > end:
                    return out, off, True
                payload = fh.read(length)
                if len(payload) < length or zlib.crc32(payload) != crc:
                    return out, off, True
                off += FRAME.size + length
                budget -= length
                out.append(Frame(payload, Position(seg, off)))
        return out, off, False

    def _set_aside(self, seg: int, off: int) -> None:
        log.error("damaged spool segment set aside", extra={"segment": seg, "offset": off})
        path = self._path(seg)
        with contextlib.suppress(OSError):
            os.link(path, path.with_suffix(SUFFIX + ".damaged"))

    def commit(self, position: Position, count: int = 0) -> None:
        """Record that everything before ``position`` is in the store; drop used-up segments.

        ``count`` is how many messages the records up to ``position`` held.
        """
        tmp = self.folder / (COMMITTED + ".tmp")
        with tmp.open("w", encoding="ascii") as fh:
            fh.write(f"{position.segment} {position.offset}\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.folder / COMMITTED)
        _fsync_dir(self.folder)
        with self._data:
            self._committed = position
            self._unloaded -= count
            gone = [seg for seg in self._sizes if seg < position.segment]
            for seg in gone:
                del self._sizes[seg]
            self._backlog = self._count_backlog()
        for seg in gone:
            with contextlib.suppress(FileNotFoundError):
                self._path(seg).unlink()

    def dead_letter(self, payload: bytes, reason: str, end: Position | None = None) -> Path:
        """Keep a record the loader could not read, with the reason; fsynced."""
        return self.dead_letters([DeadLetter(reason, payload, end)])

    def dead_letters(self, letters: list[DeadLetter]) -> Path:
        """Keep what the loader could not store, one JSON line each, with one fsync.

        Writing cannot fail on what the letters hold (only on the disk): a message that
        cannot be written as JSON is kept as the record it came in.
        """
        folder = self.folder / "dead"
        folder.mkdir(exist_ok=True)
        path = folder / "records.jsonl"
        text = "".join(letter.line() + "\n" for letter in letters)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        return path

    def close(self, timeout: float | None = 30.0) -> None:
        """Write what is waiting, stop the writer and close the current segment."""
        with self._wake:
            self._closing = True
            self._wake.notify_all()
        if self._writer is not None:
            self._writer.join(timeout)
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def drop_loaded(self) -> bool:
        """After :meth:`close`: delete every segment when all of it is loaded (a clean stop).

        Loaded messages then leave the disk at once instead of when their segment is next
        used up. True when the spool was empty of unloaded records and its files are gone.
        """
        if not self._closing or self._committed < self._durable:
            return False
        self.commit(Position(self._current + 1, 0))
        return True


def _settle(waiters: list[Any], error: BaseException | None) -> None:
    """Wake the requests of one flush: thread futures directly, asyncio ones per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for waiter in waiters:
        if isinstance(waiter, Future):
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)
        else:
            loop, fut = waiter
            by_loop.setdefault(loop, []).append(fut)
    for loop, futs in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(_resolve, futs, error)


def _resolve(futs: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for fut in futs:
        if not fut.done():
            if error is None:
                fut.set_result(None)
            else:
                fut.set_exception(error)

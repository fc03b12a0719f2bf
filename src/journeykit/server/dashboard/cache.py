"""Results cached per workspace until its data changes.

A page's heavy numbers (KPIs over all events, a funnel, a retention matrix) are computed once
and kept until the workspace's data fingerprint changes (a load, a merge, an erasure, a new
version of the journey spec) or the entry ages out. The fingerprint is a handful of cheap counts, itself reused for a second so
one page's several lookups cost one check. Computations on one workspace run one at a time
under its engine lock, because the Ibis backend shares the workspace's single DuckDB
connection; a computation may use other cached results (the lock is taken once per thread),
and concurrent requests for one entry compute it once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from journeykit.store import Workspace

T = TypeVar("T")

_FINGERPRINT_SQL = (
    "SELECT (SELECT count(*) FROM events), (SELECT max(ts) FROM events), "
    "(SELECT count(*) FROM loads), (SELECT max(finished_at) FROM loads), "
    "(SELECT count(*) FROM merges WHERE undone_at IS NULL), (SELECT count(*) FROM people), "
    # a new version of the journey spec changes what the numbers mean: recompute them
    "(SELECT max(version) FROM specs)"
)


class WorkspaceCache:
    """An LRU of computed results, keyed by workspace, name and arguments.

    Args:
        max_entries: entries kept in all.
        max_age: seconds an entry lives even when the data has not changed.
        fingerprint_age: seconds a data fingerprint is reused before it is read again.
    """

    def __init__(
        self, *, max_entries: int = 256, max_age: float = 3600.0, fingerprint_age: float = 1.0
    ) -> None:
        self.max_entries = max_entries
        self.max_age = max_age
        self.fingerprint_age = fingerprint_age
        self._entries: OrderedDict[tuple[Any, ...], tuple[Any, float, Any]] = OrderedDict()
        self._prints: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._held = threading.local()
        self._ws_locks: dict[str, threading.RLock] = {}

    def engine_lock(self, ws: Workspace) -> threading.RLock:
        """The lock that serialises queries on one workspace's shared connection."""
        folder = str(ws.path)
        with self._lock:
            lock = self._ws_locks.get(folder)
            if lock is None:
                lock = self._ws_locks[folder] = threading.RLock()
            return lock

    def fingerprint(self, ws: Workspace) -> Any:
        """Cheap counts that change whenever the workspace's data does."""
        folder = str(ws.path)
        now = time.monotonic()
        hit = self._prints.get(folder)
        if hit is not None and now - hit[0] < self.fingerprint_age:
            return hit[1]
        # the store's per-thread cursor: no need to wait for the shared connection
        value = tuple(ws.store.fetchall(_FINGERPRINT_SQL)[0])
        self._prints[folder] = (now, value)
        return value

    @contextmanager
    def _engine(self, ws: Workspace, lock: AbstractContextManager[Any] | None) -> Iterator[None]:
        """Hold the engine lock, unless this thread already does (computations nest)."""
        if getattr(self._held, "depth", 0):
            self._held.depth += 1
            try:
                yield
            finally:
                self._held.depth -= 1
            return
        with lock or self.engine_lock(ws):
            self._held.depth = 1
            try:
                yield
            finally:
                self._held.depth = 0

    def get(
        self,
        ws: Workspace,
        name: str,
        args: Hashable,
        compute: Callable[[], T],
        lock: AbstractContextManager[Any] | None = None,
        *,
        engine: bool = True,
    ) -> T:
        """The cached result of ``compute()`` for (workspace, name, args), computing it if needed.

        With ``engine``, ``compute`` runs under ``lock`` (default :meth:`engine_lock`), which
        also makes it run once for concurrent callers; without, it runs unlocked (for work
        that only assembles other cached results). Exceptions are not cached.
        """
        key = (str(ws.path), name, args)
        version = self.fingerprint(ws)
        hit = self._lookup(key, version)
        if hit is not None:
            return hit[0]  # type: ignore[no-any-return]
        if engine:
            with self._engine(ws, lock):
                # another caller may have computed it while this one waited
                hit = self._lookup(key, version)
                if hit is not None:
                    return hit[0]  # type: ignore[no-any-return]
                value = compute()
        else:
            value = compute()
        with self._lock:
            self._entries[key] = (version, time.monotonic(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def _lookup(self, key: tuple[Any, ...], version: Any) -> tuple[Any] | None:
        with self._lock:
            return self._fresh(key, version)

    def _fresh(self, key: tuple[Any, ...], version: Any) -> tuple[Any] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored, born, value = entry
        if stored != version or time.monotonic() - born > self.max_age:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return (value,)

    def run(
        self,
        ws: Workspace,
        compute: Callable[[], T],
        lock: AbstractContextManager[Any] | None = None,
    ) -> T:
        """Run an uncached computation under ``lock`` (default the workspace's engine lock)."""
        with self._engine(ws, lock):
            return compute()

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
            self._prints.clear()

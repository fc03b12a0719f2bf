"""The workspace: a folder holding the embedded DuckDB store and its side files.

A :class:`Store` owns the one DuckDB connection of a workspace and hands out cursors per
thread; it is the only place that catches ``duckdb.Error``. A :class:`Workspace` adds the Ibis
view of the tables that analytics query, and the summary.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from journeykit.config import Settings, load_settings
from journeykit.errors import StoreError, WorkspaceError
from journeykit.schema.events import ADDED_COLUMNS, TABLES

if TYPE_CHECKING:
    import ibis
    import pandas as pd
    from ibis.backends.duckdb import Backend as DuckDBBackend

DB_FILE = "journeykit.duckdb"


def first_value(
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[Any] | dict[str, Any] | None = None,
) -> Any:
    """The first column of the first row of ``sql`` run on ``cur`` (``None`` without rows).

    For statements on a cursor's own temporary tables, where :meth:`Store.scalar` (which
    takes the thread's cursor) does not apply.
    """
    row = cur.execute(sql, params).fetchone()
    return None if row is None else row[0]


class Store:
    """Owns the DuckDB connection of a workspace.

    Args:
        path: the database file, or ``":memory:"``.
        memory_limit: DuckDB's memory limit (spills to disk beyond it).
        threads: worker threads for DuckDB (default: all cores).
    """

    def __init__(
        self, path: str | Path, *, memory_limit: str = "2GB", threads: int | None = None
    ) -> None:
        self.path = str(path)
        self._memory_limit = _safe_setting(memory_limit)
        self._threads = threads
        self._con = self._connect()
        self._local = threading.local()
        # bumped when the connection is replaced (see rewrite): cursors of the old one go
        self._generation = 0
        self.lock = threading.RLock()
        self._create_tables()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            con = duckdb.connect(self.path)
            con.execute("SET TimeZone='UTC'")
            con.execute("SET enable_progress_bar=false")
            con.execute(f"SET memory_limit='{self._memory_limit}'")
            if self._threads:
                con.execute(f"SET threads={int(self._threads)}")
            # Ibis emits '->' lambdas for array maps; DuckDB 2 wants them enabled explicitly.
            con.execute("SET lambda_syntax='ENABLE_SINGLE_ARROW'")
        except duckdb.Error as exc:
            raise WorkspaceError(f"cannot open the store at {self.path}: {exc}") from exc
        return con

    def _create_tables(self) -> None:
        for name, ddl in TABLES.items():
            self.execute(f"CREATE TABLE IF NOT EXISTS {name} ({ddl})")
        # workspaces made before a column existed get it (null for what they already hold)
        for table, column, kind in ADDED_COLUMNS:
            self.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The connection itself (for the thread that opened the store)."""
        return self._con

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread (DuckDB connections are not shared across threads)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None or self._local.generation != self._generation:
            cur = self._con.cursor()
            cur.execute("SET TimeZone='UTC'")
            self._local.cursor = cur
            self._local.generation = self._generation
        return cur

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        """Run one statement with bound parameters; engine errors become :class:`StoreError`."""
        try:
            return self.cursor().execute(sql, params)
        except duckdb.Error as exc:
            raise StoreError(f"store query failed: {exc}", exc) from exc

    def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[Any]:
        """Run a query and return all rows as tuples."""
        return self.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        """Run a query and return the first column of the first row."""
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def df(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> pd.DataFrame:
        """Run a query and return a pandas DataFrame."""
        try:
            return self.cursor().execute(sql, params).df()
        except duckdb.Error as exc:
            raise StoreError(f"store query failed: {exc}", exc) from exc

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write transaction on this thread's cursor; rolled back on any error."""
        cur = self.cursor()
        with self.lock:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except duckdb.Error as exc:
                cur.execute("ROLLBACK")
                raise StoreError(f"store write failed: {exc}", exc) from exc
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def rewrite(self) -> None:
        """Rewrite the database file with only what it holds now, and swap it in atomically.

        DuckDB does not zero what it frees: deleted rows stay readable in the file's bytes
        (in freed blocks, and in row groups that still hold live rows) even after a
        checkpoint. Erasure calls this so that what it deleted leaves the disk's files: the
        live data is copied to a fresh file (``COPY FROM DATABASE``), which replaces the old
        one. Cursors of other threads move to the new connection on their next use.

        Raises:
            StoreError: the copy failed (the old file is left as it was).
        """
        if self.path == ":memory:":
            return
        path = Path(self.path)
        fresh = path.with_name(path.name + ".rewrite")
        with self.lock:
            for stale in (fresh, fresh.with_name(fresh.name + ".wal")):
                stale.unlink(missing_ok=True)
            con = self._con
            try:
                con.execute("CHECKPOINT")
                name = con.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
                quoted = str(fresh).replace("'", "''")
                con.execute(f"ATTACH '{quoted}' AS jk_rewrite")
                try:
                    con.execute(f'COPY FROM DATABASE "{name}" TO jk_rewrite')
                    con.execute("CHECKPOINT jk_rewrite")
                finally:
                    con.execute("DETACH jk_rewrite")
            except duckdb.Error as exc:
                fresh.unlink(missing_ok=True)
                raise StoreError(f"rewriting the store failed: {exc}", exc) from exc
            _fsync(fresh)
            con.close()
            os.replace(fresh, path)
            path.with_name(path.name + ".wal").unlink(missing_ok=True)
            _fsync(path.parent)
            self._con = self._connect()
            self._generation += 1

    def close(self) -> None:
        """Close the connection."""
        self._con.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _safe_setting(value: str) -> str:
    allowed = set("0123456789.KMGTBkmgtbiI ")
    if not value or not set(value) <= allowed:
        raise WorkspaceError(f"memory limit {value!r} is not a size like '2GB'")
    return value


@dataclass(frozen=True)
class Summary:
    """What a workspace holds.

    Attributes:
        people: distinct stitched people.
        events: stored events.
        identities: distinct identifiers seen.
        merges: merges in effect (links that joined two people), undone ones excluded.
        first_event, last_event: the date range of the events.
        rejects: rows refused by loads so far.
        loads: how many loads ran.
        by_channel: events per channel (channel, events, people), most first.
        by_day: events per day (day, events, people).
        spend: total ad spend recorded.
    """

    people: int
    events: int
    identities: int
    merges: int
    first_event: datetime | None
    last_event: datetime | None
    rejects: int
    loads: int
    by_channel: pd.DataFrame
    by_day: pd.DataFrame
    spend: float


class Workspace:
    """A journeykit workspace: tables in an engine, queried through Ibis.

    Open one with :func:`journeykit.open`.
    """

    def __init__(self, path: Path, store: Store, settings: Settings) -> None:
        self.path = path
        self.store = store
        self.settings = settings
        self._ibis: DuckDBBackend | None = None

    @property
    def con(self) -> DuckDBBackend:
        """The Ibis backend over the store (created on first use)."""
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.store.connection)
        return self._ibis

    def table(self, name: str) -> ibis.Table:
        """An Ibis table expression for one of the workspace tables."""
        if name not in TABLES:
            from journeykit.errors import NotFound

            raise NotFound("table", name, sorted(TABLES))
        return self.con.table(name)

    @property
    def events(self) -> ibis.Table:
        """The events table (see :mod:`journeykit.schema.events` for its columns)."""
        return self.table("events")

    def summary(self) -> Summary:
        """Counts and ranges that describe the workspace.

        >>> import journeykit, tempfile
        >>> journeykit.open(tempfile.mkdtemp()).summary().events
        0
        """
        s = self.store
        first, last, n_events = s.fetchall("SELECT min(ts), max(ts), count(*) FROM events")[0]
        return Summary(
            people=int(s.scalar("SELECT count(DISTINCT person_id) FROM events") or 0),
            events=int(n_events),
            identities=int(s.scalar("SELECT count(*) FROM identities") or 0),
            merges=int(s.scalar("SELECT count(*) FROM merges WHERE undone_at IS NULL") or 0),
            first_event=first,
            last_event=last,
            rejects=int(s.scalar("SELECT count(*) FROM rejects") or 0),
            loads=int(s.scalar("SELECT count(*) FROM loads") or 0),
            by_channel=s.df(
                "SELECT coalesce(channel, '(none)') AS channel, count(*) AS events, "
                "count(DISTINCT person_id) AS people FROM events GROUP BY 1 ORDER BY 2 DESC, 1"
            ),
            by_day=s.df(
                "SELECT CAST(ts AS DATE) AS day, count(*) AS events, "
                "count(DISTINCT person_id) AS people FROM events GROUP BY 1 ORDER BY 1"
            ),
            spend=float(s.scalar("SELECT coalesce(sum(amount), 0) FROM spend") or 0.0),
        )

    def rewrite(self) -> None:
        """Rewrite the store's file with only its live data (see :meth:`Store.rewrite`)."""
        self.store.rewrite()
        self._ibis = None  # the Ibis backend held the old connection

    def close(self) -> None:
        """Close the workspace's store."""
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"


def open_workspace(
    path_or_url: str | Path | None = None, settings: Settings | None = None
) -> Workspace:
    """Open (or create) a workspace.

    Args:
        path_or_url: a folder (created if missing) holding the DuckDB file; ``None`` takes the
            configured workspace (``JOURNEYKIT_WORKSPACE``, default ``./journeykit-data``).
        settings: settings to use instead of the loaded ones.

    >>> import tempfile
    >>> ws = open_workspace(tempfile.mkdtemp())
    >>> ws.summary().people
    0
    """
    settings = settings or load_settings()
    target = path_or_url if path_or_url is not None else settings.store.workspace
    text = str(target)
    if text.startswith("spark://"):
        from journeykit.store.spark import open_spark

        return open_spark(text, settings)  # type: ignore[return-value]
    if "://" in text:
        raise WorkspaceError(
            f"{text!r}: only folder workspaces are supported here; "
            "give a folder path (engines by URL are opened by journeykit.open)"
        )
    folder = Path(text)
    if folder.exists() and not folder.is_dir():
        raise WorkspaceError(f"{folder} exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    store = Store(
        folder / DB_FILE,
        memory_limit=settings.store.memory_limit,
        threads=settings.store.threads,
    )
    return Workspace(folder, store, settings)

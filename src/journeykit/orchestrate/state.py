"""Durable orchestration state: SQLite by default, PostgreSQL by URL, one SQLAlchemy Core schema.

Tables (all prefixed ``jk_``):

================ ===========================================================================
jk_automations   registered automations (id, version, priority, spec JSON)
jk_profiles      per person: traits, segment tags, event counts, stage, entry bookkeeping
jk_journeys      one row per (automation, person, entry): group, status, current step, times
jk_timers        durable timers: waits and timeouts (pending → fired | cancelled)
jk_outbox        messages to send: one idempotency key each; pending → sending → sent | dead
jk_steps         which steps each journey reached (the per-step funnel)
jk_seen_events   event ids already handled (a re-sent event is handled once)
jk_schedules     next run of each scheduled automation
jk_suppressions  people and addresses no message may reach (unsubscribed, erased), as hashes
jk_feeds         how far each event feed has been read (arrival position), and since when
================ ===========================================================================

SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` transactions (one writer at a time, one
worker). PostgreSQL workers share timers and the outbox with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from operator import itemgetter
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from journeykit.errors import StoreError

T = TypeVar("T")

metadata = sa.MetaData()
_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_Ts = sa.DateTime()

automations_t = sa.Table(
    "jk_automations",
    metadata,
    sa.Column("automation_id", sa.String(100), primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("version", sa.String(16), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("trigger", sa.Text, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("registered_at", _Ts, nullable=False),
    sa.Column("updated_at", _Ts, nullable=False),
)

profiles_t = sa.Table(
    "jk_profiles",
    metadata,
    sa.Column("person_id", sa.String(200), primary_key=True),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("updated_at", _Ts, nullable=False),
)

journeys_t = sa.Table(
    "jk_journeys",
    metadata,
    sa.Column("journey_id", sa.String(400), primary_key=True),
    sa.Column("automation_id", sa.String(100), nullable=False),
    sa.Column("person_id", sa.String(200), nullable=False),
    sa.Column("entry", sa.Integer, nullable=False),
    sa.Column("grp", sa.String(16), nullable=False),
    sa.Column("variant", sa.String(200)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("step_id", sa.String(200)),
    sa.Column("matched", sa.Boolean),
    sa.Column("entry_event_id", sa.String(200)),
    sa.Column("entered_at", _Ts, nullable=False),
    sa.Column("updated_at", _Ts, nullable=False),
    sa.Column("ended_at", _Ts),
    sa.Column("track_until", _Ts),
    sa.Column("converted_at", _Ts),
    sa.Column("exit_reason", sa.Text),
    sa.Column("context", sa.Text),  # the trigger event (JSON), for templates after a wait
    sa.Index("ix_jk_journeys_person", "person_id"),
    sa.Index("ix_jk_journeys_automation", "automation_id", "status"),
)

timers_t = sa.Table(
    "jk_timers",
    metadata,
    sa.Column("timer_id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("journey_id", sa.String(400), nullable=False),
    sa.Column("automation_id", sa.String(100), nullable=False),
    sa.Column("person_id", sa.String(200), nullable=False),
    sa.Column("step_id", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("due_at", _Ts, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("fired_at", _Ts),
    sa.UniqueConstraint("journey_id", "step_id", name="uq_jk_timers_step"),
    sa.Index("ix_jk_timers_due", "status", "due_at"),
)

outbox_t = sa.Table(
    "jk_outbox",
    metadata,
    sa.Column("outbox_id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("idem_key", sa.String(64), nullable=False, unique=True),
    sa.Column("journey_id", sa.String(400), nullable=False),
    sa.Column("automation_id", sa.String(100), nullable=False),
    sa.Column("person_id", sa.String(200), nullable=False),
    sa.Column("step_id", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(50), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", _Ts, nullable=False),
    sa.Column("lease_until", _Ts),
    sa.Column("created_at", _Ts, nullable=False),
    sa.Column("sent_at", _Ts),
    sa.Column("last_error", sa.Text),
    sa.Index("ix_jk_outbox_due", "status", "next_attempt_at"),
    sa.Index("ix_jk_outbox_person", "person_id", "created_at"),
    sa.Index("ix_jk_outbox_journey", "journey_id"),
)

steps_t = sa.Table(
    "jk_steps",
    metadata,
    sa.Column("journey_id", sa.String(400), primary_key=True),
    sa.Column("step_id", sa.String(200), primary_key=True),
    sa.Column("automation_id", sa.String(100), nullable=False),
    sa.Column("at", _Ts, nullable=False),
    sa.Column("outcome", sa.String(24), nullable=False),
    sa.Index("ix_jk_steps_automation", "automation_id", "step_id"),
)

seen_t = sa.Table(
    "jk_seen_events",
    metadata,
    sa.Column("event_id", sa.String(200), primary_key=True),
    sa.Column("seen_at", _Ts, nullable=False),
)

schedules_t = sa.Table(
    "jk_schedules",
    metadata,
    sa.Column("automation_id", sa.String(100), primary_key=True),
    sa.Column("next_run_at", _Ts, nullable=False),
    sa.Column("lease_until", _Ts),
)

suppressions_t = sa.Table(
    "jk_suppressions",
    metadata,
    sa.Column("subject", sa.String(80), primary_key=True),  # a hash: see .suppression
    sa.Column("channel", sa.String(50), primary_key=True),  # "*" = every channel
    sa.Column("kind", sa.String(12), nullable=False),  # person | address
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", _Ts, nullable=False),
)

feeds_t = sa.Table(
    "jk_feeds",
    metadata,
    sa.Column("feed", sa.String(400), primary_key=True),
    sa.Column("received_at", _Ts, nullable=False),
    sa.Column("event_id", sa.String(200), nullable=False),
    sa.Column("started_at", _Ts, nullable=False),
    sa.Column("updated_at", _Ts, nullable=False),
)

_RETRYABLE_PG = {"40P01", "40001", "55P03"}


def normalise_url(url: str) -> str:
    """Pick the psycopg 3 driver for ``postgresql://`` URLs; a bare path means a SQLite file.

    >>> normalise_url("postgresql://postgres@127.0.0.1/test")
    'postgresql+psycopg://postgres@127.0.0.1/test'
    >>> normalise_url("state.sqlite")
    'sqlite:///state.sqlite'
    """
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:
        return f"sqlite:///{url}"
    return url


class StateStore:
    """Owns the SQLAlchemy engine for the orchestration state.

    Args:
        url: ``sqlite:///path.sqlite`` (default backend), ``sqlite://`` (in memory) or
            ``postgresql://user@host/db``.
        schema: a PostgreSQL schema to keep the tables in (created if missing); ignored on SQLite.
        create: create missing tables.
    """

    def __init__(self, url: str, *, schema: str | None = None, create: bool = True) -> None:
        self.url = normalise_url(url)
        self.schema = schema
        kwargs: dict[str, Any] = {}
        self.dialect = sa.engine.make_url(self.url).get_backend_name()
        if self.dialect == "sqlite":
            memory = sa.engine.make_url(self.url).database in (None, "", ":memory:")
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 60}
            if memory:
                kwargs["poolclass"] = sa.pool.StaticPool
        elif self.dialect == "postgresql":
            kwargs["pool_pre_ping"] = True
        try:
            engine = sa.create_engine(self.url, **kwargs)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot open orchestration state {url!r}: {exc}", exc) from None
        if self.dialect == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_connect)
            sa.event.listen(engine, "begin", _sqlite_begin)
        if schema and self.dialect != "sqlite":
            engine = engine.execution_options(schema_translate_map={None: schema})
        self.engine: Engine = engine
        self._compiled: dict[Any, tuple[str, list[str], dict[str, Any]]] = {}
        if create:
            self.create_all()

    @property
    def skip_locked(self) -> bool:
        """Whether the backend shares rows between workers with ``FOR UPDATE SKIP LOCKED``."""
        return self.dialect == "postgresql"

    def create_all(self) -> None:
        """Create the schema and the tables that are missing."""
        with self.begin() as conn:
            if self.schema and self.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7240917)"))
                conn.execute(sa.schema.CreateSchema(self.schema, if_not_exists=True))
        with self.begin() as conn:
            if self.dialect == "postgresql":  # workers starting together create tables once
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7240917)"))
            metadata.create_all(conn)
            _add_missing_columns(conn, self.schema if self.dialect == "postgresql" else None)

    def drop_all(self) -> None:
        """Drop the tables (and the schema, if one was given). For tests and resets."""
        with self.begin() as conn:
            metadata.drop_all(conn)
            if self.schema and self.dialect == "postgresql":
                conn.execute(sa.schema.DropSchema(self.schema, cascade=True, if_exists=True))

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    @property
    def safe_url(self) -> str:
        """The URL without its password (for messages)."""
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside one transaction (committed on success, rolled back on error).

        Database errors come out as :class:`~journeykit.errors.StoreError`.
        """
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"orchestration state {self.safe_url}: {_short(exc)}", exc) from exc

    def run(self, fn: Callable[[Connection], T], *, attempts: int = 8) -> T:
        """Run ``fn`` in a transaction, retrying on deadlocks, serialisation and busy errors."""
        for attempt in range(attempts):
            try:
                with self.engine.begin() as conn:
                    return fn(conn)
            except DBAPIError as exc:
                if attempt == attempts - 1 or not _retryable(exc):
                    raise StoreError(
                        f"orchestration state {self.safe_url}: {_short(exc)}", exc
                    ) from exc
            except sa.exc.SQLAlchemyError as exc:
                raise StoreError(
                    f"orchestration state {self.safe_url}: {_short(exc)}", exc
                ) from exc
            _time.sleep(min(0.05 * 2**attempt, 1.0))
        raise AssertionError("unreachable")  # pragma: no cover

    def bulk(self, conn: Connection, stmt: Any, rows: list[dict[str, Any]], key: str = "") -> None:
        """Execute ``stmt`` (a statement, or a function that builds one) once per row.

        On SQLite the statement is compiled once (cached under ``key`` when given: the
        statement must then not change between calls) and handed to the driver with plain
        tuples, skipping SQLAlchemy's per-row parameter processing (the engine's hottest path);
        other backends take the ordinary Core route.
        """
        if not rows:
            return
        if self.dialect != "sqlite":
            conn.execute(stmt() if callable(stmt) else stmt, rows)
            return
        cache_key = (key, tuple(rows[0])) if key else None
        cached = self._compiled.get(cache_key) if cache_key else None
        if cached is None:
            built = stmt() if callable(stmt) else stmt
            compiled = built.compile(dialect=conn.dialect, column_keys=list(rows[0]))
            cached = (str(compiled), list(compiled.positiontup or []), dict(compiled.params))
            if cache_key:
                self._compiled[cache_key] = cached
        sql, names, fixed = cached
        if all(n in rows[0] for n in names):
            getter = itemgetter(*names) if len(names) > 1 else (lambda r, n=names[0]: (r[n],))
            params = [_lite_row(getter(r)) for r in rows]
        else:
            params = [_lite_row(tuple(r[n] if n in r else fixed[n] for n in names)) for r in rows]
        conn.exec_driver_sql(sql, params)

    def insert_ignore(self, table: sa.Table, keys: list[str]) -> Any:
        """An INSERT that skips rows whose ``keys`` already exist (both dialects)."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table).on_conflict_do_nothing(index_elements=keys)
        from sqlalchemy.dialects.sqlite import insert as lite_insert

        return lite_insert(table).on_conflict_do_nothing(index_elements=keys)


def _add_missing_columns(conn: Connection, schema: str | None) -> None:
    """Add nullable columns that newer versions define to tables an older version created."""
    inspector = sa.inspect(conn)
    prep = conn.dialect.identifier_preparer
    for table in metadata.sorted_tables:
        have = {c["name"] for c in inspector.get_columns(table.name, schema=schema)}
        for column in table.columns:
            if column.name not in have and column.nullable:
                name = prep.quote(table.name)
                if schema:
                    name = f"{prep.quote_schema(schema)}.{name}"
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(
                    sa.text(f"ALTER TABLE {name} ADD COLUMN {prep.quote(column.name)} {kind}")
                )


def _lite_row(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Values as SQLAlchemy's SQLite dialect stores them (datetimes as ISO text)."""
    return tuple(v.isoformat(" ", "microseconds") if type(v) is datetime else v for v in values)


def _short(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(
        getattr(exc.orig, "diag", None), "sqlstate", None
    )
    if code in _RETRYABLE_PG:
        return True
    text = str(exc.orig).lower()
    return "database is locked" in text or "deadlock" in text


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # let the "begin" hook issue BEGIN IMMEDIATE
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
    cur.execute("PRAGMA busy_timeout=60000")
    cur.execute("PRAGMA cache_size=-131072")  # 128 MiB of page cache: state is read on every event
    cur.execute("PRAGMA mmap_size=268435456")
    cur.execute("PRAGMA wal_autocheckpoint=10000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")

"""Loading: read, validate, stitch, and store events in journey order, in one transaction.

Journey order is kept at load time (see DESIGN.md, "Journey order is cheap"): the events of the
people a load touches are re-written sorted by person and time with their position (``seq``)
and predecessor (``prev_event``, ``prev_ts``), so path analytics are scans, not window sorts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journeykit.errors import InvalidFile
from journeykit.ingest.identity import anchor_sql, stitch
from journeykit.ingest.readers import ReadResult, Reject, read_source
from journeykit.ingest.stage import stage
from journeykit.schema.events import EVENT_COLUMNS, JOURNEY_ORDER
from journeykit.store import first_value

if TYPE_CHECKING:
    from journeykit.store import Store, Workspace

Progress = Callable[[str, float], None]

STORED = [c for c in EVENT_COLUMNS if c not in ("seq", "prev_event", "prev_ts", "person_id")]


@dataclass(frozen=True)
class EarlierLoad:
    """An earlier load that had already stored some of this load's rows."""

    load_id: str | None
    source: str | None
    finished_at: datetime | None
    rows: int


@dataclass(frozen=True)
class RejectGroup:
    """Refused rows that share a field and a reason: how many, and the first few rows."""

    field: str | None
    reason: str
    count: int
    rows: list[int | None]


@dataclass(frozen=True)
class LoadReport:
    """The outcome of one load.

    Attributes:
        load_id: id of this load (``loads`` and ``rejects`` tables).
        source: the file name or a description of the table.
        rows: rows read from the source (including rejected ones).
        loaded: new events stored.
        duplicates: rows not stored because they were stored before or repeated in the
            source (``already_stored + repeated``).
        rejected: rows refused; the first ones are in ``rejects``.
        rejects: (row, field, reason) of refused rows, row numbers as in the source file.
        notices: things worth knowing that did not refuse rows (unknown columns kept, which
            column became which identifier, the date order assumed, ...).
        merges: people merged by this load.
        rejects_file: where every refused row was written, if any.
        already_stored: rows whose event was stored by an earlier load.
        earlier_loads: which earlier loads stored them, and how many each.
        repeated: rows repeating an event earlier in the same source (a repeated message
            id, or an identical row with ``dedupe_rows``).
        reject_groups: every refused row counted by field and reason, most first.
    """

    load_id: str
    source: str
    rows: int
    loaded: int
    duplicates: int
    rejected: int
    rejects: list[Reject] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    merges: int = 0
    rejects_file: str | None = None
    already_stored: int = 0
    earlier_loads: list[EarlierLoad] = field(default_factory=list)
    repeated: int = 0
    reject_groups: list[RejectGroup] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Every row was refused (and there was at least one)."""
        return self.rows > 0 and self.rejected >= self.rows


def group_rejects(rejects: list[Reject], first: int = 5) -> list[RejectGroup]:
    """Count refused rows by field and reason (the reason without the offending value).

    >>> rows = [Reject(2, "ts", "cannot parse timestamp: x"), Reject(5, "ts", "cannot parse timestamp: y")]
    >>> group_rejects(rows)[0]
    RejectGroup(field='ts', reason='cannot parse timestamp', count=2, rows=[2, 5])
    """
    groups: dict[tuple[str | None, str], list[int | None]] = {}
    for r in rejects:
        groups.setdefault((r.field, r.reason.split(": ", 1)[0]), []).append(r.row)
    out = [RejectGroup(f, reason, len(rows), rows[:first]) for (f, reason), rows in groups.items()]
    return sorted(out, key=lambda g: -g.count)


def load(
    ws: Workspace,
    source: Any,
    *,
    mapping: Mapping[str, str] | None = None,
    tz: str | None = None,
    source_name: str | None = None,
    fmt: str | None = None,
    progress: Progress | None = None,
    ts_format: str | None = None,
    dedupe_rows: bool = False,
) -> LoadReport:
    """Load events from a file or a table into the workspace.

    Args:
        ws: the workspace.
        source: a path (``.csv``, ``.tsv``, ``.parquet``, ``.jsonl``), a pandas or Polars
            DataFrame, an Arrow table, or a list of dicts, in the raw input layout (see
            :data:`journeykit.schema.events.INPUT_COLUMNS`); common foreign names are
            recognised and ``mapping`` (target -> source column) maps the rest.
        mapping: column mapping, e.g. ``{"ts": "timestamp", "user_id": "customer_no"}``.
        tz: time zone of naive timestamps in the source (default UTC).
        source_name: recorded in each event's ``source`` (default: the file name).
        fmt: force the reader (``csv``, ``parquet``, ``jsonl``) instead of the file suffix.
        progress: called with (stage, fraction done).
        ts_format: the layout of text timestamps in strptime syntax (``%d/%m/%Y %H:%M``);
            without it ISO-8601, epoch numbers and unambiguous day- or month-first dates are
            read, and the order assumed is said in ``notices``.
        dedupe_rows: treat identical rows as one event wherever they are read (off: identical
            rows in a source are distinct events, e.g. two clicks in the same second).

    An event without a message id is identified by where it was read: the source
    (``source_name``) and which occurrence of that row in the source it is. Loading the same
    source again stores nothing; a source that has grown stores only its new rows. Events at
    the same time keep the order the sources gave them (load, then row).

    Returns:
        A :class:`LoadReport`. Good rows are stored even when others are refused.

    Raises:
        InvalidFile: the whole source is unreadable (empty, wrong format).
        InputError: the mapping names columns that do not exist, there is no timestamp or no
            identifier column, or dates could be read day-first or month-first.

    >>> import journeykit, tempfile
    >>> ws = journeykit.open(tempfile.mkdtemp())
    >>> rows = [{"ts": "2026-01-05T10:00:00Z", "event": "signup", "user_id": "u1"}]
    >>> load(ws, rows).loaded
    1
    """
    if isinstance(source, list | tuple) and source and isinstance(source[0], str | Path):
        name = source_name or Path(source[0]).parent.name or "files"
        label = f"{len(source)} files in {Path(source[0]).parent}"
    else:
        name = source_name or (Path(source).name if isinstance(source, str | Path) else "table")
        label = str(source) if isinstance(source, str | Path) else name
    step = progress or (lambda _stage, _frac: None)
    store = ws.store
    load_id = "ld_" + uuid.uuid4().hex[:16]
    started = _now()
    with store.lock:
        step("reading", 0.0)
        read = read_source(store, source, fmt=fmt)
        has_line = "_line" in [r[0] for r in store.fetchall("DESCRIBE _src")]
        step("validating", 0.2)
        staged = stage(
            store,
            mapping=mapping,
            tz=tz,
            source_name=name,
            has_line_column=has_line,
            max_future_hours=ws.settings.ingest.max_future_hours,
            max_past_years=ws.settings.ingest.max_past_years,
            ts_format=ts_format,
            dedupe_rows=dedupe_rows,
        )
        rejects = list(read.rejects) + _invalid_rows(store, read)
        notices = list(staged.notices)
        if staged.unknown_columns:
            notices.append(
                "columns kept in properties (not canonical): " + ", ".join(staged.unknown_columns)
            )
        step("storing", 0.4)
        with store.transaction():
            load_no = _next_load_no(store)
            stored = _store_staged(ws, step, load_no)
            duplicates = stored.already + stored.repeated
            _record(
                store, load_id, load_no, label, started, read, stored.loaded, duplicates, rejects
            )
        store.execute("DROP TABLE IF EXISTS _src")
        store.execute("DROP TABLE IF EXISTS _staged")
    rejects_file = _write_rejects(ws, load_id, label, rejects) if rejects else None
    step("done", 1.0)
    return LoadReport(
        load_id=load_id,
        source=label,
        rows=read.n_rows,
        loaded=stored.loaded,
        duplicates=duplicates,
        rejected=len(rejects),
        rejects=rejects[:100],
        notices=notices,
        merges=stored.merges,
        rejects_file=rejects_file,
        already_stored=stored.already,
        earlier_loads=stored.earlier,
        repeated=stored.repeated,
        reject_groups=group_rejects(rejects),
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _invalid_rows(store: Store, read: ReadResult) -> list[Reject]:
    rows = store.fetchall("SELECT _row, field, reason, raw FROM _invalid ORDER BY _row")
    out = []
    for row, fld, reason, raw in rows:
        line = read.line_of(int(row)) if read.header_lines or read.skipped_lines else int(row)
        out.append(Reject(line, fld, reason, raw))
    store.execute("DROP TABLE IF EXISTS _invalid")
    return out


@dataclass(frozen=True)
class _Stored:
    loaded: int
    already: int
    repeated: int
    earlier: list[EarlierLoad]
    merges: int


def _next_load_no(store: Store) -> int:
    """Loads are numbered in the order they ran; events at the same time sort by it."""
    return int(store.scalar("SELECT greatest(coalesce(max(load_no), 0), count(*)) + 1 FROM loads"))


def _earlier_loads(store: Store) -> list[EarlierLoad]:
    """Which earlier loads stored the staged rows that are already in events."""
    rows = store.fetchall(
        """
        SELECT l.load_id, l.source, l.finished_at, d.n
        FROM (
          SELECT e.load_no, count(*) AS n FROM _staged s JOIN events e USING (event_id)
          GROUP BY e.load_no
        ) d LEFT JOIN loads l ON l.load_no = d.load_no
        ORDER BY d.load_no NULLS FIRST
        """
    )
    return [EarlierLoad(load_id, source, at, int(n)) for load_id, source, at, n in rows]


def _store_staged(ws: Workspace, step: Progress, load_no: int) -> _Stored:
    """Move ``_staged`` into events: skip known ids, stitch, re-order touched people.

    Runs in the caller's transaction.
    """
    store = ws.store
    cur = store.cursor()
    total = int(first_value(cur, "SELECT count(*) FROM _staged"))
    cur.execute(
        """
        CREATE OR REPLACE TEMP TABLE _fresh AS
        SELECT * EXCLUDE (_row), CAST($load_no AS BIGINT) AS load_no, _row AS src_row
        FROM _staged s
        WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = s.event_id)
        QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY _row) = 1
        """,
        {"load_no": load_no},
    )
    loaded = int(first_value(cur, "SELECT count(*) FROM _fresh"))
    earlier = _earlier_loads(store) if loaded < total else []
    already = sum(e.rows for e in earlier)
    repeated = total - loaded - already
    if loaded == 0:
        return _Stored(0, already, repeated, earlier, 0)
    extra = ws.settings.ingest.extra_identifiers
    step("stitching identities", 0.5)
    result = stitch(store, "_fresh", extra=extra)
    _record_traits(store, extra)
    step("ordering journeys", 0.7)
    rewrite_people(store, extra, include_fresh=True)
    return _Stored(loaded, already, repeated, earlier, result.merges)


def rewrite_people(store: Store, extra: tuple[str, ...], *, include_fresh: bool) -> None:
    """Re-key and re-order the events of the people in ``_touched`` (and ``_fresh`` rows).

    Events of touched people are taken out and written back sorted by person in journey order
    (time, then load, then source row: :data:`~journeykit.schema.events.JOURNEY_ORDER`) with
    ``seq``, ``prev_event`` and ``prev_ts``; person ids come from each event's anchor identifier.
    Then the ``people`` rows of everyone involved are rebuilt.
    """
    cur = store.cursor()
    cols = ", ".join(STORED)
    fresh = f"UNION ALL SELECT {cols} FROM _fresh" if include_fresh else ""
    anchor = anchor_sql(extra, prefix="m.")
    # the events of everyone touched, with their (possibly new) person ids, computed once
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _moving AS
        SELECT m.*, i.person_id FROM (
          SELECT {cols} FROM events WHERE person_id IN (SELECT person_id FROM _touched)
          {fresh}
        ) m LEFT JOIN identities i ON i.identifier = {anchor}
        """
    )
    cur.execute("DELETE FROM events WHERE person_id IN (SELECT person_id FROM _touched)")
    out_cols = ", ".join(EVENT_COLUMNS)
    cur.execute(
        f"""
        INSERT INTO events ({out_cols})
        SELECT {out_cols} FROM (
          SELECT *, row_number() OVER w AS seq, lag(event) OVER w AS prev_event,
                 lag(ts) OVER w AS prev_ts
          FROM _moving
          WINDOW w AS (PARTITION BY person_id ORDER BY {JOURNEY_ORDER})
        )
        ORDER BY person_id, seq
        """
    )
    cur.execute(
        "DELETE FROM people WHERE person_id IN (SELECT person_id FROM _touched) "
        "OR person_id IN (SELECT DISTINCT person_id FROM _moving)"
    )
    cur.execute(
        """
        INSERT INTO people
        SELECT e.person_id, min(ts), max(ts), count(*), coalesce(sum(revenue), 0),
               arg_min(channel, (ts, coalesce(load_no, 0), coalesce(src_row, 0), event_id)),
               arg_max(channel, (ts, coalesce(load_no, 0), coalesce(src_row, 0), event_id)),
               CAST(to_json(any_value(t.traits)) AS VARCHAR)
        FROM _moving e
        LEFT JOIN (
          SELECT i.person_id, list(tr.traits ORDER BY tr.ts, tr.event_id) AS traits
          FROM traits tr JOIN identities i ON i.identifier = tr.identifier
          WHERE i.person_id IN (SELECT DISTINCT person_id FROM _moving)
          GROUP BY i.person_id
        ) t USING (person_id)
        GROUP BY e.person_id
        """
    )
    _fold_traits(store)
    cur.execute("DROP TABLE IF EXISTS _moving")


def _fold_traits(store: Store) -> None:
    """Collapse each rebuilt person's list of trait objects into one (later values win)."""
    rows = store.fetchall(
        "SELECT person_id, traits FROM people WHERE person_id IN "
        "(SELECT DISTINCT person_id FROM _moving) AND traits IS NOT NULL"
    )
    if not rows:
        return
    import pandas as pd

    folded = []
    for person_id, text in rows:
        merged: dict[str, Any] = {}
        for item in json.loads(text) if text.startswith("[") else [text]:
            obj = json.loads(item) if isinstance(item, str) else item
            if isinstance(obj, dict):
                merged.update(obj)
        folded.append((person_id, json.dumps(merged, sort_keys=True)))
    frame = pd.DataFrame(folded, columns=["person_id", "traits"])
    cur = store.cursor()
    cur.register("_traits_df", frame)
    try:
        cur.execute(
            "UPDATE people SET traits = f.traits FROM _traits_df f "
            "WHERE people.person_id = f.person_id"
        )
    finally:
        cur.unregister("_traits_df")


def _record_traits(store: Store, extra: tuple[str, ...]) -> None:
    """Identify calls carry traits: keep them per identifier so people can be rebuilt."""
    anchor = anchor_sql(extra)
    store.execute(
        f"""
        INSERT INTO traits
        SELECT {anchor}, ts,
               CAST(coalesce(json_extract(properties, '$.traits'), properties) AS VARCHAR),
               event_id
        FROM _fresh
        WHERE type = 'identify' AND properties IS NOT NULL AND properties <> '{{}}'
        """
    )


def _record(
    store: Store,
    load_id: str,
    load_no: int,
    label: str,
    started: datetime,
    read: ReadResult,
    loaded: int,
    duplicates: int,
    rejects: list[Reject],
) -> None:
    now = _now()
    store.execute(
        "INSERT INTO loads (load_id, source, started_at, finished_at, n_rows, n_loaded, "
        "n_duplicates, n_rejected, load_no) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [load_id, label, started, now, read.n_rows, loaded, duplicates, len(rejects), load_no],
    )
    if rejects:
        import pandas as pd

        frame = pd.DataFrame(
            {
                "load_id": load_id,
                "file": label,
                "row": [r.row for r in rejects],
                "field": [r.field for r in rejects],
                "reason": [r.reason for r in rejects],
                "raw": [r.raw for r in rejects],
                "rejected_at": now,
            }
        )
        cur = store.cursor()
        cur.register("_rejects_df", frame)
        try:
            cur.execute("INSERT INTO rejects SELECT * FROM _rejects_df")
        finally:
            cur.unregister("_rejects_df")


def _write_rejects(ws: Workspace, load_id: str, label: str, rejects: list[Reject]) -> str:
    import csv

    folder = ws.path / "rejects"
    folder.mkdir(exist_ok=True)
    path = folder / f"{load_id}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "row", "field", "reason", "raw"])
        for r in rejects:
            writer.writerow([label, r.row, r.field, r.reason, r.raw])
    return str(path)


def load_spend(ws: Workspace, source: Any) -> int:
    """Load ad spend (columns date, channel, campaign, amount); a re-load replaces the same days.

    Returns the number of rows stored.

    Raises:
        InvalidFile: a required column is missing or a value does not parse.
    """
    store = ws.store
    with store.lock:
        read_source(store, source)
        cols = [r[0] for r in store.fetchall("DESCRIBE _src")]
        missing = [c for c in ("date", "channel", "amount") if c not in cols]
        if missing:
            raise InvalidFile(f"spend needs column(s) {', '.join(missing)}", field=missing[0])
        campaign = '"campaign"' if "campaign" in cols else "''"
        bad = store.fetchall(
            "SELECT rowid + 1 FROM _src WHERE try_cast(date AS DATE) IS NULL "
            "OR try_cast(amount AS DOUBLE) IS NULL OR channel IS NULL LIMIT 1"
        )
        if bad:
            raise InvalidFile("date, channel or amount missing or not parseable", row=bad[0][0])
        with store.transaction() as cur:
            cur.execute(
                f"""
                INSERT OR REPLACE INTO spend
                SELECT CAST(date AS DATE), lower(CAST(channel AS VARCHAR)),
                       coalesce(CAST({campaign} AS VARCHAR), ''), sum(CAST(amount AS DOUBLE))
                FROM _src GROUP BY ALL
                """
            )
            n = int(first_value(cur, "SELECT count(*) FROM _src"))
        store.execute("DROP TABLE IF EXISTS _src")
    return n

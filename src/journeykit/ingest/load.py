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
from journeykit.schema.events import EVENT_COLUMNS

if TYPE_CHECKING:
    from journeykit.store import Store, Workspace

Progress = Callable[[str, float], None]

STORED = [c for c in EVENT_COLUMNS if c not in ("seq", "prev_event", "prev_ts", "person_id")]


@dataclass(frozen=True)
class LoadReport:
    """The outcome of one load.

    Attributes:
        load_id: id of this load (``loads`` and ``rejects`` tables).
        source: the file name or a description of the table.
        rows: rows read from the source (including rejected ones).
        loaded: new events stored.
        duplicates: rows whose event id was already stored (or repeated in the source).
        rejected: rows refused; the first ones are in ``rejects``.
        rejects: (row, field, reason) of refused rows, row numbers as in the source file.
        notices: things worth knowing that did not refuse rows (unknown columns kept, ...).
        merges: people merged by this load.
        rejects_file: where every refused row was written, if any.
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


def load(
    ws: Workspace,
    source: Any,
    *,
    mapping: Mapping[str, str] | None = None,
    tz: str | None = None,
    source_name: str | None = None,
    fmt: str | None = None,
    progress: Progress | None = None,
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

    Returns:
        A :class:`LoadReport`. Good rows are stored even when others are refused.

    Raises:
        InvalidFile: the whole source is unreadable (empty, wrong format).
        InputError: the mapping names columns that do not exist, or there is no timestamp.

    >>> import journeykit, tempfile
    >>> ws = journeykit.open(tempfile.mkdtemp())
    >>> rows = [{"ts": "2026-01-05T10:00:00Z", "event": "Signed Up", "user_id": "u1"}]
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
        )
        rejects = list(read.rejects) + _invalid_rows(store, read)
        notices = []
        if staged.unknown_columns:
            notices.append(
                "columns kept in properties (not canonical): " + ", ".join(staged.unknown_columns)
            )
        step("storing", 0.4)
        with store.transaction():
            loaded, duplicates, merges = _store_staged(ws, step)
            _record(store, load_id, label, started, read, loaded, duplicates, rejects)
        store.execute("DROP TABLE IF EXISTS _src")
        store.execute("DROP TABLE IF EXISTS _staged")
    rejects_file = _write_rejects(ws, load_id, label, rejects) if rejects else None
    step("done", 1.0)
    return LoadReport(
        load_id=load_id,
        source=label,
        rows=read.n_rows,
        loaded=loaded,
        duplicates=duplicates,
        rejected=len(rejects),
        rejects=rejects[:100],
        notices=notices,
        merges=merges,
        rejects_file=rejects_file,
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


def _store_staged(ws: Workspace, step: Progress) -> tuple[int, int, int]:
    """Move ``_staged`` into events: dedupe, stitch, re-order touched people. In a transaction."""
    store = ws.store
    cur = store.cursor()
    total = int(cur.execute("SELECT count(*) FROM _staged").fetchone()[0])
    cur.execute(
        """
        CREATE OR REPLACE TEMP TABLE _fresh AS
        SELECT * EXCLUDE (_row) FROM _staged s
        WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = s.event_id)
        QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY _row) = 1
        """
    )
    loaded = int(cur.execute("SELECT count(*) FROM _fresh").fetchone()[0])
    if loaded == 0:
        return 0, total, 0
    extra = ws.settings.ingest.extra_identifiers
    step("stitching identities", 0.5)
    result = stitch(store, "_fresh", extra=extra)
    _record_traits(store, extra)
    step("ordering journeys", 0.7)
    rewrite_people(store, extra, include_fresh=True)
    return loaded, total - loaded, result.merges


def rewrite_people(store: Store, extra: tuple[str, ...], *, include_fresh: bool) -> None:
    """Re-key and re-order the events of the people in ``_touched`` (and ``_fresh`` rows).

    Events of touched people are taken out and written back sorted by person and time with
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
          WINDOW w AS (PARTITION BY person_id ORDER BY ts, event_id)
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
               arg_min(channel, (ts, event_id)), arg_max(channel, (ts, event_id)),
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
    label: str,
    started: datetime,
    read: ReadResult,
    loaded: int,
    duplicates: int,
    rejects: list[Reject],
) -> None:
    now = _now()
    store.execute(
        "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [load_id, label, started, now, read.n_rows, loaded, duplicates, len(rejects)],
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
            n = int(cur.execute("SELECT count(*) FROM _src").fetchone()[0])
        store.execute("DROP TABLE IF EXISTS _src")
    return n

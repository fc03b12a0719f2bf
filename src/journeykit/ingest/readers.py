"""Reading sources into the store's staging area.

Every source ends up as a temporary DuckDB table ``_src`` whose ``rowid`` is the source row
order; rows a reader itself cannot parse (a CSV line with bad bytes or a wrong column count, a
JSON line that is not JSON) come back as :class:`Reject` records, and the rest go on.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from journeykit.errors import InvalidFile
from journeykit.store import first_value

if TYPE_CHECKING:
    from journeykit.store import Store

CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonl.gz")


@dataclass(frozen=True)
class Reject:
    """One refused row: where it was and why."""

    row: int | None
    field: str | None
    reason: str
    raw: str | None = None


@dataclass
class ReadResult:
    """What a reader staged: the row count, its own rejects, and how to map rows to lines."""

    n_rows: int
    rejects: list[Reject]
    # CSV: data lines lost to reader rejects, so staged row numbers map back to file lines
    skipped_lines: list[int]
    header_lines: int = 1

    def line_of(self, row: int) -> int:
        """The file line (1-based) of the ``row``-th staged row (1-based)."""
        line = row + self.header_lines
        # every skipped line at or before the candidate line pushes the row one line down
        while True:
            shift = bisect.bisect_right(self.skipped_lines, line)
            candidate = row + self.header_lines + shift
            if candidate == line:
                return line
            line = candidate


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in (*CSV_SUFFIXES, *PARQUET_SUFFIXES, *JSON_SUFFIXES):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def read_source(store: Store, source: Any, *, fmt: str | None = None) -> ReadResult:
    """Stage ``source`` (a path or a table) as the temp table ``_src``.

    Raises:
        InvalidFile: the file is missing, empty, or not the format its name says.
    """
    cur = store.cursor()
    cur.execute("DROP TABLE IF EXISTS _src")
    if (
        isinstance(source, list | tuple)
        and source
        and all(isinstance(p, str | Path) for p in source)
    ):
        paths = [Path(p) for p in source]
        if not all(_suffix(p) in PARQUET_SUFFIXES for p in paths):
            raise InvalidFile("a list of files is read as Parquet: give .parquet files only")
        return _read_parquet(store, paths)
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise InvalidFile("no such file", file=str(path))
        if path.stat().st_size == 0:
            raise InvalidFile("the file is empty", file=str(path))
        kind = fmt or _suffix(path)
        if kind in CSV_SUFFIXES or kind == "csv":
            return _read_csv(store, path)
        if kind in PARQUET_SUFFIXES or kind == "parquet":
            return _read_parquet(store, path)
        if kind in JSON_SUFFIXES or kind in ("json", "jsonl"):
            return _read_jsonl(store, path)
        raise InvalidFile(
            f"unknown file type {path.suffix!r}: expected .csv, .tsv, .parquet or .jsonl",
            file=str(path),
        )
    table = to_arrow(source)
    _stage_arrow(store, table)
    return ReadResult(n_rows=table.num_rows, rejects=[], skipped_lines=[], header_lines=0)


def to_arrow(data: Any) -> pa.Table:
    """Turn a pandas or Polars DataFrame, an Arrow table, or a list of dicts into Arrow."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, list):
        return _rows_to_arrow(data)
    if hasattr(data, "to_arrow") and type(data).__module__.startswith("polars"):
        return data.to_arrow()
    if type(data).__module__.startswith("pandas"):
        frame = data.copy()
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = frame[col].map(_json_cell)
        return pa.Table.from_pandas(frame, preserve_index=False)
    raise InvalidFile(f"cannot load an object of type {type(data).__name__}")


def _json_cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, separators=(",", ":"))
    return value


def _rows_to_arrow(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows of dicts to an all-string Arrow table (nested values as JSON text)."""
    columns: dict[str, list[Any]] = {}
    for i, row in enumerate(rows):
        for key in row:
            if key not in columns:
                columns[key] = [None] * i
        for key, values in columns.items():
            value = row.get(key)
            if value is None:
                values.append(None)
            elif isinstance(value, dict | list):
                values.append(json.dumps(value, default=str, separators=(",", ":")))
            else:
                values.append(str(value) if not isinstance(value, bool) else str(value).lower())
    if not columns:
        return pa.table({"_empty": pa.array([None] * len(rows), pa.string())})
    return pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})


def _clean_names(table: pa.Table) -> pa.Table:
    """Column names without NUL characters (the engine cuts a name at its first NUL)."""
    names = table.column_names
    if not any("\x00" in n for n in names):
        return table
    out: list[str] = []
    for name in names:
        clean = name.replace("\x00", "")
        while clean in out or (clean != name and clean in names):
            clean += "_"
        out.append(clean)
    return table.rename_columns(out)


def _stage_arrow(store: Store, table: pa.Table) -> None:
    table = _clean_names(table)
    cur = store.cursor()
    cur.register("_arrow_src", table)
    try:
        cur.execute("CREATE TEMP TABLE _src AS SELECT * FROM _arrow_src")
    finally:
        cur.unregister("_arrow_src")


def _read_csv(store: Store, path: Path) -> ReadResult:
    cur = store.cursor()
    delim = "\t" if ".tsv" in path.name.lower() else None
    options = "all_varchar=true, header=true, store_rejects=true, sample_size=-1"
    if delim:
        options += ", delim='\t'"
    try:
        cur.execute(f"CREATE TEMP TABLE _src AS SELECT * FROM read_csv(?, {options})", [str(path)])
        errors = cur.execute(
            "SELECT line, column_name, error_type, error_message, csv_line FROM reject_errors "
            "ORDER BY line"
        ).fetchall()
    except duckdb.Error as exc:
        raise InvalidFile(f"cannot read as CSV: {_first_line(exc)}", file=str(path)) from exc
    rejects = [
        Reject(
            row=int(line),
            field=col if isinstance(col, str) else None,
            reason=_csv_reason(kind, message),
            raw=raw,
        )
        for line, col, kind, message, raw in errors
    ]
    n_rows = int(first_value(cur, "SELECT count(*) FROM _src"))
    columns = [r[0] for r in cur.execute("DESCRIBE _src").fetchall()]
    if n_rows == 0 and not rejects and columns in (["column0"], []):
        raise InvalidFile("the file has no rows", file=str(path))
    skipped = sorted({int(r.row) for r in rejects if r.row is not None})
    return ReadResult(n_rows=n_rows + len(skipped), rejects=rejects, skipped_lines=skipped)


def _csv_reason(kind: str, message: str) -> str:
    if kind == "INVALID ENCODING" or "unicode" in str(message).lower():
        return "bytes that are not UTF-8"
    if kind in ("TOO MANY COLUMNS", "MISSING COLUMNS"):
        return str(message).split("\n")[0].lower().replace("expected number", "expected number")
    return str(message).split("\n")[0]


def _read_parquet(store: Store, path: Path | list[Path]) -> ReadResult:
    cur = store.cursor()
    files = [str(p) for p in path] if isinstance(path, list) else [str(path)]
    try:
        cur.execute("CREATE TEMP TABLE _src AS SELECT * FROM read_parquet(?)", [files])
    except duckdb.Error as exc:
        raise InvalidFile(f"cannot read as Parquet: {_first_line(exc)}", file=str(path)) from exc
    n_rows = int(first_value(cur, "SELECT count(*) FROM _src"))
    return ReadResult(n_rows=n_rows, rejects=[], skipped_lines=[], header_lines=0)


def _read_jsonl(store: Store, path: Path) -> ReadResult:
    """JSON Lines (or one JSON array): parsed line by line so one bad line costs one row."""
    raw = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        import gzip

        raw = gzip.decompress(raw)
    text_start = raw.lstrip()[:1]
    rows: list[dict[str, Any]] = []
    rejects: list[Reject] = []
    lines: list[int] = []
    if text_start == b"[":
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidFile(f"not valid JSON: {exc}", file=str(path)) from exc
        for i, item in enumerate(data, start=1):
            if isinstance(item, dict):
                rows.append(item)
                lines.append(i)
            else:
                rejects.append(Reject(i, None, "not a JSON object"))
    else:
        for i, line in enumerate(raw.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError:
                rejects.append(Reject(i, None, "bytes that are not UTF-8", _preview(line)))
                continue
            except json.JSONDecodeError as exc:
                rejects.append(Reject(i, None, f"not valid JSON ({exc.msg})", _preview(line)))
                continue
            if not isinstance(item, dict):
                rejects.append(Reject(i, None, "not a JSON object", _preview(line)))
                continue
            rows.append(item)
            lines.append(i)
    if not rows and not rejects:
        raise InvalidFile("the file has no rows", file=str(path))
    if not rows and all(r.reason.startswith("not valid JSON") for r in rejects):
        raise InvalidFile("no line of the file is JSON: is it really JSON Lines?", file=str(path))
    table = _rows_to_arrow(rows) if rows else pa.table({"_empty": pa.array([], pa.string())})
    _stage_arrow(store, table.append_column("_line", pa.array(lines, pa.int64())))
    return ReadResult(
        n_rows=len(rows) + len(rejects), rejects=rejects, skipped_lines=[], header_lines=0
    )


def _preview(line: bytes) -> str:
    return line[:200].decode("utf-8", errors="replace")


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().split("\n")[0]

"""Loading benchmark: journeykit's loader beside a plain DuckDB read of the same file.

    .venv/bin/python bench/bench_ingest.py               # 1M events
    .venv/bin/python bench/bench_ingest.py --events 10000000

Each measurement runs in its own process so peak memory (max RSS) is its own. Writes the
table to docs/benchmarks/ingest.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks" / "ingest.md"


def make_files(folder: Path, n: int) -> tuple[Path, Path]:
    """Synthetic events in the raw layout: ~25 events a person, a share identified."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(1)
    people = max(1, n // 25)
    person = rng.integers(0, people, n)
    ts = np.datetime64("2026-06-01") + rng.integers(0, 120 * 86400, n).astype("timedelta64[s]")
    names = np.array(
        [
            "Page Viewed",
            "Product Viewed",
            "Product Added",
            "Checkout Started",
            "Order Completed",
            "Email Opened",
            "Chat Started",
            "Store Visited",
        ]
    )
    event = names[rng.integers(0, len(names), n)]
    identified = rng.random(n) < 0.4
    anon = np.char.add("a", person.astype(str))
    user = np.where(identified, np.char.add("u", person.astype(str)), None)
    table = pa.table(
        {
            "event_id": np.char.add("e", np.arange(n).astype(str)),
            "ts": ts.astype("datetime64[us]"),
            "event": event,
            "channel": np.where(rng.random(n) < 0.5, "web", "app"),
            "anonymous_id": anon,
            "user_id": pa.array(user, pa.string()),
            "revenue": np.where(event == "Order Completed", rng.gamma(2, 30, n).round(2), np.nan),
        }
    )
    parquet = folder / "events.parquet"
    csv = folder / "events.csv"
    pq.write_table(table, parquet, row_group_size=500_000)
    pacsv.write_csv(table, csv)
    return parquet, csv


def child(kind: str, path: str, workspace: str) -> None:
    start = time.perf_counter()
    if kind == "demo":
        import journeykit
        from journeykit.demo import generate, scale_for_events
        from journeykit.ingest import load

        files = generate(Path(workspace) / "files", people=scale_for_events(int(path)))
        ws = journeykit.open(Path(workspace) / "ws")
        n = load(ws, list(files.events)).loaded
    elif kind.startswith("duckdb"):
        import duckdb

        con = duckdb.connect(str(Path(workspace) / "plain.duckdb"))
        reader = "read_parquet" if kind == "duckdb-parquet" else "read_csv"
        con.execute(f"CREATE TABLE events AS SELECT * FROM {reader}(?)", [path])
        n = con.execute("SELECT count(*) FROM events").fetchone()[0]
    else:
        import journeykit
        from journeykit.ingest import load

        ws = journeykit.open(workspace)
        n = load(ws, path).loaded
    seconds = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rows": n, "rss_mb": rss_mb}))


def measure(kind: str, path: Path | int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as ws:
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, str(path), ws],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {mem:.0f} GiB, {cpu}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--demo-events", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=3)
    parser.add_argument("--make", nargs=2)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.make:
        make_files(Path(args.make[0]), int(args.make[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        # made in its own process: a child forked from a big parent would report its peak
        subprocess.run([sys.executable, __file__, "--make", tmp, str(args.events)], check=True)
        parquet, csv = Path(tmp) / "events.parquet", Path(tmp) / "events.csv"
        rows = []
        for label, kind, path in [
            ("journeykit load (Parquet)", "journeykit", parquet),
            ("plain DuckDB read_parquet", "duckdb-parquet", parquet),
            ("journeykit load (CSV)", "journeykit", csv),
            ("plain DuckDB read_csv", "duckdb-csv", csv),
            ("demo generation + load", "demo", args.demo_events),
        ]:
            m = measure(kind, path)
            rows.append((label, m["rows"], m["seconds"], m["rows"] / m["seconds"], m["rss_mb"]))
            print(f"{label}: {m['seconds']:.2f} s, {m['rss_mb']:.0f} MB", file=sys.stderr)
    lines = [
        "# Loading benchmark",
        "",
        f"Machine: {machine()}.",
        f"Command: `.venv/bin/python bench/bench_ingest.py --events {args.events} "
        f"--demo-events {args.demo_events}`",
        "",
        "Synthetic events (~25 per person, 40 % identified), one file each; journeykit's load",
        "validates, normalises, dedupes, stitches identities and writes events in journey order",
        "(seq / prev_event maintained); the plain DuckDB rows only copy the file into a table.",
        "",
        "| what | events | seconds | events/s | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {a} | {b:,} | {c:.2f} | {d:,.0f} | {e:,.0f} |" for a, b, c, d, e in rows]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

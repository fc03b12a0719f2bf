"""What erasure to the byte costs: ``forget`` with and without rewriting the store's file.

Loads ``--events`` events of ``--people`` people (with e-mail, phone and properties), then
erases one person without the rewrite (rows deleted, bytes left in the file) and another with
it (the file rebuilt from its live data), and prints the times and the file sizes as JSON.

    .venv/bin/python bench/bench_forget.py                    # 1M events
    .venv/bin/python bench/bench_forget.py --events 200000
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=20_000)
    args = parser.parse_args()

    import pandas as pd

    import journeykit
    from journeykit.ingest import forget, load

    folder = Path(tempfile.mkdtemp()) / "ws"
    n, people = args.events, args.people
    frame = pd.DataFrame(
        {
            "ts": pd.Timestamp("2026-01-01") + pd.to_timedelta(range(n), unit="s"),
            "event": [f"Step {i % 7}" for i in range(n)],
            "user_id": [f"user-{i % people}" for i in range(n)],
            "email": [f"person{i % people}@example.com" for i in range(n)],
            "phone": [f"+1 (555) {i % people:07d}" for i in range(n)],
            "properties": [json.dumps({"address": f"{i % people} Main Street"}) for i in range(n)],
        }
    )
    out: dict[str, object] = {"events": n, "people": people}
    with journeykit.open(folder) as ws:
        started = time.perf_counter()
        load(ws, frame)
        out["load_seconds"] = round(time.perf_counter() - started, 2)
        ws.store.execute("CHECKPOINT")
        db = folder / "journeykit.duckdb"
        out["file_bytes"] = db.stat().st_size
        started = time.perf_counter()
        forget(ws, "user-1", rewrite_store=False)
        out["forget_without_rewrite_seconds"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        forget(ws, "user-2")
        out["forget_with_rewrite_seconds"] = round(time.perf_counter() - started, 2)
        out["file_bytes_after"] = db.stat().st_size
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""Benchmark the journey analytics against a plain full scan on the demo data.

Runs, on a demo workspace of about 1M events (``--big``: 10M), a full scan
(``GROUP BY event``), a 4-step funnel, the transition matrix, the step matrix, the top path
variants and 8-week retention, each in its own process (so peak memory is per analytic),
best of ``--repeat`` runs. Prints a markdown table and writes docs/benchmarks/analytics.md.

    .venv/bin/python bench/bench_analytics.py            # 1M events
    .venv/bin/python bench/bench_analytics.py --big      # 10M events
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPS = ["scan", "funnel", "transitions", "step_matrix", "variants", "retention"]


def run_op(workspace: str, op: str, repeat: int) -> float:
    """Run one analytic ``repeat`` times in this process; return the best wall time."""
    import journeykit
    from journeykit.analytics import funnel, retention, step_matrix, transition_matrix, variants

    ws = journeykit.open(workspace)
    ev = ws.table("events")
    calls = {
        "scan": lambda: ev.group_by("event").agg(n=ev.count()).to_pandas(),
        "funnel": lambda: funnel(
            ws,
            ["Session Started", "Product Viewed", "Checkout Started", "Order Completed"],
            window="7d",
        ),
        "transitions": lambda: transition_matrix(ws),
        "step_matrix": lambda: step_matrix(ws, max_steps=10),
        "variants": lambda: variants(ws, goal="Order Completed", top=20, max_length=15),
        "retention": lambda: retention(ws, grain="week", periods=8),
    }
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        calls[op]()
        best = min(best, time.perf_counter() - t)
    ws.close()
    return best


def prepare(workspace: Path, events: int) -> int:
    """Generate and load the demo once (kept in ``workspace`` for later runs)."""
    import journeykit
    from journeykit.demo import generate, scale_for_events
    from journeykit.ingest import load

    ws = journeykit.open(workspace)
    n = ws.summary().events
    if n == 0:
        data = workspace.parent / (workspace.name + "-data")
        files = generate(data, people=scale_for_events(events), seed=7)
        load(ws, list(files.events))
        n = ws.summary().events
    ws.close()
    return n


def machine() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(
                line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), {mem} RAM, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="10M events instead of 1M")
    parser.add_argument("--events", type=int, default=None, help="events (overrides --big)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workspace", default=None, help="where the loaded demo is kept")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "analytics.md"))
    parser.add_argument("--child", nargs=2, metavar=("WORKSPACE", "OP"), help=argparse.SUPPRESS)
    parser.add_argument("--prepare", nargs=2, metavar=("WORKSPACE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        print(prepare(Path(args.prepare[0]), int(args.prepare[1])))
        return
    if args.child:
        print(run_op(args.child[0], args.child[1], args.repeat))
        return
    events = args.events or (10_000_000 if args.big else 1_000_000)
    workspace = Path(args.workspace or f"/tmp/journeykit-bench-analytics-{events}")
    t = time.perf_counter()
    # in a child: Linux counts a parent's memory at fork in its children's peak RSS
    prep = subprocess.run(
        [sys.executable, __file__, "--prepare", str(workspace), str(events)],
        check=True,
        capture_output=True,
        text=True,
    )
    n = int(prep.stdout.strip().splitlines()[-1])
    setup = time.perf_counter() - t
    rows = []
    for op in OPS:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--repeat", str(args.repeat), "--child", str(workspace), op],
            stdout=subprocess.PIPE,
            text=True,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        out = proc.stdout.read() if proc.stdout else ""
        if status != 0:
            raise SystemExit(f"{op} failed")
        rows.append((op, float(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024))
    scan = rows[0][1]
    lines = [
        f"# Analytics benchmark ({n:,} demo events)",
        "",
        f"Machine: {machine()}. Command: `.venv/bin/python bench/bench_analytics.py"
        + (" --big" if args.big else "")
        + f"` (best of {args.repeat}; each analytic in its own process; setup {setup:.0f} s).",
        "",
        "| analytic | seconds | × full scan | peak RSS (MiB) |",
        "|---|---:|---:|---:|",
    ]
    names = {
        "scan": "full scan (GROUP BY event)",
        "funnel": "4-step funnel, 7-day window",
        "transitions": "transition matrix",
        "step_matrix": "step matrix (10 steps)",
        "variants": "top 20 variants (goal, 15 steps)",
        "retention": "8-week retention",
    }
    for op, secs, rss in rows:
        lines.append(f"| {names[op]} | {secs:.3f} | {secs / scan:.1f} | {rss:.0f} |")
    lines += [
        "",
        "The scan groups one dictionary-encoded column; the analytics join each person's",
        "matching events (funnel), collect ordered paths (variants) or join cohorts to",
        "activity (retention). Target: each within 4x of the scan at 10M events (`--big`).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

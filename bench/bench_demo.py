"""Demo data generation speed and memory: events per second and peak RSS by size.

    .venv/bin/python bench/bench_demo.py                      # 1M events (3 runs) and 5M
    .venv/bin/python bench/bench_demo.py --events 100000000   # add a 100M-event run
    .venv/bin/python bench/bench_demo.py --scenario bank      # the demo bank

Each run is its own process (so peak memory is its own) writing to a temporary folder; the
sizes are asked for in events (``scale_for_events``). Writes the table to
docs/benchmarks/demo.md (the bank: docs/benchmarks/demo-bank.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTS = {
    "retail": ROOT / "docs" / "benchmarks" / "demo.md",
    "bank": ROOT / "docs" / "benchmarks" / "demo-bank.md",
}


def child(events: int, folder: str, scenario: str) -> None:
    from journeykit.demo import generate, scale_for_events

    people = scale_for_events(events, scenario=scenario)  # type: ignore[arg-type]
    start, cpu = time.perf_counter(), time.process_time()
    files = generate(folder, people=people, scenario=scenario)  # type: ignore[arg-type]
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    size = sum(p.stat().st_size for p in Path(folder).iterdir())
    print(
        json.dumps(
            {
                "people": people,
                "events": files.n_events,
                "files": len(files.events),
                "seconds": seconds,
                "cpu_seconds": cpu,
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "disk_mb": size / 2**20,
            }
        )
    )


def run(events: int, scenario: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(events), folder, scenario],
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
    parser.add_argument("--events", type=int, nargs="*", default=[], help="extra sizes")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the 1M size")
    parser.add_argument("--scenario", choices=sorted(OUTS), default="retail")
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        child(int(args.child[0]), args.child[1], args.child[2])
        return
    load = os.getloadavg()[0]
    plan = [(1_000_000, args.repeat), (5_000_000, 1)] + [(n, 1) for n in args.events]
    rows = []
    for events, repeat in plan:
        runs = [run(events, args.scenario) for _ in range(repeat)]
        seconds = statistics.median(r["seconds"] for r in runs)
        cpu = statistics.median(r["cpu_seconds"] for r in runs)
        r = runs[0]
        rows.append(
            (
                r["events"],
                r["people"],
                r["files"],
                seconds,
                r["events"] / seconds,
                cpu,
                max(x["rss_mb"] for x in runs),
                r["disk_mb"],
                repeat,
            )
        )
        print(f"{r['events']:,} events: {seconds:.2f} s (median of {repeat})", file=sys.stderr)
    command = (
        ".venv/bin/python bench/bench_demo.py"
        + (f" --scenario {args.scenario}" if args.scenario != "retail" else "")
        + (f" --repeat {args.repeat}" if args.repeat != 3 else "")
        + (" --events " + " ".join(str(n) for n in args.events) if args.events else "")
    )
    title = "Demo bank" if args.scenario == "bank" else "Demo data"
    lines = [
        f"# {title} generation benchmark",
        "",
        f"Machine: {machine()}; load average {load:.1f} when the run started (the machine is",
        "shared, so figures move with the load).",
        f"Command: `{command}`",
        "",
        f"`journeykit.demo.generate(scenario={args.scenario!r})` at the default 120 days,",
        "people sized by `scale_for_events`; everything included: simulation, ground-truth",
        "measures, event files (zstd Parquet, 1M events each), truth_people, spend and",
        "ground_truth.json.",
        "",
        "Seconds are wall-clock (median of the runs); CPU seconds count both threads (the",
        "simulation and the file writer), so they show the work whatever the machine's load.",
        "",
        "| events | people | files | seconds | events/s | CPU seconds | peak RSS (MB) "
        "| on disk (MB) | runs |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {e:,} | {p:,} | {f} | {s:.2f} | {eps:,.0f} | {cpu:.2f} | {rss:,.0f} | {disk:,.0f} "
        f"| {k} |"
        for e, p, f, s, eps, cpu, rss, disk, k in rows
    ]
    out = OUTS[args.scenario]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

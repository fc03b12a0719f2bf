"""Journey-map benchmark: building the map of the demo data under the shipped demo spec.

    .venv/bin/python bench/bench_map.py                        # demo sized for ~1M events
    .venv/bin/python bench/bench_map.py --big                  # ~10M events
    .venv/bin/python bench/bench_map.py --events 250000
    .venv/bin/python bench/bench_map.py --workspace DIR        # a demo workspace already loaded

Generates the demo and loads it into a workspace (``--keep DIR`` keeps it for the next run;
loading 10M events takes a while), then builds the map three times: once to warm up (imports,
first queries), once timed step by step, and once with comment sentiment (the default of
``journeykit map``). Rendering the HTML page is timed too. Writes the table to
docs/benchmarks/map.md (one section per size). The target is 10 s for the map of 10M events.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks" / "map.md"
TARGET_SECONDS = 10.0


def machine() -> str:
    cpu, mem = "unknown CPU", "unknown memory"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        mem = f"{mem_kb / 1024**2:.0f} GiB"
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores, {mem}, {cpu}, Python {platform.python_version()}"


def load_average() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def prepare(args: argparse.Namespace, tmp: Path) -> tuple[Any, list[tuple[str, float, str]]]:
    import journeykit
    from journeykit.demo import generate, scale_for_events
    from journeykit.ingest import load

    rows: list[tuple[str, float, str]] = []
    if args.workspace:
        return journeykit.open(args.workspace), rows
    base = Path(args.keep) if args.keep else tmp
    ws_dir = base / "ws"
    done = base / "loaded"
    if done.exists():
        return journeykit.open(ws_dir), rows
    people = scale_for_events(args.events)
    start = time.perf_counter()
    files = generate(base / "data", people=people, seed=7)
    rows.append(("generate demo (setup)", time.perf_counter() - start, f"{people:,} people"))
    ws = journeykit.open(ws_dir)
    start = time.perf_counter()
    for path in files.events:
        load(ws, path)
    rows.append(("load into workspace (setup)", time.perf_counter() - start, ""))
    done.write_text("ok")
    return ws, rows


def run(args: argparse.Namespace) -> str:
    from journeykit.journey.model import build_map
    from journeykit.journey.spec import demo_spec_path
    from journeykit.render import comment_scorer
    from journeykit.render.html import write_html

    with tempfile.TemporaryDirectory() as tmp:
        ws, rows = prepare(args, Path(tmp))
        n_events = int(ws.table("events").count().execute())
        n_people = int(ws.table("people").count().execute())
        spec = demo_spec_path()
        build_map(ws, spec, replicates=20)  # warm-up: imports and first queries
        start = time.perf_counter()
        jm = build_map(ws, spec)
        total = time.perf_counter() - start
        for step, seconds in jm.timings.items():
            rows.append((f"  {step}", seconds, ""))
        rows.append(
            (
                "**map** (survey scores)",
                total,
                f"{len(jm.pains)} pain points, {len(jm.opportunities)} opportunities",
            )
        )
        scorer = comment_scorer()
        if scorer is not None:
            scorer(["warm up the sentiment model"])
            start = time.perf_counter()
            build_map(ws, spec, sentiment=scorer)
            rows.append(
                ("map with comment sentiment", time.perf_counter() - start, "journeykit.voc model")
            )
        start = time.perf_counter()
        write_html(jm, Path(tmp) / "map.html")
        size = (Path(tmp) / "map.html").stat().st_size
        rows.append(("write the HTML page", time.perf_counter() - start, f"{size / 1e6:.1f} MB"))
        ws.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if n_events >= 9_500_000:
        verdict = "meets" if total <= TARGET_SECONDS else "misses"
        verdict = f"{verdict} the {TARGET_SECONDS:.0f} s target"
    else:
        verdict = f"the {TARGET_SECONDS:.0f} s target is for 10M events"
    command = shlex.join([".venv/bin/python", "bench/bench_map.py", *sys.argv[1:]])
    lines = [
        f"## {n_events:,} events",
        "",
        f"Command: `{command}`. Load average at the end: {load_average()} (the machine is",
        f"shared). {n_people:,} people. Peak RSS of the run: {peak:,.0f} MB. The map took",
        f"{total:.1f} s ({verdict}).",
        "",
        "| step | seconds | note |",
        "|---|---:|---|",
        *[f"| {name} | {seconds:.2f} | {note} |" for name, seconds, note in rows],
        "",
    ]
    return "\n".join(lines)


HEADER = """# Journey-map benchmark

Machine: {machine}.

Building the map of the demo data under the shipped spec `journeykit/journey/specs/demo.yaml`
(5 stages, 22 touchpoints, 4 personas, 2 breakdowns): everything `journeykit map` draws, that
is measures per persona and month, stage visits, transitions and conformance, survey emotion,
pain points with evidence, people and paths, what-if (200 bootstrap replicates each) and
opportunities. Steps are timed inside `build_map` (`JourneyMap.timings`); the first build of the
process is a warm-up and not counted. One section per data size; each run replaces its own.
"""


def write(table: str, out: Path) -> None:
    """Put this size's section into the file, keeping the other sizes' sections."""
    import re

    sections: dict[str, str] = {}
    if out.exists():
        for part in re.split(r"(?m)^(?=## )", out.read_text())[1:]:
            sections[part.splitlines()[0]] = part.rstrip() + "\n"
    sections[table.splitlines()[0]] = table.rstrip() + "\n"

    def size(title: str) -> int:
        return int(re.sub(r"[^0-9]", "", title) or 0)

    body = "\n".join(sections[k] for k in sorted(sections, key=size))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(HEADER.format(machine=machine()) + "\n" + body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="demo size in events")
    parser.add_argument("--big", action="store_true", help="10M events")
    parser.add_argument("--workspace", help="use this loaded demo workspace")
    parser.add_argument("--keep", help="generate and load into this folder (reused next time)")
    parser.add_argument("--out", default=str(OUT), help="where to write the table")
    args = parser.parse_args()
    if args.big:
        args.events = 10_000_000
    table = run(args)
    write(table, Path(args.out))
    print(table)


if __name__ == "__main__":
    main()

"""Run every benchmark (default sizes) and gather their tables into docs/benchmarks.md.

    .venv/bin/python bench/run_all.py                 # run all, then gather
    .venv/bin/python bench/run_all.py --gather-only   # only rebuild docs/benchmarks.md
    .venv/bin/python bench/run_all.py ingest voc      # run some

Each ``bench/bench_<topic>.py`` writes ``docs/benchmarks/<topic>.md`` with its machine and
command; this script puts them together in one page.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = ROOT / "docs" / "benchmarks"
OUT = ROOT / "docs" / "benchmarks.md"
#: Benchmarks run more than once, with these arguments (each run writes its own page).
RUNS: dict[str, list[list[str]]] = {"demo": [[], ["--scenario", "bank"]]}
ORDER = [
    "ingest",
    "demo",
    "demo-bank",
    "analytics",
    "map",
    "voc",
    "value",
    "collector",
    "orchestrate",
    "dashboard",
]


def gather() -> None:
    found = {p.stem: p for p in PARTS.glob("*.md")}
    names = [n for n in ORDER if n in found] + sorted(set(found) - set(ORDER))
    body = [
        "# Benchmarks",
        "",
        "Every benchmark is a script in `bench/` that runs one command and writes its own table",
        "(with the machine and the exact command) to `docs/benchmarks/<topic>.md`;",
        "`make bench` (`.venv/bin/python bench/run_all.py`) runs them all at their default sizes",
        "and gathers them here. Figures were taken on this project's 2-core machine; where the",
        "machine was shared with other work while measuring, the section says so.",
        "",
    ]
    for name in names:
        text = found[name].read_text(encoding="utf-8").strip()
        lines = text.splitlines()
        if lines and lines[0].startswith("# "):
            lines[0] = "#" + lines[0]  # one level down inside this page
        body += [*lines, ""]
    OUT.write_text("\n".join(body), encoding="utf-8")
    print(f"wrote {OUT}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("topics", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--gather-only", action="store_true")
    args = parser.parse_args()
    if not args.gather_only:
        scripts = sorted((ROOT / "bench").glob("bench_*.py"))
        for script in scripts:
            topic = script.stem.removeprefix("bench_")
            if args.topics and topic not in args.topics:
                continue
            for extra in RUNS.get(topic, [[]]):
                print(f"== {' '.join([topic, *extra])}", flush=True)
                subprocess.run([sys.executable, str(script), *extra], check=True, cwd=ROOT)
    gather()


if __name__ == "__main__":
    main()

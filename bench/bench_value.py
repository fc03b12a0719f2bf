"""Value-model benchmark: each model of journeykit.analytics.value on the demo data.

    .venv/bin/python bench/bench_value.py                     # demo sized for ~1M events
    .venv/bin/python bench/bench_value.py --big               # ~10M events
    .venv/bin/python bench/bench_value.py --events 250000

Generates the demo, loads it into a fresh workspace, then times each step: the engine query
that pulls the per-person (or per-path) aggregate, and the fit on it. Writes the table to
docs/benchmarks/value.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks" / "value.md"


def machine() -> str:
    cpu = "unknown CPU"
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
        mem = "unknown memory"
    return f"{os.cpu_count()} cores, {mem}, {cpu}, Python {platform.python_version()}"


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def size_of(value: Any) -> str:
    import pandas as pd

    from journeykit.analytics.value.paths import Paths

    if isinstance(value, pd.DataFrame | pd.Series):
        return f"{len(value):,} rows"
    if isinstance(value, Paths):
        return f"{len(value.outcomes):,} paths, {len(value.touches):,} touches"
    return ""


def run(people: int, days: int) -> tuple[int, list[tuple[str, float, str, str]]]:
    import journeykit
    from journeykit.analytics.value import attribution, clv, drivers, paths, personas, predict
    from journeykit.demo import generate
    from journeykit.ingest import load

    rows: list[tuple[str, float, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        files, t_gen = timed(lambda: generate(Path(tmp) / "data", people=people, days=days, seed=7))
        ws = journeykit.open(Path(tmp) / "ws")
        _, t_load = timed(lambda: load(ws, files.events))
        n_events = int(ws.table("events").count().execute())
        rows.append(("generate demo", t_gen, f"{n_events:,} events", "setup"))
        rows.append(("load into workspace", t_load, f"{n_events:,} events", "setup"))

        def step(name: str, fn: Callable[[], Any], note: str = "") -> Any:
            value, seconds = timed(fn)
            rows.append((name, seconds, size_of(value), note))
            print(f"{name}: {seconds:.2f} s", file=sys.stderr)
            return value

        summary = step("RFM summary (engine)", lambda: clv.rfm_summary_from_workspace(ws))
        bg = step("BG/NBD fit", lambda: clv.fit_bgnbd(summary, penalizer=0.001))
        gg = step("Gamma-Gamma fit", lambda: clv.fit_gamma_gamma(summary, penalizer=0.001))
        step(
            "predict CLV (365 days)",
            lambda: clv.predict_clv(summary, purchases=bg, spend=gg),
        )
        p = step("paths (engine, 30-day lookback)", lambda: paths.paths_from_workspace(ws))
        for model in attribution.MODELS:
            step(f"attribution: {model}", lambda m=model: attribution.attribute(p, m))
        step(
            "bootstrap markov (200 resamples)",
            lambda: attribution.bootstrap_attribution(p, "markov", n_boot=200),
        )
        flags = step("driver features (engine)", lambda: drivers.driver_features_from_workspace(ws))
        step("key drivers: converted (logit)", lambda: drivers.key_drivers(
            flags, "converted", features=["store_and_online", "referred", "used_app",
                                          "welcome_email", "long_chat_wait", "support_contacts"]
        ).drivers, "includes importing statsmodels")  # fmt: skip
        step(
            "churn propensity (6 feature pulls, fit, score)",
            lambda: predict.propensity_from_workspace(ws, "churn").scores,
        )
        feats = step(
            "persona features (engine)", lambda: personas.persona_features_from_workspace(ws)
        )
        step("personas (k-means, k=3..6)", lambda: personas.find_personas(feats).assignments)
        ws.close()
    return n_events, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="~10M events instead of ~1M")
    parser.add_argument("--events", type=int, default=None, help="target events (default 1M)")
    parser.add_argument("--days", type=int, default=120)
    args = parser.parse_args()
    from journeykit.demo import scale_for_events

    target = args.events or (10_000_000 if args.big else 1_000_000)
    people = scale_for_events(target, days=args.days)
    n_events, rows = run(people, args.days)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    command = (
        "`.venv/bin/python bench/bench_value.py" + (" " + " ".join(sys.argv[1:])).rstrip() + "`"
    )
    lines = [
        "# Value-model benchmark",
        "",
        f"Machine: {machine()}.",
        f"Command: {command}",
        "",
        f"Demo data: {people:,} people over {args.days} days, {n_events:,} events, one DuckDB",
        "workspace. Each engine step pulls one row per person (or per path / touch); each fit",
        f"runs on that aggregate in-process. Peak RSS of the whole run: {peak:,.0f} MB.",
        "",
        "| step | seconds | output | |",
        "|---|---:|---|---|",
        *(f"| {name} | {sec:.2f} | {out} | {note} |" for name, sec, out, note in rows),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)


if __name__ == "__main__":
    main()
